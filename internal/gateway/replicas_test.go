package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// cluster is three gateway replicas sharing one Redis, over one sandbox.
type cluster struct {
	redis    *redistest.Server
	sb       *sandbox.Server
	replicas []*httptest.Server
	conns    []*redisstore.Conn
	asst     string
}

var clusterPrefixes atomic.Int64

// newCluster starts Redis, the sandbox and three replicas configured as
// server.go configures them with REDIS_URL set.
func newCluster(t *testing.T, rps float64, burst int) *cluster {
	t.Helper()
	c := &cluster{redis: redistest.Start(t), sb: sandbox.New(sandbox.Options{})}
	c.asst = c.sb.AssistantIDs()[0]
	up := httptest.NewServer(c.sb)
	t.Cleanup(up.Close)
	prefix := "cluster" + string(rune('a'+clusterPrefixes.Add(1)%26)) + ":"
	for range 3 {
		conn, err := redisstore.Open(redisstore.Options{URL: c.redis.URL(), Prefix: prefix, Timeout: time.Second, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		client, err := revox.New(up.URL, sandbox.DefaultAPIKey,
			revox.WithTimeout(time.Second), revox.WithBackoff(time.Millisecond, 5*time.Millisecond),
			revox.WithCache(10*time.Second, 1024), revox.WithSharedCache(redisstore.NewResponseCache(conn)))
		if err != nil {
			t.Fatal(err)
		}
		cfg := gateway.Config{
			Upstream:             client,
			Logger:               quietLogger(),
			AllowAnonymousWrites: true,
			APQCache:             redisstore.NewAPQCache(conn, lru.New[string](100), 0),
			Idempotency:          redisstore.NewIdempotencyStore(conn, redisstore.IdempotencyOptions{}),
			Redis:                conn,
		}
		if rps > 0 {
			cfg.RateLimitRPS, cfg.RateLimitBurst = rps, burst
			cfg.RateLimiter = redisstore.NewRateLimiter(conn, rps, burst, gateway.NewLocalRateLimiter(rps, burst))
		}
		gql := httptest.NewServer(gateway.New(cfg))
		t.Cleanup(gql.Close)
		c.replicas = append(c.replicas, gql)
		c.conns = append(c.conns, conn)
	}
	return c
}

func (c *cluster) input(key string) map[string]any {
	in := map[string]any{"phoneNumber": "+14155550123", "assistantId": c.asst}
	if key != "" {
		in["idempotencyKey"] = key
	}
	return in
}

// persisted sends an APQ request: the hash, and the query when given.
func persisted(t *testing.T, base, hash, query string) response {
	t.Helper()
	payload := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
	if query != "" {
		payload["query"] = query
	}
	body, _ := json.Marshal(payload)
	resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r response
	r.status = resp.StatusCode
	r.raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(r.raw, &r)
	return r
}

// createAtOnce sends createCall with key to every replica n times at once
// and returns the order ids and error codes answered.
func (c *cluster) createAtOnce(t *testing.T, key string, n int) (ids, codes []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n * len(c.replicas) {
		wg.Go(func() {
			r := send(t, c.replicas[i%len(c.replicas)].URL, createCall, map[string]any{"input": c.input(key)}, nil)
			var got created
			_ = json.Unmarshal(r.Data, &got)
			mu.Lock()
			defer mu.Unlock()
			codes = append(codes, r.codes()...)
			if got.CreateCall != nil {
				ids = append(ids, got.CreateCall.ID)
			}
		})
	}
	wg.Wait()
	return ids, codes
}

func TestReplicasShareState(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 0, 0)

	t.Run("a query persisted on replica 1 is served by hash on replicas 2 and 3", func(t *testing.T) {
		query := `{ calls(first: 2) { nodes { id } } }`
		hash := sha256Hex(query)
		if r := persisted(t, c.replicas[0].URL, hash, query); len(r.Errors) > 0 {
			t.Fatalf("registering on replica 1: %s", r.raw)
		}
		for i, rep := range c.replicas[1:] {
			if r := persisted(t, rep.URL, hash, ""); len(r.Errors) > 0 || !strings.Contains(string(r.raw), `"nodes"`) {
				t.Fatalf("hash only on replica %d: %s", i+2, r.raw)
			}
		}
	})

	t.Run("createCall with one key sent to three replicas at once places one order, answered everywhere", func(t *testing.T) {
		before := c.sb.WriteStats()
		ids, codes := c.createAtOnce(t, "lead-7-at-three-replicas", 3)
		if len(codes) > 0 {
			t.Fatalf("errors: %v", codes)
		}
		after := c.sb.WriteStats()
		if after.CreateRequests-before.CreateRequests != 1 || after.OrdersCreated-before.OrdersCreated != 1 {
			t.Fatalf("upstream saw %+v then %+v, want one POST and one order", before, after)
		}
		if len(ids) != 9 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 1 {
			t.Fatalf("order ids %v, want one id nine times", ids)
		}
	})

	t.Run("a page read through replica 1 is served from the shared cache on replicas 2 and 3", func(t *testing.T) {
		query := `{ calls(first: 5) { nodes { id status phoneNumber } pageInfo { hasNextPage } } }`
		first := post(t, c.replicas[0].URL, query, nil)
		var page map[string]any
		first.ok(t, &page)
		requests := c.sb.Requests()
		for i, rep := range c.replicas[1:] {
			if r := post(t, rep.URL, query, nil); string(r.raw) != string(first.raw) {
				t.Fatalf("replica %d answered %s, replica 1 %s", i+2, r.raw, first.raw)
			}
		}
		if n := c.sb.Requests() - requests; n != 0 {
			t.Fatalf("replicas 2 and 3 made %d upstream requests for a page replica 1 had just read", n)
		}
	})
}

func TestReplicasShareOneRateLimit(t *testing.T) {
	t.Parallel()
	const rps, burst = 4, 4
	c := newCluster(t, rps, burst)
	start := time.Now()
	passed, limited := 0, 0
	for i := range 30 {
		r := post(t, c.replicas[i%3].URL, `{ __typename }`, nil)
		switch {
		case r.status == http.StatusOK:
			passed++
		case slices.Equal(r.codes(), []string{gateway.CodeRateLimited}):
			limited++
		default:
			t.Fatalf("request %d: %d %s", i, r.status, r.raw)
		}
	}
	ceiling := burst + int(time.Since(start).Seconds()*rps) + 1
	if passed < burst || passed > ceiling {
		t.Fatalf("%d of 30 passed over three replicas in %v, want %d to %d (one limit, not one per replica)", passed, time.Since(start), burst, ceiling)
	}
	if limited != 30-passed {
		t.Fatalf("%d limited", limited)
	}
}

func TestReplicasRideOutARedisOutage(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 0, 0)
	read := `{ calls(first: 3) { nodes { id status } } }`

	// Reads run on every replica the whole time, Redis killed and restarted
	// under them: none may fail.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	for _, rep := range c.replicas {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r := post(t, rep.URL, read, nil); r.status != http.StatusOK || len(r.Errors) > 0 {
					t.Errorf("a read failed: %d %s", r.status, r.raw)
					return
				}
				reads.Add(1)
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	defer func() { close(stop); readers.Wait() }()

	readyz := func(base string) (int, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	t.Run("while Redis is down a keyed createCall is refused at every replica without a POST", func(t *testing.T) {
		c.redis.Kill()
		before := c.sb.WriteStats()
		ids, codes := c.createAtOnce(t, "lead-8-during-outage", 1)
		if len(ids) != 0 || len(codes) != 3 || slices.ContainsFunc(codes, func(s string) bool { return s != gateway.CodeIdempotencyUnavailable }) {
			t.Fatalf("ids %v, codes %v; want IDEMPOTENCY_UNAVAILABLE three times", ids, codes)
		}
		if after := c.sb.WriteStats(); after.CreateRequests != before.CreateRequests {
			t.Fatalf("upstream saw %d POSTs during the outage", after.CreateRequests-before.CreateRequests)
		}
	})

	t.Run("while Redis is down a createCall without a key proceeds", func(t *testing.T) {
		before := c.sb.WriteStats()
		var got created
		send(t, c.replicas[1].URL, createCall, map[string]any{"input": c.input("")}, nil).ok(t, &got)
		if after := c.sb.WriteStats(); after.CreateRequests-before.CreateRequests != 1 || got.CreateCall == nil {
			t.Fatalf("unkeyed createCall: %+v, %d POSTs", got.CreateCall, after.CreateRequests-before.CreateRequests)
		}
	})

	t.Run("while Redis is down every replica is ready and says Redis is down", func(t *testing.T) {
		for _, rep := range c.replicas {
			if status, body := readyz(rep.URL); status != http.StatusOK || body != `{"status":"ready","redis":"down"}` {
				t.Fatalf("/readyz %d %s", status, body)
			}
		}
	})

	t.Run("when Redis returns keyed createCall works again within seconds, without restart", func(t *testing.T) {
		c.redis.MustRestart(t)
		deadline := time.Now().Add(5 * time.Second)
		for _, rep := range c.replicas {
			for {
				if _, body := readyz(rep.URL); body == `{"status":"ready","redis":"up"}` {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("a replica still reports Redis down 5s after it returned")
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		before := c.sb.WriteStats()
		ids, codes := c.createAtOnce(t, "lead-8-during-outage", 2)
		if len(codes) > 0 || len(ids) != 6 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 1 {
			t.Fatalf("ids %v, codes %v", ids, codes)
		}
		if after := c.sb.WriteStats(); after.CreateRequests-before.CreateRequests != 1 {
			t.Fatalf("%d POSTs, want 1", after.CreateRequests-before.CreateRequests)
		}
	})

	if reads.Load() < 10 {
		t.Fatalf("only %d reads ran during the outage", reads.Load())
	}
}
