// Package storetest checks that an idempotency.Store honours the contract
// idempotency.Run relies on, so that every implementation (the in-memory one
// now, a shared one later) runs the same cases.
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/idempotency"
)

// Lock is the lock the cases take; cases that need it to lapse sleep a
// little longer. A store whose clock is real (a server) makes the suite take
// about this long per such case.
const Lock = 300 * time.Millisecond

// Run runs every case as a subtest. newStore returns an empty store with a
// TTL of a minute or more. each runs one case: directly for a store on a
// real server, or inside testing/synctest.Test for an in-process one, so
// that sleeps take no time.
func Run(t *testing.T, newStore func(t *testing.T) idempotency.Store, each func(t *testing.T, f func(t *testing.T))) {
	scope := idempotency.ScopeOf("sk_storetest")
	fp := idempotency.FingerprintOf([]byte("input"))
	key := func(name string) idempotency.Key { return idempotency.Key{Scope: scope, Name: name} }
	begin := func(t *testing.T, s idempotency.Store, k idempotency.Key) idempotency.Claim {
		t.Helper()
		c, err := s.Begin(t.Context(), k, fp, time.Now().Add(Lock))
		if err != nil {
			t.Fatalf("Begin: %v", err)
		}
		return c
	}
	mustLease := func(t *testing.T, c idempotency.Claim) idempotency.Lease {
		t.Helper()
		if c.Lease == nil {
			t.Fatalf("Begin on a free key returned the record %+v, want a lease", c.Existing)
		}
		return *c.Lease
	}
	cases := []struct {
		name string
		run  func(t *testing.T, s idempotency.Store)
	}{
		{"Begin claims a free key; a second Begin sees the pending record", func(t *testing.T, s idempotency.Store) {
			mustLease(t, begin(t, s, key("k")))
			c := begin(t, s, key("k"))
			if c.Lease != nil || c.Existing.State != idempotency.Pending || c.Existing.Fingerprint != fp {
				t.Fatalf("second claim %+v", c)
			}
		}},
		{"of ten concurrent Begins exactly one gets the lease", func(t *testing.T, s idempotency.Store) {
			var mu sync.Mutex
			leases := 0
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					if c := begin(t, s, key("k")); c.Lease != nil {
						mu.Lock()
						leases++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if leases != 1 {
				t.Fatalf("%d leases", leases)
			}
		}},
		{"Finish with a result is what Get and Begin answer", func(t *testing.T, s idempotency.Store) {
			l := mustLease(t, begin(t, s, key("k")))
			if err := s.Finish(t.Context(), l, idempotency.Succeeded, []byte(`{"id":"o1"}`)); err != nil {
				t.Fatal(err)
			}
			rec, ok, err := s.Get(t.Context(), key("k"))
			if err != nil || !ok || rec.State != idempotency.Succeeded || string(rec.Result) != `{"id":"o1"}` || rec.Fingerprint != fp {
				t.Fatalf("Get = %+v, %v, %v", rec, ok, err)
			}
			if c := begin(t, s, key("k")); c.Lease != nil || c.Existing.State != idempotency.Succeeded {
				t.Fatalf("Begin after Finish = %+v", c)
			}
			if err := s.Finish(t.Context(), l, idempotency.Succeeded, nil); !errors.Is(err, idempotency.ErrLeaseLost) {
				t.Fatalf("a second Finish: %v, want ErrLeaseLost", err)
			}
		}},
		{"Finish with outcome unknown spends the key", func(t *testing.T, s idempotency.Store) {
			l := mustLease(t, begin(t, s, key("k")))
			if err := s.Finish(t.Context(), l, idempotency.OutcomeUnknown, nil); err != nil {
				t.Fatal(err)
			}
			if c := begin(t, s, key("k")); c.Lease != nil || c.Existing.State != idempotency.OutcomeUnknown {
				t.Fatalf("Begin = %+v", c)
			}
		}},
		{"Release frees the key and voids the old lease", func(t *testing.T, s idempotency.Store) {
			old := mustLease(t, begin(t, s, key("k")))
			if err := s.Release(t.Context(), old); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Get(t.Context(), key("k")); ok {
				t.Fatal("a released key still has a record")
			}
			mustLease(t, begin(t, s, key("k")))
			if err := s.Finish(t.Context(), old, idempotency.Succeeded, nil); !errors.Is(err, idempotency.ErrLeaseLost) {
				t.Fatalf("Finish with the released lease: %v, want ErrLeaseLost", err)
			}
		}},
		{"Wait returns when the holder finishes", func(t *testing.T, s idempotency.Store) {
			l := mustLease(t, begin(t, s, key("k")))
			go func() {
				time.Sleep(Lock / 3)
				_ = s.Finish(context.Background(), l, idempotency.Succeeded, []byte("r"))
			}()
			rec, ok, err := s.Wait(t.Context(), key("k"))
			if err != nil || !ok || rec.State != idempotency.Succeeded || string(rec.Result) != "r" {
				t.Fatalf("Wait = %+v, %v, %v", rec, ok, err)
			}
		}},
		{"Wait reports a released key as gone", func(t *testing.T, s idempotency.Store) {
			l := mustLease(t, begin(t, s, key("k")))
			go func() {
				time.Sleep(Lock / 3)
				_ = s.Release(context.Background(), l)
			}()
			if rec, ok, err := s.Wait(t.Context(), key("k")); err != nil || ok {
				t.Fatalf("Wait = %+v, %v, %v", rec, ok, err)
			}
		}},
		{"a lapsed lock reads as outcome unknown and its lease is void", func(t *testing.T, s idempotency.Store) {
			l := mustLease(t, begin(t, s, key("k")))
			rec, ok, err := s.Wait(t.Context(), key("k")) // nobody finishes
			if err != nil || !ok || rec.State != idempotency.OutcomeUnknown {
				t.Fatalf("Wait = %+v, %v, %v", rec, ok, err)
			}
			if err := s.Finish(t.Context(), l, idempotency.Succeeded, []byte("late")); !errors.Is(err, idempotency.ErrLeaseLost) {
				t.Fatalf("late Finish: %v, want ErrLeaseLost", err)
			}
			if c := begin(t, s, key("k")); c.Lease != nil || c.Existing.State != idempotency.OutcomeUnknown {
				t.Fatalf("Begin after the lapse = %+v", c)
			}
		}},
		{"Wait gives up when its context ends", func(t *testing.T, s idempotency.Store) {
			mustLease(t, begin(t, s, key("k")))
			ctx, cancel := context.WithTimeout(t.Context(), Lock/3)
			defer cancel()
			if _, _, err := s.Wait(ctx, key("k")); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait: %v, want its deadline", err)
			}
		}},
		{"the same name in another scope is another key", func(t *testing.T, s idempotency.Store) {
			mustLease(t, begin(t, s, key("k")))
			other := idempotency.Key{Scope: idempotency.ScopeOf("sk_other"), Name: "k"}
			mustLease(t, begin(t, s, other))
		}},
		{"Begin with a lock already past is refused", func(t *testing.T, s idempotency.Store) {
			if _, err := s.Begin(t.Context(), key("k"), fp, time.Now().Add(-time.Second)); err == nil {
				t.Fatal("claimed a key with a lock in the past")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			each(t, func(t *testing.T) { tc.run(t, newStore(t)) })
		})
	}
}
