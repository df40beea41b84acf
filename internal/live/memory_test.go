package live_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/revox-graphql/gateway/internal/live"
)

// recorder is a Subscriber that keeps everything it is sent.
type recorder struct {
	mu      sync.Mutex
	values  []any
	errs    []error
	closed  bool
	updates []live.Update
}

func (r *recorder) Send(u live.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		panic("Send after Close")
	}
	r.updates = append(r.updates, u)
	if u.Err != nil {
		r.errs = append(r.errs, u.Err)
	} else {
		r.values = append(r.values, u.Value)
	}
}

func (r *recorder) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		panic("Close twice")
	}
	r.closed = true
}

func (r *recorder) snapshot() (values []any, errs []error, closed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.values...), append([]error(nil), r.errs...), r.closed
}

// upstream is a fake watched thing: a value, a failure switch, a poll count.
type upstream struct {
	mu    sync.Mutex
	value string
	err   error
	final bool
	polls atomic.Int64
}

func (u *upstream) set(v string, err error, final bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.value, u.err, u.final = v, err, final
}

func (u *upstream) poll(context.Context) (live.Snapshot, error) {
	u.polls.Add(1)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err != nil {
		return live.Snapshot{}, u.err
	}
	return live.Snapshot{Value: u.value, JSON: []byte(strconv.Quote(u.value)), Final: u.final}, nil
}

var errDown = errors.New("upstream down")

func TestMemory(t *testing.T) {
	t.Parallel()
	key := live.Key{Field: "callUpdated", Args: "order-1"}

	t.Run("a thousand subscribers of one key share one poll per interval", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{Interval: 2 * time.Second})
			up := &upstream{value: "queued"}
			recs := make([]*recorder, 1000)
			for i := range recs {
				recs[i] = &recorder{}
				if _, err := reg.Subscribe(key, up.poll, recs[i]); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Wait()
			if got := up.polls.Load(); got != 1 {
				t.Fatalf("polls after subscribing: %d, want 1", got)
			}
			time.Sleep(10 * time.Second)
			synctest.Wait()
			if got := up.polls.Load(); got != 6 {
				t.Fatalf("polls after 5 intervals: %d, want 6", got)
			}
			if s := reg.Stats(); s.Pollers != 1 || s.Subscriptions != 1000 {
				t.Fatalf("stats %+v, want 1 poller, 1000 subscriptions", s)
			}
			for _, r := range recs {
				if v, _, _ := r.snapshot(); len(v) != 1 || v[0] != "queued" {
					t.Fatalf("a subscriber got %v, want [queued] once", v)
				}
			}
			_ = reg.Shutdown(t.Context())
		})
	})

	t.Run("only changes are emitted, in order", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{Interval: time.Second})
			up := &upstream{value: "queued"}
			r := &recorder{}
			if _, err := reg.Subscribe(key, up.poll, r); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"queued", "calling", "calling", "calling", "ringing", "ringing"} {
				up.set(v, nil, false)
				time.Sleep(time.Second)
				synctest.Wait()
			}
			values, _, closed := r.snapshot()
			if want := []any{"queued", "calling", "ringing"}; !equal(values, want) || closed {
				t.Fatalf("got %v closed=%v, want %v open", values, closed, want)
			}
			_ = reg.Shutdown(t.Context())
		})
	})

	t.Run("a failure streak is one error event, the poller backs off to the bound and recovers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{Interval: 2 * time.Second, MaxBackoff: 30 * time.Second})
			up := &upstream{value: "calling"}
			r := &recorder{}
			if _, err := reg.Subscribe(key, up.poll, r); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			up.set("", errDown, false)
			time.Sleep(2 * time.Second) // first failure
			synctest.Wait()
			before := up.polls.Load()
			time.Sleep(5 * time.Minute)
			synctest.Wait()
			// Waits of 8, 16, then 30 s at most: about 10 polls in 5 minutes, not 150.
			if n := up.polls.Load() - before; n < 9 || n > 12 {
				t.Fatalf("polls during 5 failing minutes: %d, want about 10 (backed off to 30s)", n)
			}
			_, errs, closed := r.snapshot()
			if len(errs) != 1 || !errors.Is(errs[0], errDown) || closed {
				t.Fatalf("errors %v closed=%v, want one error and the subscription open", errs, closed)
			}
			up.set("ringing", nil, false)
			time.Sleep(30 * time.Second)
			synctest.Wait()
			values, errs, _ := r.snapshot()
			if want := []any{"calling", "ringing"}; !equal(values, want) || len(errs) != 1 {
				t.Fatalf("after recovery: values %v errors %v, want %v and still one error", values, errs, want)
			}
			// A second streak is a second event.
			up.set("", errDown, false)
			time.Sleep(2 * time.Second)
			synctest.Wait()
			if _, errs, _ := r.snapshot(); len(errs) != 2 {
				t.Fatalf("errors after a second streak: %d, want 2", len(errs))
			}
			_ = reg.Shutdown(t.Context())
		})
	})

	t.Run("a final error is delivered, then the subscriptions complete and the poller stops", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{})
			up := &upstream{err: live.Final(errors.New("not found"))}
			r := &recorder{}
			if _, err := reg.Subscribe(key, up.poll, r); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			_, errs, closed := r.snapshot()
			if len(errs) != 1 || !live.IsFinal(errs[0]) || !closed {
				t.Fatalf("errors %v closed=%v, want one final error and completion", errs, closed)
			}
			if s := reg.Stats(); s != (live.Stats{}) {
				t.Fatalf("stats %+v, want nothing left", s)
			}
		})
	})

	t.Run("a final value is delivered, then the subscriptions complete", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{Interval: time.Second})
			up := &upstream{value: "ongoing"}
			r := &recorder{}
			if _, err := reg.Subscribe(key, up.poll, r); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			up.set("completed", nil, true)
			time.Sleep(time.Second)
			synctest.Wait()
			values, _, closed := r.snapshot()
			if want := []any{"ongoing", "completed"}; !equal(values, want) || !closed {
				t.Fatalf("values %v closed=%v, want %v then completion", values, closed, want)
			}
			polls := up.polls.Load()
			time.Sleep(time.Minute)
			if up.polls.Load() != polls || reg.Stats() != (live.Stats{}) {
				t.Fatalf("the poller went on after a final value: %+v", reg.Stats())
			}
		})
	})

	t.Run("a late subscriber gets the last value at once without a poll", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{Interval: time.Second})
			up := &upstream{value: "calling"}
			if _, err := reg.Subscribe(key, up.poll, &recorder{}); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			late := &recorder{}
			if _, err := reg.Subscribe(key, up.poll, late); err != nil {
				t.Fatal(err)
			}
			if v, _, _ := late.snapshot(); !equal(v, []any{"calling"}) || up.polls.Load() != 1 {
				t.Fatalf("late subscriber got %v after %d polls, want [calling] after 1", v, up.polls.Load())
			}
			_ = reg.Shutdown(t.Context())
		})
	})

	t.Run("subscriptions beyond the bound are refused", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{MaxSubscriptions: 3})
			up := &upstream{value: "x"}
			var leave []func()
			for i := range 3 {
				unsub, err := reg.Subscribe(live.Key{Field: "f", Args: strconv.Itoa(i)}, up.poll, &recorder{})
				if err != nil {
					t.Fatal(err)
				}
				leave = append(leave, unsub)
			}
			if _, err := reg.Subscribe(key, up.poll, &recorder{}); !errors.Is(err, live.ErrTooManySubscriptions) {
				t.Fatalf("4th subscription: %v, want ErrTooManySubscriptions", err)
			}
			leave[0]()
			if _, err := reg.Subscribe(key, up.poll, &recorder{}); err != nil {
				t.Fatalf("after one left: %v, want room again", err)
			}
			_ = reg.Shutdown(t.Context())
		})
	})

	t.Run("no poller is left once the last subscriber leaves", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{Interval: time.Second})
			up := &upstream{value: "x"}
			a, _ := reg.Subscribe(key, up.poll, &recorder{})
			b, _ := reg.Subscribe(key, up.poll, &recorder{})
			synctest.Wait()
			a()
			a() // twice is harmless
			if s := reg.Stats(); s.Pollers != 1 || s.Subscriptions != 1 {
				t.Fatalf("after one of two left: %+v", s)
			}
			b()
			synctest.Wait() // the poller goroutine has exited: synctest would report it otherwise
			polls := up.polls.Load()
			time.Sleep(time.Minute)
			if s := reg.Stats(); s != (live.Stats{}) || up.polls.Load() != polls {
				t.Fatalf("after the last left: %+v, %d more polls", s, up.polls.Load()-polls)
			}
		})
	})

	t.Run("a poke polls at once the pollers of the order and the lists of its credentials", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{Interval: time.Hour})
			order, list, otherList, other := &upstream{value: "a"}, &upstream{value: "l"}, &upstream{value: "o"}, &upstream{value: "z"}
			subscribe := func(k live.Key, u *upstream) {
				if _, err := reg.Subscribe(k, u.poll, &recorder{}); err != nil {
					t.Fatal(err)
				}
			}
			subscribe(live.Key{Credential: "k1", Field: "callUpdated", Args: "order-1"}, order)
			subscribe(live.Key{Credential: "k1", Field: "callsUpdated", Args: "first=5"}, list)
			subscribe(live.Key{Credential: "k2", Field: "callsUpdated", Args: "first=5"}, otherList)
			subscribe(live.Key{Credential: "k1", Field: "callUpdated", Args: "order-2"}, other)
			synctest.Wait()
			reg.Poke("callUpdated", "order-1", "callsUpdated")
			synctest.Wait()
			got := []int64{order.polls.Load(), list.polls.Load(), otherList.polls.Load(), other.polls.Load()}
			if want := []int64{2, 2, 1, 1}; !equal(anys(got), anys(want)) {
				t.Fatalf("polls (order, its credential's list, another credential's list, another order) = %v, want %v", got, want)
			}
			_ = reg.Shutdown(t.Context())
		})
	})

	t.Run("shutdown completes every subscription and refuses new ones", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			reg := live.NewMemory(live.MemoryOptions{})
			up := &upstream{value: "x"}
			recs := []*recorder{{}, {}, {}}
			for i, r := range recs {
				if _, err := reg.Subscribe(live.Key{Field: "f", Args: strconv.Itoa(i % 2)}, up.poll, r); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Wait()
			if err := reg.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if _, _, closed := r.snapshot(); !closed {
					t.Fatal("a subscription was not completed")
				}
			}
			if _, err := reg.Subscribe(key, up.poll, &recorder{}); !errors.Is(err, live.ErrShuttingDown) {
				t.Fatalf("subscribing after shutdown: %v, want ErrShuttingDown", err)
			}
		})
	})
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func equal(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
