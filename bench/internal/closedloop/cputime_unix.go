//go:build unix

package closedloop

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user and system) this process has used: in a
// benchmark that runs upstream, contender and clients in one process, all
// of them, whatever else the machine runs. On a shared machine it measures
// a contender more steadily than the wall clock does.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
