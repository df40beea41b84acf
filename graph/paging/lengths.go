package paging

import (
	"context"
	"encoding/hex"
	"sync"
	"time"
)

// Defaults of NewLengths as the gateway uses it (LIST_LENGTH_TTL).
const (
	DefaultLengthsTTL     = 10 * time.Minute
	DefaultLengthsEntries = 1024
)

// SharedLengths is where replicas share the lengths they learn (Redis): the
// end one replica found spares the others its search. Implementations
// answer false, and store nothing, while their backend is unavailable.
type SharedLengths interface {
	GetLength(ctx context.Context, key string) (int, bool)
	SetLength(ctx context.Context, key string, n int, ttl time.Duration)
}

// Lengths remembers, for a while, how long an attempt list was when a
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
// to save, which is why it may be kept for minutes. The TTL bounds how long
// a scope's figure stays in memory, the entry bound how much memory all of
// them take. With a SharedLengths behind it, a length missing here is asked
// of the shared store, and one learned here is stored there when it is new
// or half its TTL old (not on every request that sees the end). It is safe
// for concurrent use.
type Lengths struct {
	ttl    time.Duration
	max    int
	shared SharedLengths
	mu     sync.Mutex
	byID   map[lengthKey]lengthEntry
}

type lengthKey struct{ scope, filter string }

type lengthEntry struct {
	n  int
	at time.Time
}

// NewLengths returns a memo keeping each length for ttl, at most entries of
// them; with a ttl of 0 or less it remembers nothing, and shares nothing.
func NewLengths(ttl time.Duration, entries int) *Lengths {
	return &Lengths{ttl: ttl, max: max(entries, 1), byID: map[lengthKey]lengthEntry{}}
}

// Share makes l ask shared on a miss and tell it what l learns; it returns l.
func (l *Lengths) Share(shared SharedLengths) *Lengths {
	if l != nil {
		l.shared = shared
	}
	return l
}

// sharedKey names k in the shared store: the scope is a digest, in hex.
func (k lengthKey) sharedKey() string { return hex.EncodeToString([]byte(k.scope)) + "/" + k.filter }

// get returns the remembered length of the list of scope under filter.
func (l *Lengths) get(ctx context.Context, scope, filter string) (int, bool) {
	if l == nil || l.ttl <= 0 {
		return 0, false
	}
	k := lengthKey{scope, filter}
	l.mu.Lock()
	e, ok := l.byID[k]
	l.mu.Unlock()
	if ok && time.Since(e.at) < l.ttl {
		return e.n, true
	}
	if l.shared == nil {
		return 0, false
	}
	n, ok := l.shared.GetLength(ctx, k.sharedKey())
	if ok {
		l.remember(k, n, time.Now())
	}
	return n, ok
}

// put remembers n as the length of the list of scope under filter.
func (l *Lengths) put(ctx context.Context, scope, filter string, n int) {
	if l == nil || l.ttl <= 0 {
		return
	}
	k, now := lengthKey{scope, filter}, time.Now()
	l.mu.Lock()
	e, ok := l.byID[k]
	l.mu.Unlock()
	if ok && e.n == n && now.Sub(e.at) < l.ttl/2 {
		return // told already, and still fresh
	}
	l.remember(k, n, now)
	if l.shared != nil {
		l.shared.SetLength(ctx, k.sharedKey(), n, l.ttl)
	}
}

func (l *Lengths) remember(k lengthKey, n int, now time.Time) {
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
