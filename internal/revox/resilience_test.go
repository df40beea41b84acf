package revox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// memoryTransport serves requests with a handler in memory: no socket, so
// that tests run inside a synctest bubble, on its fake clock.
type memoryTransport struct{ h http.Handler }

func (m memoryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// coalescerOf finds the coalescing layer of c.
func coalescerOf(t *testing.T, c *Client) *coalescer {
	t.Helper()
	for d := c.layers.reads; ; {
		switch l := d.(type) {
		case *coalescer:
			return l
		case *cache:
			d = l.next
		case *retrier:
			d = l.next
		default:
			t.Fatalf("no coalescing layer above %T", d)
		}
	}
}

// scripted is an upstream answering each request with the next status of a
// script (200 with an empty page once the script is spent), counting hits.
type scripted struct {
	mu      sync.Mutex
	script  []int
	hits    atomic.Int64
	retryIn string
	delay   time.Duration
	keys    sync.Map // Authorization header -> hits
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	n, _ := s.keys.LoadOrStore(r.Header.Get("Authorization"), new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	status := http.StatusOK
	if len(s.script) > 0 {
		status, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if status == http.StatusTooManyRequests && s.retryIn != "" {
		w.Header().Set("Retry-After", s.retryIn)
	}
	w.WriteHeader(status)
	if status == http.StatusOK {
		_, _ = w.Write([]byte(`{"calls":[{"id":"a1","status":"completed"}]}`))
	}
}

// newScripted is a client of s, served in memory: it works in a synctest
// bubble.
func newScripted(t *testing.T, s *scripted, opts ...Option) *Client {
	t.Helper()
	c, err := New("http://revox.test", testKey, append([]Option{
		WithHTTPClient(&http.Client{Transport: memoryTransport{s}}), WithBackoff(time.Millisecond, 5*time.Millisecond),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var onePage = ListCallsOptions{Page: 0, PageSize: 10}

func TestRetries(t *testing.T) {
	t.Parallel()
	t.Run("429 and 5xx are retried until success", func(t *testing.T) {
		t.Parallel()
		s := &scripted{script: []int{429, 503}}
		c := newScripted(t, s)
		items, err := c.ListCalls(t.Context(), onePage)
		if err != nil || len(items) != 1 {
			t.Fatalf("ListCalls = %v, %v", items, err)
		}
		if s.hits.Load() != 3 {
			t.Fatalf("%d requests, want 3", s.hits.Load())
		}
	})
	t.Run("the retry budget bounds the attempts", func(t *testing.T) {
		t.Parallel()
		s := &scripted{script: []int{500, 500, 500, 500, 500}}
		c := newScripted(t, s, WithMaxRetries(2), WithBreaker(0, 0))
		_, err := c.ListCalls(t.Context(), onePage)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
		if s.hits.Load() != 3 {
			t.Fatalf("%d requests, want 1 + 2 retries", s.hits.Load())
		}
	})
	t.Run("4xx and malformed bodies are not retried", func(t *testing.T) {
		t.Parallel()
		for _, status := range []int{400, 401, 403, 404, 422} {
			s := &scripted{script: []int{status}}
			c := newScripted(t, s)
			if _, err := c.ListCalls(t.Context(), onePage); err == nil {
				t.Fatalf("%d: no error", status)
			}
			if s.hits.Load() != 1 {
				t.Fatalf("%d was retried: %d requests", status, s.hits.Load())
			}
		}
	})
	t.Run("Retry-After is honoured", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{script: []int{429}, retryIn: "1"}
			c := newScripted(t, s)
			start := time.Now()
			if _, err := c.ListCalls(t.Context(), onePage); err != nil {
				t.Fatal(err)
			}
			if waited := time.Since(start); waited != time.Second {
				t.Fatalf("retried after %v, upstream asked for 1s", waited)
			}
		})
	})
	t.Run("a retry never outlives the caller's deadline", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{script: []int{429, 200}, retryIn: "30"}
			c := newScripted(t, s)
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := c.ListCalls(ctx, onePage)
			if !errors.Is(err, ErrRateLimited) {
				t.Fatalf("err = %v, want the 429 at once", err)
			}
			if time.Since(start) != 0 || s.hits.Load() != 1 {
				t.Fatalf("waited %v and made %d requests for a retry that could not finish in time", time.Since(start), s.hits.Load())
			}
		})
	})
	t.Run("each attempt has its own timeout inside the caller's deadline", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{delay: time.Second}
			c := newScripted(t, s, WithTimeout(50*time.Millisecond), WithMaxRetries(1), WithBreaker(0, 0), WithBackoff(10*time.Millisecond, 10*time.Millisecond))
			start := time.Now()
			_, err := c.ListCalls(t.Context(), onePage)
			var te *TransportError
			if !errors.As(err, &te) || !te.Timeout {
				t.Fatalf("err = %v, want a timeout", err)
			}
			if s.hits.Load() != 2 || time.Since(start) > 110*time.Millisecond {
				t.Fatalf("%d attempts in %v, want 2 of 50ms and a wait of at most 10ms", s.hits.Load(), time.Since(start))
			}
		})
	})
}

func TestConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		_, _ = w.Write([]byte(`{"calls":[]}`))
	}))
	t.Cleanup(srv.Close)
	c, _ := New(srv.URL, testKey, WithMaxConcurrency(3))
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			// distinct pages, so nothing is coalesced
			if _, err := c.ListCalls(t.Context(), ListCallsOptions{Page: i, PageSize: 5}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if peak.Load() > 3 {
		t.Fatalf("%d upstream requests in flight, bound is 3", peak.Load())
	}

	t.Run("waiting for a slot respects the caller's context", func(t *testing.T) {
		blocked := make(chan struct{})
		arrived := make(chan struct{}, 2)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-blocked:
			case <-r.Context().Done():
			}
		}))
		defer slow.Close()
		defer close(blocked)
		c, _ := New(slow.URL, testKey, WithMaxConcurrency(1), WithMaxRetries(0))
		go func() { _, _ = c.ListCalls(t.Context(), ListCallsOptions{Page: 0, PageSize: 1}) }()
		<-arrived // the only slot is taken
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.ListCalls(ctx, ListCallsOptions{Page: 1, PageSize: 1})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the caller's deadline while queued", err)
		}
		if len(arrived) != 0 {
			t.Fatal("the queued request reached the upstream past the concurrency bound")
		}
	})
}

func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var down atomic.Bool
		var hits atomic.Int64
		down.Store(true)
		up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if down.Load() {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			_, _ = w.Write([]byte(`{"calls":[]}`))
		})
		c, _ := New("http://revox.test", testKey, WithHTTPClient(&http.Client{Transport: memoryTransport{up}}),
			WithMaxRetries(0), WithBreaker(3, 100*time.Millisecond))
		for i := range 3 {
			if _, err := c.ListCalls(t.Context(), ListCallsOptions{Page: i, PageSize: 1}); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v", err)
			}
		}
		if !c.BreakerOpen() {
			t.Fatal("breaker still closed after 3 consecutive 502s")
		}
		before := hits.Load()
		_, err := c.ListCalls(t.Context(), ListCallsOptions{Page: 9, PageSize: 1})
		if !errors.Is(err, ErrCircuitOpen) || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v, want ErrCircuitOpen", err)
		}
		if hits.Load() != before {
			t.Fatal("an open breaker still called the upstream")
		}
		if err := c.Ready(t.Context()); !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("Ready = %v while open", err)
		}
		down.Store(false)
		time.Sleep(99 * time.Millisecond)
		if _, err := c.ListCalls(t.Context(), ListCallsOptions{Page: 10, PageSize: 1}); !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("err = %v before the open period is over, want ErrCircuitOpen", err)
		}
		time.Sleep(2 * time.Millisecond) // the open period is over: one probe may pass
		if _, err := c.ListCalls(t.Context(), ListCallsOptions{Page: 10, PageSize: 1}); err != nil {
			t.Fatalf("probe after recovery: %v", err)
		}
		if c.BreakerOpen() {
			t.Fatal("breaker did not close after a successful probe")
		}
		if err := c.Ready(t.Context()); err != nil {
			t.Fatalf("Ready = %v after recovery", err)
		}
	})
}

func TestCoalescing(t *testing.T) {
	t.Parallel()
	t.Run("concurrent identical requests share one upstream request", func(t *testing.T) {
		t.Parallel()
		s := &scripted{delay: 50 * time.Millisecond}
		c := newScripted(t, s)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				items, err := c.ListCalls(t.Context(), onePage)
				if err != nil || len(items) != 1 {
					t.Errorf("ListCalls = %v, %v", items, err)
				}
			})
		}
		wg.Wait()
		if s.hits.Load() != 1 {
			t.Fatalf("%d upstream requests for 20 identical concurrent ones", s.hits.Load())
		}
	})
	t.Run("different credentials never share", func(t *testing.T) {
		t.Parallel()
		s := &scripted{delay: 50 * time.Millisecond}
		c := newScripted(t, s)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				opts := onePage
				opts.Credential = "sk_tenant_" + strconv.Itoa(i%2)
				if _, err := c.ListCalls(t.Context(), opts); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if s.hits.Load() != 2 {
			t.Fatalf("%d upstream requests, want one per credential", s.hits.Load())
		}
		for _, k := range []string{"Bearer sk_tenant_0", "Bearer sk_tenant_1"} {
			if n, ok := s.keys.Load(k); !ok || n.(*atomic.Int64).Load() != 1 {
				t.Fatalf("credential %q was not sent exactly once", k)
			}
		}
	})
	t.Run("one caller leaving does not fail the others; the last one stops the request", func(t *testing.T) {
		t.Parallel()
		var cancelled atomic.Bool
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
				_, _ = w.Write([]byte(`{"calls":[]}`))
			case <-r.Context().Done():
				cancelled.Store(true)
			}
		}))
		t.Cleanup(srv.Close)
		c, _ := New(srv.URL, testKey, WithMaxRetries(0))
		leaver, leave := context.WithCancel(t.Context())
		errc := make(chan error, 2)
		go func() { _, err := c.ListCalls(leaver, onePage); errc <- err }()
		waitForWaiters(t, c, 1)
		go func() { _, err := c.ListCalls(t.Context(), onePage); errc <- err }()
		waitForWaiters(t, c, 2)
		leave()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("leaving caller got %v", err)
		}
		close(release)
		if err := <-errc; err != nil {
			t.Fatalf("staying caller got %v", err)
		}
		if cancelled.Load() {
			t.Fatal("the upstream request was cancelled while a caller still waited")
		}

		stop := make(chan struct{})
		arrived := make(chan struct{}, 1)
		var stopped atomic.Bool
		srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-stop:
			case <-r.Context().Done():
				stopped.Store(true)
			}
		}))
		t.Cleanup(func() { close(stop); srv2.Close() })
		c2, _ := New(srv2.URL, testKey, WithMaxRetries(0))
		only, cancelOnly := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { _, _ = c2.ListCalls(only, onePage); close(done) }()
		<-arrived
		cancelOnly()
		<-done
		deadline := time.Now().Add(time.Second)
		for !stopped.Load() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if !stopped.Load() {
			t.Fatal("the upstream request went on after its last caller left")
		}
	})
}

func TestCache(t *testing.T) {
	t.Parallel()
	t.Run("a value is served until its TTL, per credential", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{}
			c := newScripted(t, s, WithCache(200*time.Millisecond, 16))
			for range 3 {
				if _, err := c.ListCalls(t.Context(), onePage); err != nil {
					t.Fatal(err)
				}
			}
			if s.hits.Load() != 1 {
				t.Fatalf("%d upstream requests with a warm cache", s.hits.Load())
			}
			other := onePage
			other.Credential = "sk_other"
			if _, err := c.ListCalls(t.Context(), other); err != nil {
				t.Fatal(err)
			}
			if s.hits.Load() != 2 {
				t.Fatal("another credential was served from the first one's cache")
			}
			time.Sleep(199 * time.Millisecond)
			if _, err := c.ListCalls(t.Context(), onePage); err != nil || s.hits.Load() != 2 {
				t.Fatalf("a live entry was not served: %v, %d requests", err, s.hits.Load())
			}
			time.Sleep(2 * time.Millisecond)
			if _, err := c.ListCalls(t.Context(), onePage); err != nil {
				t.Fatal(err)
			}
			if s.hits.Load() != 3 {
				t.Fatal("an expired entry was served")
			}
		})
	})
	t.Run("errors are not cached", func(t *testing.T) {
		t.Parallel()
		s := &scripted{script: []int{404}}
		c := newScripted(t, s, WithCache(time.Minute, 16))
		if _, err := c.ListCalls(t.Context(), onePage); err == nil {
			t.Fatal("no error")
		}
		if _, err := c.ListCalls(t.Context(), onePage); err != nil {
			t.Fatalf("second call served the cached error: %v", err)
		}
	})
}

func TestReadyProbesReachability(t *testing.T) {
	t.Parallel()
	s := &scripted{script: []int{401}}
	c := newScripted(t, s)
	if err := c.Ready(t.Context()); err != nil {
		t.Fatalf("a 401 proves the upstream is reachable; Ready = %v", err)
	}
	c2, _ := New("http://127.0.0.1:1", testKey)
	if err := c2.Ready(t.Context()); err == nil {
		t.Fatal("Ready = nil for an unreachable upstream")
	}
}

// waitForWaiters waits until the client's only flight has n callers.
func waitForWaiters(t *testing.T, c *Client, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got := 0
		for _, n := range coalescerOf(t, c).waiters() {
			got = n
		}
		if got == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the flight never had %d callers", n)
}
