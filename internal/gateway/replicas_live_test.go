package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// liveCluster is three replicas with shared pollers over one sandbox whose
// clock the test moves; it records the time of every upstream GET /call/{id}.
type liveCluster struct {
	redis    *redistest.Server
	sb       *sandbox.Server
	clock    *testClock
	replicas []*httptest.Server
	regs     []*redisstore.LiveRegistry

	mu   sync.Mutex
	gets []time.Time
}

func newLiveCluster(t *testing.T, interval time.Duration) *liveCluster {
	t.Helper()
	c := &liveCluster{redis: redistest.Start(t), clock: &testClock{}}
	c.clock.now.Store(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC).UnixNano())
	c.sb = sandbox.New(sandbox.Options{Now: c.clock.Now})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/call/") {
			c.mu.Lock()
			c.gets = append(c.gets, time.Now())
			c.mu.Unlock()
		}
		c.sb.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	prefix := fmt.Sprintf("livecluster%d:", clusterPrefixes.Add(1))
	for range 3 {
		conn, err := redisstore.Open(redisstore.Options{URL: c.redis.URL(), Prefix: prefix, Timeout: time.Second, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		client, err := revox.New(up.URL, sandbox.DefaultAPIKey, revox.WithMaxRetries(0), revox.WithBreaker(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		reg := redisstore.NewLiveRegistry(conn, live.MemoryOptions{Interval: interval, Logger: quietLogger()})
		t.Cleanup(func() { _ = reg.Shutdown(context.Background()) })
		subs := &gateway.Subscriptions{Registry: reg, WebhookSecret: webhookSecret, KeepAlive: time.Minute}
		gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), AllowAnonymousWrites: true, Subscriptions: subs}))
		t.Cleanup(gql.Close)
		c.replicas = append(c.replicas, gql)
		c.regs = append(c.regs, reg)
	}
	return c
}

func (c *liveCluster) getsSince(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, at := range c.gets {
		if at.After(t) {
			n++
		}
	}
	return n
}

func (c *liveCluster) firstGetSince(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, at := range c.gets {
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
}

func (c *liveCluster) holder() int {
	for i, r := range c.regs {
		if r.Stats().Pollers > 0 {
			return i
		}
	}
	return -1
}

// expectStatus reads one event from each stream and checks its status and
// its last attempt's.
func expectStatus(t *testing.T, streams []<-chan wsMessage, want string) {
	t.Helper()
	for i, s := range streams {
		ev := event(t, next(t, s))
		got := statusOf(t, ev)
		if strings.Contains(want, "/") {
			got += "/" + attemptStatus(t, ev)
		}
		if got != want {
			t.Fatalf("subscriber %d: status %s, want %s", i, got, want)
		}
	}
}

func TestReplicasShareSubscriptionPollers(t *testing.T) {
	t.Parallel()
	const interval = 100 * time.Millisecond
	c := newLiveCluster(t, interval)
	var placed created
	in := map[string]any{"phoneNumber": "+14155550123", "assistantId": c.sb.AssistantIDs()[0]}
	send(t, c.replicas[0].URL, createCall, map[string]any{"input": in}, nil).ok(t, &placed)
	id := placed.CreateCall.ID

	streams := make([][]<-chan wsMessage, 3)
	for i, rep := range c.replicas {
		ws, err := dialWS(t, rep.URL, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j := range 10 {
			streams[i] = append(streams[i], ws.subscribe(t, fmt.Sprint(j), callUpdated, map[string]any{"id": id}))
		}
	}
	all := func(replicas ...int) []<-chan wsMessage {
		var out []<-chan wsMessage
		for _, i := range replicas {
			out = append(out, streams[i]...)
		}
		return out
	}
	expectStatus(t, all(0, 1, 2), "QUEUED_FOR_CALLING")

	t.Run("30 subscribers over three replicas cost one upstream GET per interval", func(t *testing.T) {
		from := time.Now()
		time.Sleep(10 * interval)
		n := c.getsSince(from)
		t.Logf("%d GET /call/{id} in 10 intervals of %v for 30 subscribers on 3 replicas", n, interval)
		if n < 5 || n > 12 {
			t.Fatalf("%d upstream GETs in 10 intervals, want about 10 (one poller, not one per replica)", n)
		}
	})

	t.Run("a change reaches the subscribers on every replica", func(t *testing.T) {
		c.clock.Advance(3 * time.Second)
		expectStatus(t, all(0, 1, 2), "CALLING/RINGING")
	})

	h := c.holder()
	if h < 0 {
		t.Fatal("no replica polls")
	}
	others := []int{(h + 1) % 3, (h + 2) % 3}
	t.Run("when the polling replica stops, another polls within two intervals and its subscribers keep receiving", func(t *testing.T) {
		if err := c.regs[h].Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		stopped := time.Now()
		deadline := stopped.Add(2*interval + interval/2)
		for c.getsSince(stopped) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no upstream GET within %v of the holder stopping", deadline.Sub(stopped))
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("first upstream GET %v after the polling replica stopped", c.firstGetSince(stopped).Sub(stopped))
		c.clock.Advance(10 * time.Second)
		expectStatus(t, all(others...), "CALLING/ONGOING")
	})

	t.Run("with Redis down each replica polls for its own subscribers, which keep receiving", func(t *testing.T) {
		c.redis.Kill()
		killed := time.Now()
		c.clock.Advance(10 * time.Minute)
		for _, i := range others {
			for j, s := range streams[i] {
				if got := statusOf(t, event(t, next(t, s))); got != "COMPLETED" {
					t.Fatalf("replica %d subscriber %d: status %s, want COMPLETED", i, j, got)
				}
				if m := next(t, s); m.Type != "complete" {
					t.Fatalf("replica %d subscriber %d: %s after the last state, want complete", i, j, m.Type)
				}
			}
		}
		if n := c.getsSince(killed); n < 2 {
			t.Fatalf("%d upstream GETs since Redis died, want one by each remaining replica at least", n)
		}
	})
}
