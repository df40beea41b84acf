package paging

import (
	"sync"
	"time"
)

// Defaults of NewLengths as the gateway uses it.
const (
	DefaultLengthsTTL     = time.Minute
	DefaultLengthsEntries = 1024
)

// Lengths remembers, for a short time, how long an attempt list was when a
// request last saw its end, per scope (whose list: a credential) and
// statuses filter. The upstream reports no total, so `last: n` without
// `before` must otherwise search for the end, several round trips in
// sequence; with a remembered length L it fetches the window before L and
// the attempt at L in one round trip.
//
// A remembered length is a guess, never an answer: the round trip that uses
// it proves it (the attempt before L exists, the one at L does not) or falls
// back to the search, starting from what it saw. A stale length therefore
// never serves a wrong page; it costs at most the round trips it was meant
// to save. The TTL bounds how long a scope's figure stays in memory, the
// entry bound how much memory all of them take. It is safe for concurrent
// use.
type Lengths struct {
	ttl  time.Duration
	max  int
	mu   sync.Mutex
	byID map[lengthKey]lengthEntry
}

type lengthKey struct{ scope, filter string }

type lengthEntry struct {
	n  int
	at time.Time
}

// NewLengths returns a memo keeping each length for ttl, at most entries of
// them.
func NewLengths(ttl time.Duration, entries int) *Lengths {
	return &Lengths{ttl: ttl, max: max(entries, 1), byID: map[lengthKey]lengthEntry{}}
}

// get returns the remembered length of the list of scope under filter.
func (l *Lengths) get(scope, filter string) (int, bool) {
	if l == nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byID[lengthKey{scope, filter}]
	if !ok || time.Since(e.at) >= l.ttl {
		return 0, false
	}
	return e.n, true
}

// put remembers n as the length of the list of scope under filter.
func (l *Lengths) put(scope, filter string, n int) {
	if l == nil {
		return
	}
	now := time.Now()
	k := lengthKey{scope, filter}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byID[k]; !ok && len(l.byID) >= l.max {
		for old, e := range l.byID {
			if now.Sub(e.at) >= l.ttl {
				delete(l.byID, old)
			}
		}
		for old := range l.byID {
			if len(l.byID) < l.max {
				break
			}
			delete(l.byID, old) // any one: the map's order is random
		}
	}
	l.byID[k] = lengthEntry{n: n, at: now}
}
