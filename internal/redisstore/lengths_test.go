package redisstore_test

import (
	"testing"
	"time"

	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
)

var _ paging.SharedLengths = (*redisstore.Lengths)(nil)

func TestLengths(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a, b := open(t, srv, prefix), open(t, srv, prefix)
	la, lb := redisstore.NewLengths(a.conn), redisstore.NewLengths(b.conn)
	ctx := t.Context()

	t.Run("a length stored by one replica is read by another until its TTL", func(t *testing.T) {
		la.SetLength(ctx, "scope/completed", 1010, 300*time.Millisecond)
		if n, ok := lb.GetLength(ctx, "scope/completed"); !ok || n != 1010 {
			t.Fatalf("GetLength = %d, %v; want 1010", n, ok)
		}
		if _, ok := lb.GetLength(ctx, "scope/"); ok {
			t.Fatal("another filter's key answered")
		}
		time.Sleep(400 * time.Millisecond)
		if _, ok := lb.GetLength(ctx, "scope/completed"); ok {
			t.Fatal("found after its TTL")
		}
	})

	t.Run("a value that is not a length is a miss", func(t *testing.T) {
		la.SetLength(ctx, "k", 7, time.Minute)
		keys, err := a.conn.Client().Keys(ctx, prefix+"*").Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("keys %v, %v", keys, err)
		}
		for _, k := range keys {
			a.conn.Client().Set(ctx, k, "not a number", time.Minute)
		}
		if n, ok := lb.GetLength(ctx, "k"); ok {
			t.Fatalf("GetLength = %d from a garbled value", n)
		}
	})

	t.Run("while Redis is down a read is a counted miss and a write is dropped", func(t *testing.T) {
		srv.Kill()
		defer srv.MustRestart(t)
		lb.SetLength(ctx, "k2", 3, time.Minute)
		if _, ok := lb.GetLength(ctx, "k2"); ok {
			t.Fatal("a hit from a dead Redis")
		}
		if n := fallbacks(b, redisstore.ComponentLengths); n < 1 {
			t.Fatalf("fallbacks{lengths} = %v", n)
		}
	})
}
