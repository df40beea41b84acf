package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/idempotency/storetest"
)

var (
	alice = idempotency.ScopeOf("sk_alice")
	bob   = idempotency.ScopeOf("sk_bob")
	input = idempotency.FingerprintOf([]byte(`{"phone_number":"+15550100"}`))
	other = idempotency.FingerprintOf([]byte(`{"phone_number":"+15550199"}`))
)

// TestMemoryStoreContract runs the cases every Store must pass, on
// synctest's clock.
func TestMemoryStoreContract(t *testing.T) {
	storetest.Run(t,
		func(*testing.T) idempotency.Store { return idempotency.NewMemory(idempotency.MemoryOptions{}) },
		func(t *testing.T, f func(*testing.T)) { synctest.Test(t, f) })
}

func key(name string) idempotency.Key { return idempotency.Key{Scope: alice, Name: name} }

// counted returns an action that counts its runs and answers result.
func counted(n *atomic.Int64, result string) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) {
		n.Add(1)
		return []byte(result), nil
	}
}

func TestRunConcurrentRequestsShareOneWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := idempotency.NewMemory(idempotency.MemoryOptions{})
		var runs atomic.Int64
		release := make(chan struct{})
		action := func(context.Context) ([]byte, error) {
			runs.Add(1)
			<-release
			return []byte(`{"id":"order-1"}`), nil
		}
		results := make([]string, 10)
		errs := make([]error, 10)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				b, err := idempotency.Run(t.Context(), store, key("k1"), input, action)
				results[i], errs[i] = string(b), err
			})
		}
		synctest.Wait() // one request is inside the action, nine wait for it
		if got := runs.Load(); got != 1 {
			t.Fatalf("the action ran %d times while requests were in flight, want 1", got)
		}
		close(release)
		wg.Wait()
		for i := range results {
			if errs[i] != nil || results[i] != `{"id":"order-1"}` {
				t.Errorf("request %d got (%q, %v), want the winner's result", i, results[i], errs[i])
			}
		}
		// A later request with the same key and input gets the result
		// without a write.
		b, err := idempotency.Run(t.Context(), store, key("k1"), input, counted(&runs, "second"))
		if err != nil || string(b) != `{"id":"order-1"}` || runs.Load() != 1 {
			t.Fatalf("a later request got (%q, %v) after %d runs", b, err, runs.Load())
		}
	})
}

func TestRunKeyReusedWithAnotherInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := idempotency.NewMemory(idempotency.MemoryOptions{})
		var runs atomic.Int64
		release := make(chan struct{})
		go func() {
			_, _ = idempotency.Run(t.Context(), store, key("k"), input, func(context.Context) ([]byte, error) {
				runs.Add(1)
				<-release
				return []byte("ok"), nil
			})
		}()
		synctest.Wait()
		if _, err := idempotency.Run(t.Context(), store, key("k"), other, counted(&runs, "x")); !errors.Is(err, idempotency.ErrKeyReused) {
			t.Fatalf("while the first request is pending: err = %v, want ErrKeyReused", err)
		}
		close(release)
		synctest.Wait()
		if _, err := idempotency.Run(t.Context(), store, key("k"), other, counted(&runs, "x")); !errors.Is(err, idempotency.ErrKeyReused) {
			t.Fatalf("after the first request succeeded: err = %v, want ErrKeyReused", err)
		}
		if runs.Load() != 1 {
			t.Fatalf("the action ran %d times, want 1", runs.Load())
		}
	})
}

func TestRunOutcomeUnknownSpendsTheKey(t *testing.T) {
	timeout := fmt.Errorf("post /call: %w", context.DeadlineExceeded)
	cases := []struct {
		name   string
		action func(context.Context) ([]byte, error)
	}{
		{"an error not marked NotApplied", func(context.Context) ([]byte, error) { return nil, timeout }},
		{"a panic", func(context.Context) ([]byte, error) { panic("boom") }},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is recorded as outcome unknown and answered so on retry", func(t *testing.T) {
			t.Parallel()
			store := idempotency.NewMemory(idempotency.MemoryOptions{})
			func() {
				defer func() { _ = recover() }()
				_, err := idempotency.Run(t.Context(), store, key("k"), input, tc.action)
				var ue *idempotency.OutcomeUnknownError
				if !errors.As(err, &ue) || !errors.Is(err, idempotency.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("first err = %v, want an OutcomeUnknownError wrapping the action's error", err)
				}
			}()
			rec, ok, err := store.Get(t.Context(), key("k"))
			if err != nil || !ok || rec.State != idempotency.OutcomeUnknown {
				t.Fatalf("record = %+v, %v, %v; want outcome_unknown", rec, ok, err)
			}
			var runs atomic.Int64
			for range 2 {
				_, err := idempotency.Run(t.Context(), store, key("k"), input, counted(&runs, "x"))
				if !errors.Is(err, idempotency.ErrOutcomeUnknown) {
					t.Fatalf("retry err = %v, want ErrOutcomeUnknown", err)
				}
			}
			if runs.Load() != 0 {
				t.Fatalf("a retry wrote %d times", runs.Load())
			}
		})
	}
}

func TestRunNotAppliedReleasesTheKey(t *testing.T) {
	t.Parallel()
	store := idempotency.NewMemory(idempotency.MemoryOptions{})
	rateLimited := errors.New("429 too many requests")
	_, err := idempotency.Run(t.Context(), store, key("k"), input, func(context.Context) ([]byte, error) {
		return nil, idempotency.NotApplied(rateLimited)
	})
	if !errors.Is(err, rateLimited) || errors.Is(err, idempotency.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want the action's own error", err)
	}
	if _, ok, _ := store.Get(t.Context(), key("k")); ok {
		t.Fatal("the key still has a record after a write that certainly did not happen")
	}
	var runs atomic.Int64
	b, err := idempotency.Run(t.Context(), store, key("k"), input, counted(&runs, "placed"))
	if err != nil || string(b) != "placed" || runs.Load() != 1 {
		t.Fatalf("retry got (%q, %v, runs %d), want it to write once", b, err, runs.Load())
	}
}

func TestKeysAreNeverSharedAcrossCredentials(t *testing.T) {
	t.Parallel()
	store := idempotency.NewMemory(idempotency.MemoryOptions{})
	var runs atomic.Int64
	a, _ := idempotency.Run(t.Context(), store, idempotency.Key{Scope: alice, Name: "same"}, input, counted(&runs, "alice's"))
	b, _ := idempotency.Run(t.Context(), store, idempotency.Key{Scope: bob, Name: "same"}, other, counted(&runs, "bob's"))
	if string(a) != "alice's" || string(b) != "bob's" || runs.Load() != 2 {
		t.Fatalf("got %q and %q after %d runs; each credential must get its own write", a, b, runs.Load())
	}
	if idempotency.ScopeOf("sk_alice") == idempotency.ScopeOf("sk_alice ") {
		t.Fatal("scopes of different credentials collide")
	}
	if strings.Contains(fmt.Sprintf("%v", alice), "sk_alice") {
		t.Fatal("a scope holds the credential in clear")
	}
}

func TestTTL(t *testing.T) {
	t.Run("a record answers until its TTL, then the key is free again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := idempotency.NewMemory(idempotency.MemoryOptions{TTL: time.Hour})
			var runs atomic.Int64
			run := func() string {
				b, err := idempotency.Run(t.Context(), store, key("k"), input, counted(&runs, fmt.Sprint("write ", runs.Load()+1)))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			run()
			time.Sleep(time.Hour - time.Second)
			if got := run(); got != "write 1" || runs.Load() != 1 {
				t.Fatalf("within the TTL got %q after %d writes, want the first result", got, runs.Load())
			}
			time.Sleep(time.Second)
			if got := run(); got != "write 2" || runs.Load() != 2 {
				t.Fatalf("after the TTL got %q after %d writes, want a fresh write", got, runs.Load())
			}
			if store.Len() != 1 {
				t.Fatalf("Len = %d, want the expired record swept", store.Len())
			}
		})
	})
	t.Run("the default TTL is 24 hours", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := idempotency.NewMemory(idempotency.MemoryOptions{})
			var runs atomic.Int64
			_, _ = idempotency.Run(t.Context(), store, key("k"), input, counted(&runs, "a"))
			time.Sleep(24*time.Hour - time.Nanosecond)
			if _, ok, _ := store.Get(t.Context(), key("k")); !ok {
				t.Fatal("record gone before 24 h")
			}
			time.Sleep(time.Nanosecond)
			if _, ok, _ := store.Get(t.Context(), key("k")); ok {
				t.Fatal("record kept past 24 h")
			}
		})
	})
}

func TestBounds(t *testing.T) {
	t.Run("a new key beyond MaxEntries is refused until records expire", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := idempotency.NewMemory(idempotency.MemoryOptions{TTL: time.Minute, MaxEntries: 3})
			var runs atomic.Int64
			for i := range 3 {
				if _, err := idempotency.Run(t.Context(), store, key(fmt.Sprint(i)), input, counted(&runs, "r")); err != nil {
					t.Fatal(err)
				}
			}
			_, err := idempotency.Run(t.Context(), store, key("3"), input, counted(&runs, "r"))
			if !errors.Is(err, idempotency.ErrStoreFull) || runs.Load() != 3 {
				t.Fatalf("err = %v after %d writes, want ErrStoreFull and no write", err, runs.Load())
			}
			if b, err := idempotency.Run(t.Context(), store, key("0"), input, counted(&runs, "r")); err != nil || string(b) != "r" {
				t.Fatalf("a known key must still be answered when full: %q, %v", b, err)
			}
			time.Sleep(time.Minute)
			if _, err := idempotency.Run(t.Context(), store, key("3"), input, counted(&runs, "r")); err != nil {
				t.Fatalf("after expiry: %v", err)
			}
			if store.Len() != 1 {
				t.Fatalf("Len = %d, want 1", store.Len())
			}
		})
	})
	t.Run("results beyond MaxBytes are not kept and the key answers outcome unknown", func(t *testing.T) {
		t.Parallel()
		store := idempotency.NewMemory(idempotency.MemoryOptions{MaxBytes: 4096})
		big := strings.Repeat("x", 5000)
		var runs atomic.Int64
		b, err := idempotency.Run(t.Context(), store, key("big"), input, counted(&runs, big))
		if err != nil || string(b) != big {
			t.Fatalf("the writer must still get its result: %d bytes, %v", len(b), err)
		}
		if store.Bytes() > 4096 {
			t.Fatalf("Bytes = %d over the bound", store.Bytes())
		}
		_, err = idempotency.Run(t.Context(), store, key("big"), input, counted(&runs, big))
		if !errors.Is(err, idempotency.ErrOutcomeUnknown) || runs.Load() != 1 {
			t.Fatalf("retry err = %v after %d writes, want ErrOutcomeUnknown and no second write", err, runs.Load())
		}
		for i := range 100 {
			_, err = idempotency.Run(t.Context(), store, key(fmt.Sprint("k", i)), input, counted(&runs, "small"))
			if err != nil && !errors.Is(err, idempotency.ErrStoreFull) {
				t.Fatal(err)
			}
		}
		if store.Bytes() > 4096 {
			t.Fatalf("Bytes = %d over the bound", store.Bytes())
		}
	})
}

func TestLockExpiry(t *testing.T) {
	t.Run("a winner that dies leaves the key outcome unknown once its lock lapses", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := idempotency.NewMemory(idempotency.MemoryOptions{})
			claim, err := store.Begin(t.Context(), key("k"), input, time.Now().Add(10*time.Second))
			if err != nil || claim.Lease == nil {
				t.Fatalf("claim = %+v, %v", claim, err)
			}
			// The holder never finishes: a crashed replica.
			var runs atomic.Int64
			start := time.Now()
			_, err = idempotency.Run(t.Context(), store, key("k"), input, counted(&runs, "x"))
			if !errors.Is(err, idempotency.ErrOutcomeUnknown) || runs.Load() != 0 {
				t.Fatalf("waiter err = %v after %d writes, want ErrOutcomeUnknown and no write", err, runs.Load())
			}
			if waited := time.Since(start); waited != 10*time.Second {
				t.Fatalf("the waiter was answered after %v, want when the lock lapsed (10s)", waited)
			}
			if err := store.Finish(t.Context(), *claim.Lease, idempotency.Succeeded, []byte("late")); !errors.Is(err, idempotency.ErrLeaseLost) {
				t.Fatalf("late Finish err = %v, want ErrLeaseLost", err)
			}
			if rec, _, _ := store.Get(t.Context(), key("k")); rec.State != idempotency.OutcomeUnknown {
				t.Fatalf("state = %v after a late Finish, want it to stay outcome_unknown", rec.State)
			}
		})
	})
	t.Run("the lock lasts until the request's deadline, capped by MaxLock", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := idempotency.NewMemory(idempotency.MemoryOptions{MaxLock: time.Minute})
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			stuck, exited := make(chan struct{}), make(chan struct{})
			defer func() { close(stuck); <-exited }()
			go func() {
				defer close(exited)
				_, _ = idempotency.Run(ctx, store, key("short"), input, func(ctx context.Context) ([]byte, error) {
					<-stuck // the holder hangs past its deadline
					return nil, ctx.Err()
				})
			}()
			synctest.Wait()
			rec, _, _ := store.Get(t.Context(), key("short"))
			if got := rec.LockedUntil.Sub(rec.CreatedAt); got != 3*time.Second+idempotency.LockGrace {
				t.Fatalf("lock of %v, want the 3s deadline plus the grace", got)
			}
			time.Sleep(3*time.Second + idempotency.LockGrace - time.Nanosecond)
			if rec, _, _ := store.Get(t.Context(), key("short")); rec.State != idempotency.Pending {
				t.Fatalf("state = %v just before the lock lapses, want pending", rec.State)
			}
			time.Sleep(time.Nanosecond)
			if rec, _, _ := store.Get(t.Context(), key("short")); rec.State != idempotency.OutcomeUnknown {
				t.Fatalf("state = %v after the deadline, want outcome_unknown", rec.State)
			}
			claim, _ := store.Begin(t.Context(), key("long"), input, time.Now().Add(time.Hour))
			rec, _, _ = store.Get(t.Context(), key("long"))
			if got := rec.LockedUntil.Sub(rec.CreatedAt); claim.Lease == nil || got != time.Minute {
				t.Fatalf("lock of %v, want MaxLock", got)
			}
		})
	})
	t.Run("a waiter gives up at its own deadline and the write still completes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := idempotency.NewMemory(idempotency.MemoryOptions{})
			release := make(chan struct{})
			go func() {
				_, _ = idempotency.Run(t.Context(), store, key("k"), input, func(context.Context) ([]byte, error) {
					<-release
					return []byte("done"), nil
				})
			}()
			synctest.Wait()
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			var runs atomic.Int64
			if _, err := idempotency.Run(ctx, store, key("k"), input, counted(&runs, "x")); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("waiter err = %v, want its deadline", err)
			}
			close(release)
			synctest.Wait()
			b, err := idempotency.Run(t.Context(), store, key("k"), input, counted(&runs, "x"))
			if err != nil || string(b) != "done" || runs.Load() != 0 {
				t.Fatalf("got (%q, %v) after %d writes", b, err, runs.Load())
			}
		})
	})
	t.Run("waiters of a released key race and exactly one writes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := idempotency.NewMemory(idempotency.MemoryOptions{})
			release := make(chan struct{})
			var runs atomic.Int64
			go func() {
				_, _ = idempotency.Run(t.Context(), store, key("k"), input, func(context.Context) ([]byte, error) {
					<-release
					return nil, idempotency.NotApplied(errors.New("connection refused"))
				})
			}()
			synctest.Wait()
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() {
					if b, err := idempotency.Run(t.Context(), store, key("k"), input, counted(&runs, "second")); err != nil || string(b) != "second" {
						t.Errorf("got (%q, %v)", b, err)
					}
				})
			}
			synctest.Wait()
			close(release)
			wg.Wait()
			if runs.Load() != 1 {
				t.Fatalf("%d writes after the release, want 1", runs.Load())
			}
		})
	})
}

// rewrittenStore answers a pending record to Begin and, once waited for,
// the record of another request that claimed the key after a release.
type rewrittenStore struct {
	idempotency.Store
	begins int
}

func (s *rewrittenStore) Begin(context.Context, idempotency.Key, idempotency.Fingerprint, time.Time) (idempotency.Claim, error) {
	s.begins++
	if s.begins == 1 {
		return idempotency.Claim{Existing: idempotency.Record{State: idempotency.Pending, Fingerprint: input}}, nil
	}
	return idempotency.Claim{Existing: idempotency.Record{State: idempotency.Succeeded, Fingerprint: other, Result: []byte("theirs")}}, nil
}

func (s *rewrittenStore) Wait(context.Context, idempotency.Key) (idempotency.Record, bool, error) {
	return idempotency.Record{State: idempotency.Succeeded, Fingerprint: other, Result: []byte("theirs")}, true, nil
}

func TestWaiterRechecksTheInputAfterTheWait(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	b, err := idempotency.Run(t.Context(), &rewrittenStore{}, key("k"), input, counted(&runs, "mine"))
	if !errors.Is(err, idempotency.ErrKeyReused) || runs.Load() != 0 {
		t.Fatalf("got (%q, %v) after %d runs, want ErrKeyReused: the key now holds another input's result", b, err, runs.Load())
	}
}

func TestCheckKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		key  string
		ok   bool
	}{
		{"a UUID is accepted", "0b7e3c1a-2f4d-4e8b-9a6c-1d2e3f4a5b6c", true},
		{"255 characters are accepted", strings.Repeat("k", 255), true},
		{"spaces and punctuation are printable", "order #12 / retry", true},
		{"an empty key is refused", "", false},
		{"256 characters are refused", strings.Repeat("k", 256), false},
		{"a newline is refused", "a\nb", false},
		{"non-ASCII is refused", "clé", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := idempotency.CheckKey(tc.key); (err == nil) != tc.ok {
				t.Fatalf("CheckKey = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
