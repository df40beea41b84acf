package paging

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestLengthsAreBoundedAndShortLived(t *testing.T) {
	t.Parallel()
	t.Run("no more entries than the bound are kept", func(t *testing.T) {
		t.Parallel()
		l := NewLengths(time.Minute, 3)
		for i := range 10 {
			l.put(t.Context(), fmt.Sprint("scope ", i), "", i)
		}
		if len(l.byID) != 3 {
			t.Fatalf("%d entries kept, want 3", len(l.byID))
		}
		if n, ok := l.get(t.Context(), "scope 9", ""); !ok || n != 9 {
			t.Fatalf("the latest entry = %d, %v", n, ok)
		}
	})
	t.Run("an entry is forgotten after its TTL", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			l := NewLengths(time.Minute, 3)
			l.put(t.Context(), "a", "completed", 42)
			time.Sleep(time.Minute - time.Second)
			if n, ok := l.get(t.Context(), "a", "completed"); !ok || n != 42 {
				t.Fatalf("before the TTL: %d, %v", n, ok)
			}
			time.Sleep(time.Second)
			if _, ok := l.get(t.Context(), "a", "completed"); ok {
				t.Fatal("still remembered after the TTL")
			}
		})
	})
	t.Run("scopes and filters are apart", func(t *testing.T) {
		t.Parallel()
		l := NewLengths(time.Minute, 8)
		l.put(t.Context(), "a", "", 10)
		for _, k := range [][2]string{{"b", ""}, {"a", "completed"}} {
			if _, ok := l.get(t.Context(), k[0], k[1]); ok {
				t.Fatalf("scope %q filter %q sees another's length", k[0], k[1])
			}
		}
	})
	t.Run("a TTL of zero turns the memo off", func(t *testing.T) {
		t.Parallel()
		store := &sharedMap{m: map[string]int{lengthKey{"a", ""}.sharedKey(): 5}}
		l := NewLengths(0, 8).Share(store)
		l.put(t.Context(), "a", "", 1)
		if _, ok := l.get(t.Context(), "a", ""); ok {
			t.Fatal("remembered with a TTL of zero")
		}
		if store.sets != 0 || store.gets != 0 {
			t.Fatalf("a memo that is off asked the shared store %d times and wrote it %d times (a TTL of 0 never expires in Redis)", store.gets, store.sets)
		}
	})
	t.Run("a nil memo remembers nothing", func(t *testing.T) {
		t.Parallel()
		var l *Lengths
		l.put(t.Context(), "a", "", 1)
		if _, ok := l.get(t.Context(), "a", ""); ok {
			t.Fatal("nil memo remembered")
		}
	})
}

func TestAListWithNoEndInReachIsRefused(t *testing.T) {
	t.Parallel()
	l := &fakeList{n: MaxOffset + 10}
	_, err := Resolve(t.Context(), l.source(), Args{Last: ptr(20)}, mustFilter(t), testLimits, wantAll)
	if !errors.Is(err, ErrListTooLong) {
		t.Fatalf("error = %v, want ErrListTooLong", err)
	}
}

// sharedMap is a SharedLengths in memory, standing for Redis, that counts
// what is asked of it.
type sharedMap struct {
	mu         sync.Mutex
	m          map[string]int
	gets, sets int
	ttls       []time.Duration
}

func (s *sharedMap) GetLength(_ context.Context, key string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	n, ok := s.m[key]
	return n, ok
}

func (s *sharedMap) SetLength(_ context.Context, key string, n int, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]int{}
	}
	s.sets++
	s.m[key] = n
	s.ttls = append(s.ttls, ttl)
}

func TestLengthsAreSharedBetweenReplicas(t *testing.T) {
	t.Parallel()
	lastPage := Args{Last: ptr(20)}
	t.Run("the end one replica found takes the next replica one round trip", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			store := &sharedMap{}
			a := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16).Share(store), scope: "tenant a"}
			if got := rounds(t, a, lastPage, wantAll); got != 4 {
				t.Fatalf("replica a: %d round trips, want the 4 of a search", got)
			}
			b := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16).Share(store), scope: "tenant a"}
			if got := rounds(t, b, lastPage, wantAll); got != 1 {
				t.Fatalf("replica b: %d round trips (loads %v), want 1", got, b.loads)
			}
			if len(store.ttls) == 0 || store.ttls[0] != time.Minute {
				t.Fatalf("stored with TTLs %v, want the memo's minute", store.ttls)
			}
		})
	})
	t.Run("another credential's shared length is not used", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			store := &sharedMap{}
			rounds(t, &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16).Share(store), scope: "tenant a"}, lastPage, wantAll)
			b := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16).Share(store), scope: "tenant b"}
			if got := rounds(t, b, lastPage, wantAll); got != 4 {
				t.Fatalf("%d round trips, want the 4 of a search", got)
			}
		})
	})
	t.Run("an unchanged length is stored again only once half its TTL has passed", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			store := &sharedMap{}
			l := NewLengths(time.Minute, 16).Share(store)
			for range 5 {
				l.put(t.Context(), "a", "", 10)
			}
			if store.sets != 1 {
				t.Fatalf("%d stores for one unchanged length, want 1", store.sets)
			}
			l.put(t.Context(), "a", "", 11)
			if store.sets != 2 {
				t.Fatalf("a changed length was not stored (%d stores)", store.sets)
			}
			time.Sleep(30 * time.Second)
			l.put(t.Context(), "a", "", 11)
			if store.sets != 3 {
				t.Fatalf("a length half its TTL old was not stored again (%d stores)", store.sets)
			}
		})
	})
	t.Run("a local hit does not ask the shared store", func(t *testing.T) {
		t.Parallel()
		store := &sharedMap{}
		l := NewLengths(time.Minute, 16).Share(store)
		l.put(t.Context(), "a", "", 10)
		if n, ok := l.get(t.Context(), "a", ""); !ok || n != 10 || store.gets != 0 {
			t.Fatalf("get = %d, %v after %d shared gets; want 10 from memory", n, ok, store.gets)
		}
	})
}
