package revox

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// mapCache is a SharedCache in a map, standing for the replicas' Redis.
type mapCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	ttls map[string]time.Duration
	gets int
}

func newMapCache() *mapCache {
	return &mapCache{m: map[string][]byte{}, ttls: map[string]time.Duration{}}
}

func (c *mapCache) Get(_ context.Context, key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	b, ok := c.m[key]
	return b, ok
}

func (c *mapCache) Set(_ context.Context, key string, body []byte, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key], c.ttls[key] = body, ttl
}

func TestSharedCache(t *testing.T) {
	t.Parallel()
	opts := ListCallsOptions{Page: 0, PageSize: 1}

	t.Run("a page one replica fetched is stored for the others, with the cache's TTL", func(t *testing.T) {
		t.Parallel()
		up, shared := &scripted{}, newMapCache()
		a := newScripted(t, up, WithCache(time.Minute, 8), WithSharedCache(shared))
		if _, err := a.ListCalls(t.Context(), opts); err != nil {
			t.Fatal(err)
		}
		if len(shared.m) != 1 {
			t.Fatalf("%d entries stored", len(shared.m))
		}
		for k, body := range shared.m {
			if !strings.Contains(string(body), `"a1"`) || shared.ttls[k] != time.Minute {
				t.Fatalf("stored %q for %v", body, shared.ttls[k])
			}
		}
		b := newScripted(t, up, WithCache(time.Minute, 8), WithSharedCache(shared))
		b.base = a.base // the same upstream, as replicas have
		got, err := b.ListCalls(t.Context(), opts)
		if err != nil || len(got) != 1 || got[0].ID != "a1" {
			t.Fatalf("second replica: %+v, %v", got, err)
		}
		if n := up.hits.Load(); n != 1 {
			t.Fatalf("%d upstream requests, want 1", n)
		}
		gets := shared.gets
		if _, err := b.ListCalls(t.Context(), opts); err != nil {
			t.Fatal(err)
		}
		if shared.gets != gets {
			t.Fatal("a page in the replica's own memory was asked of the shared cache again")
		}
	})

	t.Run("a stored body that does not decode is a miss", func(t *testing.T) {
		t.Parallel()
		up, shared := &scripted{}, newMapCache()
		a := newScripted(t, up, WithCache(time.Minute, 8), WithSharedCache(shared))
		if _, err := a.ListCalls(t.Context(), opts); err != nil {
			t.Fatal(err)
		}
		for k := range shared.m {
			shared.m[k] = []byte(`{"calls":`)
		}
		b := newScripted(t, up, WithCache(time.Minute, 8), WithSharedCache(shared))
		b.base = a.base
		if got, err := b.ListCalls(t.Context(), opts); err != nil || len(got) != 1 {
			t.Fatalf("%+v, %v", got, err)
		}
		if n := up.hits.Load(); n != 2 {
			t.Fatalf("%d upstream requests, want 2", n)
		}
	})

	t.Run("without CACHE_TTL nothing is shared", func(t *testing.T) {
		t.Parallel()
		up, shared := &scripted{}, newMapCache()
		a := newScripted(t, up, WithSharedCache(shared))
		for range 2 {
			if _, err := a.ListCalls(t.Context(), opts); err != nil {
				t.Fatal(err)
			}
		}
		if len(shared.m) != 0 || shared.gets != 0 || up.hits.Load() != 2 {
			t.Fatalf("shared %d entries, %d gets; %d upstream requests", len(shared.m), shared.gets, up.hits.Load())
		}
	})
}
