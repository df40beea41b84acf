//go:build !unix

package closedloop

import "time"

// ProcessCPU is not measured here: CPU figures read 0.
func ProcessCPU() time.Duration { return 0 }
