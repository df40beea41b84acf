package redisstore

import "context"

// Crash stops r as a killed process would: its subscribers end and it polls
// no more, but its leases stay in Redis until they expire.
func (r *LiveRegistry) Crash() {
	r.mu.Lock()
	r.crashed = true
	r.mu.Unlock()
	_ = r.Shutdown(context.Background())
}
