package sandbox

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the misbehaviours a FaultInjector adds, each a probability per
// request (drawn in this order, at most one per request), plus a latency
// added to every request.
type Faults struct {
	// Latency is added before every answer.
	Latency time.Duration
	// RateLimited answers 429 with Retry-After: RetryAfterSeconds.
	RateLimited       float64
	RetryAfterSeconds int
	// ServerError answers 503 or 500.
	ServerError float64
	// Malformed answers 200 with a truncated JSON body.
	Malformed float64
	// Reset closes the connection without an answer.
	Reset float64
	// Hang never answers (until the client gives up).
	Hang float64
	// LostWrite applies a POST, then closes the connection without an
	// answer: the write happened but the client cannot know. Other methods
	// drawn into it are served normally.
	LostWrite float64
}

// FaultInjector puts Faults in front of a handler. Its faults can be changed
// while it serves; it counts every request it receives, faulty or not.
type FaultInjector struct {
	next     http.Handler
	faults   atomic.Pointer[Faults]
	mu       sync.Mutex
	rng      *rand.Rand
	requests atomic.Int64
	injected atomic.Int64
}

// NewFaultInjector wraps next; seed makes the fault sequence repeatable for
// requests arriving in the same order.
func NewFaultInjector(next http.Handler, f Faults, seed uint64) *FaultInjector {
	fi := &FaultInjector{next: next, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	fi.faults.Store(&f)
	return fi
}

// Set replaces the faults.
func (fi *FaultInjector) Set(f Faults) { fi.faults.Store(&f) }

// Requests returns the number of requests received.
func (fi *FaultInjector) Requests() int64 { return fi.requests.Load() }

// Injected returns the number of requests answered with a fault.
func (fi *FaultInjector) Injected() int64 { return fi.injected.Load() }

// ServeHTTP applies at most one fault, else passes the request on.
func (fi *FaultInjector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fi.requests.Add(1)
	f := fi.faults.Load()
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	fi.mu.Lock()
	x := fi.rng.Float64()
	fi.mu.Unlock()
	switch {
	case x < f.RateLimited:
		fi.injected.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfterSeconds))
		writeError(w, r, http.StatusTooManyRequests, "rate limit exceeded")
	case x < f.RateLimited+f.ServerError:
		fi.injected.Add(1)
		status := http.StatusServiceUnavailable
		if int(x*1000)%2 == 0 {
			status = http.StatusInternalServerError
		}
		writeError(w, r, status, "upstream failure (injected)")
	case x < f.RateLimited+f.ServerError+f.Malformed:
		fi.injected.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"calls":[{"id":"trunc`))
	case x < f.RateLimited+f.ServerError+f.Malformed+f.Reset:
		fi.injected.Add(1)
		dropConnection(w)
	case x < f.RateLimited+f.ServerError+f.Malformed+f.Reset+f.Hang:
		fi.injected.Add(1)
		<-r.Context().Done()
	case x < f.RateLimited+f.ServerError+f.Malformed+f.Reset+f.Hang+f.LostWrite && r.Method == http.MethodPost:
		fi.injected.Add(1)
		fi.next.ServeHTTP(&unanswered{h: http.Header{}}, r)
		dropConnection(w)
	default:
		fi.next.ServeHTTP(w, r)
	}
}
