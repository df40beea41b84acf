package revox

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// doerFunc is a doer made of a function: the layer below the one under test.
type doerFunc func(ctx context.Context, req *request) (any, error)

func (f doerFunc) Do(ctx context.Context, req *request) (any, error) { return f(ctx, req) }

// attemptLog is a layer below the one under test that answers each attempt
// with the next error of a script (nil once spent) after a delay, and
// records when each attempt started, on the bubble's clock.
type attemptLog struct {
	mu     sync.Mutex
	start  time.Time
	at     []time.Duration
	script []error
	delay  time.Duration
}

func (l *attemptLog) Do(ctx context.Context, _ *request) (any, error) {
	l.mu.Lock()
	l.at = append(l.at, time.Since(l.start))
	var err error
	if len(l.script) > 0 {
		err, l.script = l.script[0], l.script[1:]
	}
	l.mu.Unlock()
	if l.delay > 0 {
		select {
		case <-time.After(l.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return "ok", nil
}

func (l *attemptLog) attempts() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.at)
}

func status(code int, retryAfter time.Duration) error {
	return &APIError{StatusCode: code, Method: http.MethodGet, Path: "/call", RetryAfter: retryAfter}
}

var listRequest = &request{Endpoint: "list_calls", Path: "/call", URL: "http://revox.test/call?page=0&page_size=10"}

// The default back-off: full jitter over a window of 100 ms doubled at each
// retry up to 2 s, never below the upstream's Retry-After, never past the
// caller's deadline. The random source is injected: "top" draws the top of
// each window, "bottom" its bottom.
func TestBackoffSchedule(t *testing.T) {
	t.Parallel()
	top := func(n int64) int64 { return n - 1 }
	bottom := func(int64) int64 { return 0 }
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, m := range v {
			out = append(out, time.Duration(m)*time.Millisecond)
		}
		return out
	}
	unavailable := []error{status(503, 0), status(503, 0), status(503, 0), status(503, 0), status(503, 0), status(503, 0), status(503, 0)}
	for _, tc := range []struct {
		name     string
		rand     func(int64) int64
		retries  int
		script   []error
		deadline time.Duration // 0: none
		want     []time.Duration
		wantErr  bool
	}{
		{name: "the window starts at 100 ms and doubles up to 2 s", rand: top, retries: 7, script: unavailable,
			want: ms(0, 100, 300, 700, 1500, 3100, 5100, 7100)},
		{name: "full jitter: the bottom of the window is no wait at all", rand: bottom, retries: 3, script: unavailable,
			want: ms(0, 0, 0, 0), wantErr: true},
		{name: "a longer Retry-After is waited for whole", rand: top, retries: 2,
			script: []error{status(429, 3*time.Second), status(503, 0)}, want: ms(0, 3000, 3200)},
		{name: "a shorter Retry-After does not shorten the back-off", rand: top, retries: 4,
			script: []error{status(503, 0), status(503, 0), status(429, 50*time.Millisecond)}, want: ms(0, 100, 300, 700)},
		{name: "no retry is made that the deadline would cut", rand: top, retries: 7, script: unavailable,
			deadline: 1200 * time.Millisecond, want: ms(0, 100, 300, 700), wantErr: true},
		{name: "a Retry-After past the deadline ends the retries at once", rand: top, retries: 2,
			script: []error{status(429, 30*time.Second)}, deadline: 10 * time.Second, want: ms(0), wantErr: true},
		{name: "the budget bounds the retries", rand: top, retries: 2, script: unavailable,
			want: ms(0, 100, 300), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				log := &attemptLog{start: time.Now(), script: slices.Clone(tc.script)}
				b := defaultSettings().backoff
				b.rand = tc.rand
				r := &retrier{next: log, max: tc.retries, backoff: b, observer: nopObserver{}}
				ctx := t.Context()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				_, err := r.Do(ctx, listRequest)
				if (err != nil) != tc.wantErr {
					t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
				}
				if got := log.attempts(); !slices.Equal(got, tc.want) {
					t.Fatalf("attempts at %v, want %v", got, tc.want)
				}
				if tc.deadline > 0 && time.Since(log.start) > tc.deadline {
					t.Fatalf("gave up at %v, past the deadline %v", time.Since(log.start), tc.deadline)
				}
			})
		})
	}
}

// A shared request goes on while any of its callers waits, and stops when
// the last one leaves.
func TestCoalescedRequestIsCancelledWithItsLastCaller(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var started, cancelled atomic.Int64
		c := newCoalescer(doerFunc(func(ctx context.Context, _ *request) (any, error) {
			started.Add(1)
			<-ctx.Done()
			cancelled.Add(1)
			return nil, ctx.Err()
		}))
		first, leaveFirst := context.WithCancel(t.Context())
		second, leaveSecond := context.WithCancel(t.Context())
		errs := make(chan error, 2)
		go func() { _, err := c.Do(first, listRequest); errs <- err }()
		synctest.Wait()
		go func() { _, err := c.Do(second, listRequest); errs <- err }()
		synctest.Wait()
		if started.Load() != 1 || !slices.Equal(c.waiters(), []int{2}) {
			t.Fatalf("%d requests, waiters %v: want one request with two callers", started.Load(), c.waiters())
		}

		leaveFirst()
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("the caller who left got %v, want context.Canceled", err)
		}
		synctest.Wait()
		if cancelled.Load() != 0 {
			t.Fatal("the shared request was cancelled while a caller still waited")
		}

		leaveSecond()
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("the last caller got %v, want context.Canceled", err)
		}
		synctest.Wait()
		if cancelled.Load() != 1 {
			t.Fatal("the shared request went on after its last caller left")
		}
		if len(c.waiters()) != 0 {
			t.Fatal("the abandoned flight is still joinable")
		}
	})
}

// A caller that joins a shared request keeps its own retry budget: when the
// request fails after the retries of the caller that started it, the joiner
// retries with what it has left.
func TestAJoinerKeepsItsOwnRetryBudget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		script []error
	}{
		{"under 5xx", []error{status(503, 0), status(502, 0), status(500, 0)}},
		{"under 429", []error{status(429, 0), status(429, 0), status(429, 0)}},
		{"under both", []error{status(429, 0), status(503, 0), status(429, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				// Attempts take 100 ms; back-off waits the top of its
				// window: the starter's attempts run at 0, 200 and 500 ms.
				log := &attemptLog{start: time.Now(), script: slices.Clone(tc.script), delay: 100 * time.Millisecond}
				b := defaultSettings().backoff
				b.rand = func(n int64) int64 { return n - 1 }
				d := &retrier{next: newCoalescer(log), max: 2, backoff: b, observer: nopObserver{}}

				starter := make(chan error, 1)
				go func() { _, err := d.Do(t.Context(), listRequest); starter <- err }()
				time.Sleep(550 * time.Millisecond) // the starter's last attempt is in flight
				v, err := d.Do(t.Context(), listRequest)
				if err != nil || v != "ok" {
					t.Fatalf("the joiner got %v, %v; it had two retries left", v, err)
				}
				if err := <-starter; err == nil {
					t.Fatal("the starter succeeded past its budget")
				}
				want := []time.Duration{0, 200 * time.Millisecond, 500 * time.Millisecond, 700 * time.Millisecond}
				if got := log.attempts(); !slices.Equal(got, want) {
					t.Fatalf("attempts at %v, want %v (the joiner's retry alone at 700 ms)", got, want)
				}
			})
		})
	}
}

// A request whose every caller left is not joined by the next caller, even
// while the transport below still winds it down: the next caller gets a
// request of its own, not the abandoned one's cancellation.
func TestTheNextCallerDoesNotJoinAnAbandonedRequest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var started atomic.Int64
		c := newCoalescer(doerFunc(func(ctx context.Context, _ *request) (any, error) {
			started.Add(1)
			select {
			case <-ctx.Done():
				time.Sleep(time.Second) // a transport slow to notice
				return nil, ctx.Err()
			case <-time.After(200 * time.Millisecond):
				return "page", nil
			}
		}))
		leaving, leave := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer leave()
		if _, err := c.Do(leaving, listRequest); err == nil {
			t.Fatal("the caller who left got an answer")
		}
		start := time.Now()
		v, err := c.Do(t.Context(), listRequest)
		if err != nil || v != "page" || started.Load() != 2 {
			t.Fatalf("the next caller got %v, %v after %d requests, want the page of a request of its own", v, err, started.Load())
		}
		if waited := time.Since(start); waited != 200*time.Millisecond {
			t.Fatalf("the next caller waited %v, want its own request's 200ms", waited)
		}
		time.Sleep(time.Second) // the abandoned request winds down
	})
}
