package revox

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/sony/gobreaker/v2"
)

// request is one upstream GET as it passes through the client's layers:
// everything a layer needs to know of it, and nothing in the context.
type request struct {
	// Endpoint names the API method for metrics: "list_calls" or
	// "get_call"; empty (the readiness probe) is not reported.
	Endpoint string
	// Path is the escaped path, for errors.
	Path string
	// URL is the absolute URL requested.
	URL string
	// Credential is sent as "Authorization: Bearer"; empty sends none.
	Credential string
	// Variant names the decoding when Decode depends on more than the URL
	// (a page decoded for a few fields): another variant is another value.
	Variant string
	// Decode turns a 2xx body into the value. It must keep nothing of the
	// bytes it is given: they are reused.
	Decode func([]byte) (any, error)
}

// key identifies the value a request asks for: requests with the same key
// share flights and cache entries.
func (r *request) key() string {
	return r.Credential + "\x00" + r.URL + "\x00" + r.Variant
}

// doer performs a request: the thin HTTP client, or a layer around another
// doer. Layers are safe for concurrent use.
type doer interface {
	Do(ctx context.Context, req *request) (any, error)
}

// stack is the client's layers, composed by chain.
type stack struct {
	// reads is every layer, outermost first.
	reads doer
	// fresh skips the cache and coalescing: a read right after a write
	// must not be answered from before it.
	fresh   doer
	breaker *breaker // nil when disabled
	cache   *cache   // nil when disabled
}

// chain composes the layers, outermost first, around the HTTP transport:
// the one place the client's resilience is assembled. A read crosses them
// in this order:
//
//	cache      answers from a recent identical request
//	shared     answers from another replica's recent identical request (Redis)
//	retries    retries failed attempts within this caller's budget and deadline
//	coalescing joins an identical attempt already in flight
//	limit      holds one of the bounded upstream slots
//	breaker    fails fast while the upstream is down
//	transport  makes the HTTP request and decodes the body
//
// Retries sit above coalescing so that every caller keeps its own retry
// budget: one that joined an attempt that failed may try again though the
// caller that started it has no retries left.
func chain(s *settings, t *transport) stack {
	var st stack
	var d doer = t
	if s.breakerThreshold > 0 {
		st.breaker = newBreaker(d, s.breakerThreshold, s.breakerOpenFor, s.observer)
		d = st.breaker
	}
	d = &limiter{next: d, slots: make(chan struct{}, max(s.maxConcurrency, 1))}
	st.fresh = &retrier{next: d, max: s.maxRetries, backoff: s.backoff, observer: s.observer}
	d = newCoalescer(d)
	d = &retrier{next: d, max: s.maxRetries, backoff: s.backoff, observer: s.observer}
	if s.cacheTTL > 0 && s.shared != nil {
		d = &sharedLayer{next: d, store: s.shared, ttl: s.cacheTTL}
	}
	if s.cacheTTL > 0 {
		entries, _ := lru.New[string, cached](max(s.cacheEntries, 1))
		st.cache = &cache{next: d, ttl: s.cacheTTL, entries: entries}
		d = st.cache
	}
	st.reads = d
	return st
}

// cache keeps successful values for ttl, keyed by credential, URL and
// variant, the least recently used going first when full. Errors are never
// kept. Expired entries are dropped when met (no goroutine sweeps them).
type cache struct {
	next    doer
	ttl     time.Duration
	entries *lru.Cache[string, cached]
}

// forget drops the entries of credential cred.
func (c *cache) forget(cred string) {
	prefix := cred + "\x00"
	for _, k := range c.entries.Keys() {
		if strings.HasPrefix(k, prefix) {
			c.entries.Remove(k)
		}
	}
}

type cached struct {
	value   any
	expires time.Time
}

func (c *cache) Do(ctx context.Context, req *request) (any, error) {
	key := req.key()
	if e, ok := c.entries.Get(key); ok {
		if time.Now().Before(e.expires) {
			return e.value, nil
		}
		c.entries.Remove(key)
	}
	v, err := c.next.Do(ctx, req)
	if err == nil {
		c.entries.Add(key, cached{value: v, expires: time.Now().Add(c.ttl)})
	}
	return v, err
}

// SharedCache keeps upstream response bodies where the gateway's other
// replicas find them (redisstore.ResponseCache). The client's in-memory
// cache stays in front of it; an implementation that cannot answer reports
// a miss and counts its own failures.
type SharedCache interface {
	// Get returns the body stored under key, and false on a miss.
	Get(ctx context.Context, key string) ([]byte, bool)
	// Set stores body under key for ttl.
	Set(ctx context.Context, key string, body []byte, ttl time.Duration)
}

// sharedLayer asks the shared cache on a local miss and stores the bodies
// it fetched. Keys hold the credential: the store hashes them. Coalescing
// stays per replica: the replicas share a result once it is stored.
type sharedLayer struct {
	next  doer
	store SharedCache
	ttl   time.Duration
}

func (l *sharedLayer) Do(ctx context.Context, req *request) (any, error) {
	key := req.key()
	if body, ok := l.store.Get(ctx, key); ok {
		if v, err := req.Decode(body); err == nil {
			return v, nil
		}
	}
	var raw []byte
	inner := *req
	inner.Decode = func(data []byte) (any, error) {
		v, err := req.Decode(data)
		if err == nil {
			raw = bytes.Clone(data)
		}
		return v, err
	}
	v, err := l.next.Do(ctx, &inner)
	if err == nil && raw != nil {
		l.store.Set(ctx, key, raw, l.ttl)
	}
	return v, err
}

// retrier makes attempts until one succeeds, the error is not worth
// retrying, the caller's budget is spent, or the next wait would outlive
// the caller's deadline.
type retrier struct {
	next     doer
	max      int
	backoff  backoff
	observer Observer
}

func (r *retrier) Do(ctx context.Context, req *request) (any, error) {
	for n := 0; ; n++ {
		v, err := r.next.Do(ctx, req)
		if err == nil || n >= r.max || !retryable(err) || ctx.Err() != nil {
			return v, err
		}
		wait := r.backoff.wait(n+1, err)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			return nil, err
		}
		r.observer.UpstreamRetry(req.Endpoint)
		if !sleep(ctx, wait) {
			return nil, err
		}
	}
}

// sleep waits d, and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff is the schedule of waits between retries: full jitter over a
// window of base doubled at each retry, capped at max, never shorter than
// the Retry-After the upstream asked for.
type backoff struct {
	base, max time.Duration
	// rand returns a uniform value in [0, n); math/rand/v2's Int64N.
	rand func(n int64) int64
}

// wait is the wait before retry number n (1-based) after err.
func (b backoff) wait(n int, err error) time.Duration {
	window := b.base
	for i := 1; i < n && window < b.max; i++ {
		window *= 2
	}
	if window > b.max || window <= 0 {
		window = b.max
	}
	wait := time.Duration(b.rand(int64(window) + 1))
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
		wait = apiErr.RetryAfter
	}
	return wait
}

// retryable reports whether another attempt may succeed.
func retryable(err error) bool {
	if errors.Is(err, ErrCircuitOpen) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500
	}
	return countsAsOutage(err)
}

// countsAsOutage tells the failures that say the upstream is unwell (and
// open the breaker) from those that are about the request (4xx, bad body)
// or about the caller (its own cancellation).
func countsAsOutage(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500
	}
	var trErr *TransportError
	if errors.As(err, &trErr) {
		return !errors.Is(trErr.Err, context.Canceled)
	}
	return false
}

// coalescer runs one attempt for concurrent callers with the same key.
// The attempt runs under a context that keeps the first caller's deadline
// but is cancelled only when every waiting caller has gone, so one
// frontend's disconnect does not fail the others, and the last one's stops
// the upstream request.
type coalescer struct {
	next    doer
	mu      sync.Mutex
	flights map[string]*flight
}

func newCoalescer(next doer) *coalescer {
	return &coalescer{next: next, flights: map[string]*flight{}}
}

// flight is one attempt shared by every caller asking for the same thing
// meanwhile.
type flight struct {
	done    chan struct{}
	value   any
	err     error
	waiters int
	cancel  context.CancelFunc
}

func (c *coalescer) Do(ctx context.Context, req *request) (any, error) {
	key := req.key()
	c.mu.Lock()
	f, ok := c.flights[key]
	if ok {
		f.waiters++
	} else {
		var (
			fctx   context.Context
			cancel context.CancelFunc
		)
		if deadline, has := ctx.Deadline(); has {
			fctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), deadline)
		} else {
			fctx, cancel = context.WithCancel(context.WithoutCancel(ctx))
		}
		f = &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
		c.flights[key] = f
		go func() {
			f.value, f.err = c.next.Do(fctx, req)
			c.mu.Lock()
			if c.flights[key] == f {
				delete(c.flights, key)
			}
			c.mu.Unlock()
			cancel()
			close(f.done)
		}()
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			if c.flights[key] == f {
				delete(c.flights, key)
			}
		}
		c.mu.Unlock()
		return nil, &TransportError{Method: http.MethodGet, Path: req.Path, Timeout: errors.Is(ctx.Err(), context.DeadlineExceeded), Err: ctx.Err()}
	}
}

// waiters is the number of callers waiting on each flight, for tests.
func (c *coalescer) waiters() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n []int
	for _, f := range c.flights {
		n = append(n, f.waiters)
	}
	return n
}

// limiter bounds the upstream requests in flight; a caller waits for a slot
// within its own context.
type limiter struct {
	next  doer
	slots chan struct{}
}

func (l *limiter) Do(ctx context.Context, req *request) (any, error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, transportError(ctx, http.MethodGet, req.Path, ctx.Err())
	}
	defer func() { <-l.slots }()
	return l.next.Do(ctx, req)
}

// ErrCircuitOpen is returned, wrapped with ErrUnavailable, while the circuit
// breaker holds requests back after repeated upstream failures.
var ErrCircuitOpen = errors.New("revox: circuit breaker open")

// breaker opens after consecutive outages (5xx, timeouts, connection
// errors) and lets one probe through once the open period is over.
type breaker struct {
	next doer
	cb   *gobreaker.CircuitBreaker[any]
}

func newBreaker(next doer, threshold int, openFor time.Duration, o Observer) *breaker {
	return &breaker{next: next, cb: gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        "revox",
		MaxRequests: 1,
		Timeout:     openFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= uint32(threshold)
		},
		IsSuccessful: func(err error) bool { return !countsAsOutage(err) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			o.BreakerState(to.String())
		},
	})}
}

func (b *breaker) Do(ctx context.Context, req *request) (any, error) {
	v, err := b.cb.Execute(func() (any, error) { return b.next.Do(ctx, req) })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return nil, &TransportError{Method: http.MethodGet, Path: req.Path, Err: ErrCircuitOpen}
	}
	return v, err
}

// open reports whether the breaker is holding requests back.
func (b *breaker) open() bool { return b != nil && b.cb.State() == gobreaker.StateOpen }
