package redisstore_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
)

// waitFor polls cond for up to 5 s (a probe interval is 1 s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fallbacks(f fixture, component string) float64 {
	n, err := testutil.GatherAndCount(f.reg, "revoxgw_redis_fallbacks_total")
	if err != nil || n == 0 {
		return -1
	}
	mfs, _ := f.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "revoxgw_redis_fallbacks_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == component {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func upGauge(f fixture) float64 {
	mfs, _ := f.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "revoxgw_redis_up" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

func TestAPQCache(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a, b := open(t, srv, prefix), open(t, srv, prefix)
	apqA := redisstore.NewAPQCache(a.conn, lru.New[string](100), time.Minute)
	apqB := redisstore.NewAPQCache(b.conn, lru.New[string](100), time.Minute)
	ctx := t.Context()

	t.Run("a query registered on one replica is found on another", func(t *testing.T) {
		apqA.Add(ctx, "h1", "{ calls { totalCount } }")
		if q, ok := apqB.Get(ctx, "h1"); !ok || q != "{ calls { totalCount } }" {
			t.Fatalf("Get = %q, %v", q, ok)
		}
		if _, ok := apqB.Get(ctx, "unknown"); ok {
			t.Fatal("an unknown hash was found")
		}
		ttl, err := a.conn.Client().TTL(ctx, prefix+"apq:"+sha256hex("h1")).Result()
		if err != nil || ttl <= 0 || ttl > time.Minute {
			t.Fatalf("the key's TTL is %v (%v), want at most a minute", ttl, err)
		}
	})

	t.Run("while Redis is down each replica keeps its own, with one warning and a counted fallback", func(t *testing.T) {
		srv.Kill()
		for i := range 20 {
			apqA.Add(ctx, "down", "{ a }")
			if q, ok := apqA.Get(ctx, "down"); !ok || q != "{ a }" {
				t.Fatalf("round %d: the registering replica lost its own query", i)
			}
			apqB.Get(ctx, "down")
		}
		if _, ok := apqB.Get(ctx, "down"); ok {
			t.Fatal("the other replica found a query registered during the outage")
		}
		if n := strings.Count(a.logs.String(), "redis unavailable"); n != 1 {
			t.Fatalf("%d outage warnings, want 1:\n%s", n, a.logs.String())
		}
		if n := fallbacks(b, redisstore.ComponentAPQ); n < 20 {
			t.Fatalf("fallbacks{apq} = %v, want at least 20", n)
		}
		if a.conn.Up() || upGauge(a) != 0 {
			t.Fatalf("Up() = %v, revoxgw_redis_up = %v during the outage", a.conn.Up(), upGauge(a))
		}
	})

	t.Run("when Redis returns the replicas share again within seconds", func(t *testing.T) {
		srv.MustRestart(t)
		waitFor(t, "both replicas see Redis up", func() bool { return a.conn.Up() && b.conn.Up() })
		if upGauge(a) != 1 {
			t.Fatalf("revoxgw_redis_up = %v", upGauge(a))
		}
		apqA.Add(ctx, "h2", "{ b }")
		if q, ok := apqB.Get(ctx, "h2"); !ok || q != "{ b }" {
			t.Fatalf("Get = %q, %v", q, ok)
		}
		if !strings.Contains(a.logs.String(), "redis available again") {
			t.Fatalf("no recovery line:\n%s", a.logs.String())
		}
	})
}

func TestResponseCache(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a, b := open(t, srv, prefix), open(t, srv, prefix)
	ca, cb := redisstore.NewResponseCache(a.conn), redisstore.NewResponseCache(b.conn)
	ctx := t.Context()
	key := "sk_secret_credential\x00http://up/call/c1\x00"

	t.Run("a body stored by one replica is read by another until its TTL", func(t *testing.T) {
		ca.Set(ctx, key, []byte(`{"id":"c1"}`), 300*time.Millisecond)
		if body, ok := cb.Get(ctx, key); !ok || string(body) != `{"id":"c1"}` {
			t.Fatalf("Get = %q, %v", body, ok)
		}
		time.Sleep(400 * time.Millisecond)
		if _, ok := cb.Get(ctx, key); ok {
			t.Fatal("found after its TTL")
		}
	})

	t.Run("keys carry the prefix and never the credential", func(t *testing.T) {
		ca.Set(ctx, key, []byte(`x`), time.Minute)
		keys, err := a.conn.Client().Keys(ctx, "*").Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("keys %v, %v", keys, err)
		}
		for _, k := range keys {
			if strings.Contains(k, "sk_secret") || strings.Contains(k, "http") {
				t.Fatalf("key %q holds the request in clear", k)
			}
			if strings.HasPrefix(k, prefix) {
				if ttl := a.conn.Client().PTTL(ctx, k).Val(); ttl <= 0 {
					t.Fatalf("key %q has no TTL (%v)", k, ttl)
				}
			}
		}
	})

	t.Run("while Redis is down a read is a counted miss", func(t *testing.T) {
		srv.Kill()
		defer srv.MustRestart(t)
		if _, ok := cb.Get(ctx, key); ok {
			t.Fatal("a hit from a dead Redis")
		}
		if n := fallbacks(b, redisstore.ComponentCache); n < 1 {
			t.Fatalf("fallbacks{cache} = %v", n)
		}
	})
}

// countingLimiter stands for the replica's own limiter.
type countingLimiter struct{ calls atomic.Int64 }

func (c *countingLimiter) Allow(context.Context, string) (bool, time.Duration) {
	c.calls.Add(1)
	return true, 0
}

func TestRateLimiter(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	const rps, burst = 5, 5
	local := &countingLimiter{}
	var limiters []*redisstore.RateLimiter
	var fixtures []fixture
	for range 3 {
		f := open(t, srv, prefix)
		fixtures = append(fixtures, f)
		limiters = append(limiters, redisstore.NewRateLimiter(f.conn, rps, burst, local))
	}
	ctx := t.Context()

	t.Run("three replicas together let through no more than the limit", func(t *testing.T) {
		start := time.Now()
		allowed := 0
		var maxWait time.Duration
		for i := range 60 {
			ok, wait := limiters[i%3].Allow(ctx, "203.0.113.7")
			if ok {
				allowed++
			} else {
				maxWait = max(maxWait, wait)
			}
		}
		ceiling := burst + int(time.Since(start).Seconds()*rps) + 1
		if allowed < burst || allowed > ceiling {
			t.Fatalf("%d of 60 allowed, want %d to %d", allowed, burst, ceiling)
		}
		if maxWait <= 0 || maxWait > time.Second {
			t.Fatalf("refusals said wait %v, want within a second", maxWait)
		}
		if ok, _ := limiters[1].Allow(ctx, "198.51.100.1"); !ok {
			t.Fatal("another client was refused")
		}
		if local.calls.Load() != 0 {
			t.Fatalf("the local limiter decided %d times while Redis was up", local.calls.Load())
		}
	})

	t.Run("while Redis is down the replica's own limiter decides", func(t *testing.T) {
		srv.Kill()
		defer srv.MustRestart(t)
		for range 10 {
			limiters[0].Allow(ctx, "203.0.113.7")
		}
		if local.calls.Load() != 10 {
			t.Fatalf("local limiter asked %d times, want 10", local.calls.Load())
		}
		if n := fallbacks(fixtures[0], redisstore.ComponentRateLimit); n != 10 {
			t.Fatalf("fallbacks{rate_limit} = %v, want 10", n)
		}
	})
}

func TestSlowRedis(t *testing.T) {
	srv := redistest.Start(t)
	f := open(t, srv, "")
	conn, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: f.prefix, Timeout: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	apq := redisstore.NewAPQCache(conn, lru.New[string](10), time.Minute)
	ctx := t.Context()
	apq.Add(ctx, "before", "{ a }")

	t.Run("a Redis that hangs costs one timeout, then nothing until it answers again", func(t *testing.T) {
		if err := srv.Pause(); err != nil {
			t.Fatal(err)
		}
		resumed := false
		defer func() {
			if !resumed {
				_ = srv.Resume()
			}
		}()
		start := time.Now()
		if _, ok := apq.Get(ctx, "unknown-1"); ok {
			t.Fatal("found")
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("the first call during the hang took %v, want about the 100ms timeout", d)
		}
		if conn.Up() {
			t.Fatal("a call over the timeout did not mark Redis down")
		}
		start = time.Now()
		for i := range 50 {
			apq.Get(ctx, "unknown-"+strconv.Itoa(i))
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Fatalf("50 calls while Redis is known down took %v: they should not wait on it", d)
		}
		if q, ok := apq.Get(ctx, "before"); !ok || q != "{ a }" {
			t.Fatal("the replica's own copy is lost")
		}
		if err := srv.Resume(); err != nil {
			t.Fatal(err)
		}
		resumed = true
		waitFor(t, "Redis up again after it answers", conn.Up)
	})
}
