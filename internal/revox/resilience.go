package revox

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/sony/gobreaker/v2"
)

// Defaults of the resilience options.
const (
	DefaultMaxRetries       = 2
	DefaultBackoffBase      = 100 * time.Millisecond
	DefaultBackoffMax       = 2 * time.Second
	DefaultMaxConcurrency   = 32
	DefaultBreakerThreshold = 5
	DefaultBreakerOpenFor   = 10 * time.Second
	DefaultCacheEntries     = 1024
)

// ErrCircuitOpen is returned, wrapped with ErrUnavailable, while the circuit
// breaker holds requests back after repeated upstream failures.
var ErrCircuitOpen = errors.New("revox: circuit breaker open")

// Observer receives the client's events, for metrics. Calls come from many
// goroutines and must be quick.
type Observer interface {
	// UpstreamRequest reports one HTTP attempt: endpoint is "list_calls" or
	// "get_call", status 0 means no HTTP response.
	UpstreamRequest(endpoint string, status int, d time.Duration)
	// UpstreamRetry reports a retry about to be made.
	UpstreamRetry(endpoint string)
	// BreakerState reports the breaker's new state: "closed", "half-open" or "open".
	BreakerState(state string)
}

type nopObserver struct{}

func (nopObserver) UpstreamRequest(string, int, time.Duration) {}
func (nopObserver) UpstreamRetry(string)                       {}
func (nopObserver) BreakerState(string)                        {}

// WithMaxRetries sets how many times one request is retried (on connection
// errors, timeouts, 429 and 5xx; GETs only, so always idempotent).
func WithMaxRetries(n int) Option { return func(c *Client) { c.maxRetries = max(n, 0) } }

// WithBackoff sets the exponential back-off between retries: base, doubled
// each time, capped at maxWait, with full jitter. A Retry-After from the
// upstream is waited for when it is longer.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *Client) { c.backoffBase, c.backoffMax = base, maxWait }
}

// WithMaxConcurrency bounds the upstream requests in flight from this client.
func WithMaxConcurrency(n int) Option {
	return func(c *Client) { c.sem = make(chan struct{}, max(n, 1)) }
}

// WithBreaker opens the circuit after threshold consecutive failures (5xx,
// timeouts, connection errors) and lets one probe through after openFor.
// threshold 0 disables the breaker.
func WithBreaker(threshold int, openFor time.Duration) Option {
	return func(c *Client) { c.breakerThreshold, c.breakerOpenFor = threshold, openFor }
}

// WithCache keeps successful responses for ttl, keyed by credential and URL
// (at most entries of them). ttl 0 disables it, the default.
func WithCache(ttl time.Duration, entries int) Option {
	return func(c *Client) { c.cacheTTL, c.cacheEntries = ttl, entries }
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

// WithSharedCache shares cached responses through s, under the same TTL as
// WithCache (which must be on for it to take effect). Keys hold the
// credential: s must hash them before storing. Coalescing stays per
// replica: concurrent identical requests on one replica share one upstream
// request, and the replicas share its result once it is stored.
func WithSharedCache(s SharedCache) Option { return func(c *Client) { c.shared = s } }

// WithObserver sets the receiver of the client's events.
func WithObserver(o Observer) Option { return func(c *Client) { c.observer = o } }

type credentialKey struct{}

// WithCredential returns a context whose requests authenticate with key
// instead of the client's own (the gateway's forward auth mode).
func WithCredential(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, credentialKey{}, key)
}

func (c *Client) credential(ctx context.Context) string {
	if k, ok := ctx.Value(credentialKey{}).(string); ok {
		return k
	}
	return c.apiKey
}

// setupResilience builds the breaker and cache once options are applied.
func (c *Client) setupResilience() {
	if c.observer == nil {
		c.observer = nopObserver{}
	}
	if c.sem == nil {
		c.sem = make(chan struct{}, DefaultMaxConcurrency)
	}
	if c.breakerThreshold > 0 {
		c.breaker = gobreaker.NewCircuitBreaker[*fetched](gobreaker.Settings{
			Name:        "revox",
			MaxRequests: 1,
			Timeout:     c.breakerOpenFor,
			ReadyToTrip: func(counts gobreaker.Counts) bool {
				return counts.ConsecutiveFailures >= uint32(c.breakerThreshold)
			},
			IsSuccessful: func(err error) bool { return !countsAsOutage(err) },
			OnStateChange: func(_ string, _, to gobreaker.State) {
				c.observer.BreakerState(to.String())
			},
		})
	}
	if c.cacheTTL > 0 {
		c.cache = expirable.NewLRU[string, any](max(c.cacheEntries, 1), nil, c.cacheTTL)
	} else {
		c.shared = nil
	}
	c.flights = map[string]*flight{}
}

// BreakerOpen reports whether the breaker is holding requests back.
func (c *Client) BreakerOpen() bool {
	return c.breaker != nil && c.breaker.State() == gobreaker.StateOpen
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

// backoff is the wait before retry number n (1-based): full jitter over an
// exponentially growing window, never shorter than the upstream asked.
func (c *Client) backoff(n int, err error) time.Duration {
	window := c.backoffBase << (n - 1)
	if window > c.backoffMax || window <= 0 {
		window = c.backoffMax
	}
	wait := time.Duration(rand.Int64N(int64(window) + 1))
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
		wait = apiErr.RetryAfter
	}
	return wait
}

// fetched is one successful response, decoded.
type fetched struct{ value any }

// fetch runs one logical upstream GET: from the cache, or joined to an
// identical request already in flight (same credential, URL and variant of
// decoding), or as attempts with retries. decode turns a 2xx body into the
// value.
func (c *Client) fetch(ctx context.Context, endpoint, path, target, variant string, decode func([]byte) (any, error)) (any, error) {
	cred := c.credential(ctx)
	key := cred + "\x00" + target
	if variant != "" {
		// A body decoded another way (fewer fields) is another value.
		key += "\x00" + variant
	}
	if c.cache != nil {
		if v, ok := c.cache.Get(key); ok {
			return v, nil
		}
	}
	if c.shared != nil {
		if body, ok := c.shared.Get(ctx, key); ok {
			if v, err := decode(body); err == nil {
				c.cache.Add(key, v)
				return v, nil
			}
		}
	}
	v, err := c.coalesce(ctx, key, path, func(fctx context.Context) (any, error) {
		if c.shared == nil {
			return c.withRetries(fctx, endpoint, path, target, cred, decode)
		}
		var raw []byte
		v, err := c.withRetries(fctx, endpoint, path, target, cred, func(data []byte) (any, error) {
			v, err := decode(data)
			if err == nil {
				raw = bytes.Clone(data)
			}
			return v, err
		})
		if err == nil && raw != nil {
			c.shared.Set(fctx, key, raw, c.cacheTTL)
		}
		return v, err
	})
	if err == nil && c.cache != nil {
		c.cache.Add(key, v)
	}
	return v, err
}

// flight is one upstream request shared by every caller asking for the
// same thing meanwhile.
type flight struct {
	done    chan struct{}
	value   any
	err     error
	waiters int
	cancel  context.CancelFunc
}

// coalesce runs fn once for concurrent callers with the same key. fn runs
// under a context that keeps the first caller's deadline but is cancelled
// only when every waiting caller has gone, so one frontend's disconnect
// does not fail the others, and the last one's stops the upstream request.
func (c *Client) coalesce(ctx context.Context, key, path string, fn func(context.Context) (any, error)) (any, error) {
	c.flightMu.Lock()
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
			f.value, f.err = fn(fctx)
			c.flightMu.Lock()
			if c.flights[key] == f {
				delete(c.flights, key)
			}
			c.flightMu.Unlock()
			cancel()
			close(f.done)
		}()
	}
	c.flightMu.Unlock()

	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		c.flightMu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			if c.flights[key] == f {
				delete(c.flights, key)
			}
		}
		c.flightMu.Unlock()
		return nil, &TransportError{Method: http.MethodGet, Path: path, Timeout: errors.Is(ctx.Err(), context.DeadlineExceeded), Err: ctx.Err()}
	}
}

// withRetries makes attempts until one succeeds, the error is not worth
// retrying, the retry budget is spent, or the next wait would outlive the
// caller's deadline.
func (c *Client) withRetries(ctx context.Context, endpoint, path, target, cred string, decode func([]byte) (any, error)) (any, error) {
	for n := 0; ; n++ {
		v, err := c.attempt(ctx, endpoint, path, target, cred, decode)
		if err == nil || n >= c.maxRetries || !retryable(err) {
			return v, err
		}
		wait := c.backoff(n+1, err)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			return nil, err
		}
		c.observer.UpstreamRetry(endpoint)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
	}
}

// attempt makes one HTTP request, holding a concurrency slot and passing
// the circuit breaker.
func (c *Client) attempt(ctx context.Context, endpoint, path, target, cred string, decode func([]byte) (any, error)) (any, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, transportError(ctx, http.MethodGet, path, ctx.Err())
	}
	defer func() { <-c.sem }()
	if c.breaker == nil {
		return c.do(ctx, endpoint, path, target, cred, decode)
	}
	res, err := c.breaker.Execute(func() (*fetched, error) {
		v, err := c.do(ctx, endpoint, path, target, cred, decode)
		if err != nil {
			return nil, err
		}
		return &fetched{value: v}, nil
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return nil, &TransportError{Method: http.MethodGet, Path: path, Err: ErrCircuitOpen}
	}
	if err != nil {
		return nil, err
	}
	return res.value, nil
}

// probeCache remembers the last readiness probe, so that frequent probes
// from an orchestrator cost the upstream at most one request per interval.
type probeCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// readyProbeInterval is how long a readiness answer is reused.
const readyProbeInterval = 2 * time.Second

// Ready reports whether the upstream can serve: the breaker is not open and
// the API answers over HTTP (any status below 500 counts: a 401 still proves
// it is reachable). Answers are reused for two seconds.
func (c *Client) Ready(ctx context.Context) error {
	if c.BreakerOpen() {
		return ErrCircuitOpen
	}
	c.probe.mu.Lock()
	defer c.probe.mu.Unlock()
	if time.Since(c.probe.at) < readyProbeInterval {
		return c.probe.err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c.probe.err = c.probeOnce(ctx)
	c.probe.at = time.Now()
	return c.probe.err
}

func (c *Client) probeOnce(ctx context.Context) error {
	target := c.base + "/call?page=" + strconv.Itoa(c.firstPage) + "&page_size=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, http.MethodGet, "/call", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return &APIError{StatusCode: resp.StatusCode, Method: http.MethodGet, Path: "/call"}
	}
	return nil
}
