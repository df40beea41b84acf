package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// liveEnv is a gateway with subscriptions over a sandbox whose clock the
// test moves, and an upstream switch that fails every request when off.
type liveEnv struct {
	gql   *httptest.Server
	sb    *sandbox.Server
	subs  *gateway.Subscriptions
	clock *testClock
	down  atomic.Bool
	// failures counts the requests refused while down.
	failures atomic.Int64
	asst     string
}

// testClock is the sandbox's clock: it moves only when told.
type testClock struct{ now atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *testClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

const webhookSecret = "s3cret-for-tests"

func newLiveEnv(t testing.TB, opts live.MemoryOptions, configure func(*gateway.Config)) *liveEnv {
	t.Helper()
	e := &liveEnv{clock: &testClock{}}
	e.clock.now.Store(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC).UnixNano())
	e.sb = sandbox.New(sandbox.Options{Now: e.clock.Now})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.down.Load() {
			e.failures.Add(1)
			http.Error(w, `{"message":"down"}`, http.StatusServiceUnavailable)
			return
		}
		e.sb.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey, revox.WithMaxRetries(0), revox.WithBreaker(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = quietLogger()
	e.subs = &gateway.Subscriptions{Registry: live.NewMemory(opts), WebhookSecret: webhookSecret, KeepAlive: time.Minute}
	cfg := gateway.Config{Upstream: client, Logger: quietLogger(), AllowAnonymousWrites: true, Subscriptions: e.subs}
	if configure != nil {
		configure(&cfg)
	}
	e.gql = httptest.NewServer(gateway.New(cfg))
	t.Cleanup(e.gql.Close)
	t.Cleanup(func() { _ = e.subs.Registry.Shutdown(context.Background()) })
	e.asst = e.sb.AssistantIDs()[0]
	return e
}

// place creates an order and returns its id.
func (e *liveEnv) place(t testing.TB) string {
	t.Helper()
	var got created
	in := map[string]any{"phoneNumber": "+14155550123", "assistantId": e.asst}
	send(t, e.gql.URL, createCall, map[string]any{"input": in}, nil).ok(t, &got)
	return got.CreateCall.ID
}

// poke posts the webhook naming order id.
func (e *liveEnv) poke(t testing.TB, id string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.gql.URL+gateway.WebhookPath, strings.NewReader(`{"call_order_id":"`+id+`","status":"whatever"}`))
	req.Header.Set("X-Webhook-Secret", webhookSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook answered %d, want 202", resp.StatusCode)
	}
}

// wsClient speaks graphql-transport-ws.
type wsClient struct {
	conn *websocket.Conn
	mu   sync.Mutex
	msgs map[string]chan wsMessage // by subscription id
	done chan struct{}
	mute atomic.Bool // answer no ping
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(t testing.TB, base string, header http.Header, initPayload any) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header,
	})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 22)
	c := &wsClient{conn: conn, msgs: map[string]chan wsMessage{}, done: make(chan struct{})}
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": initPayload}); err != nil {
		return nil, err
	}
	var ack wsMessage
	if err := wsjson.Read(ctx, conn, &ack); err != nil {
		return nil, err
	}
	if ack.Type != "connection_ack" {
		return nil, fmt.Errorf("got %s, want connection_ack", ack.Type)
	}
	go c.read()
	t.Cleanup(func() { conn.CloseNow() })
	return c, nil
}

func (c *wsClient) read() {
	defer close(c.done)
	for {
		var m wsMessage
		if err := wsjson.Read(context.Background(), c.conn, &m); err != nil {
			return
		}
		switch m.Type {
		case "ping":
			if c.mute.Load() {
				continue
			}
			_ = wsjson.Write(context.Background(), c.conn, map[string]any{"type": "pong"})
			continue
		case "pong":
			continue
		}
		c.mu.Lock()
		ch := c.msgs[m.ID]
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// subscribe starts a subscription and returns its messages.
func (c *wsClient) subscribe(t testing.TB, id, query string, vars map[string]any) <-chan wsMessage {
	t.Helper()
	ch := make(chan wsMessage, 64)
	c.mu.Lock()
	c.msgs[id] = ch
	c.mu.Unlock()
	err := wsjson.Write(t.Context(), c.conn, map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// next is the next message of a subscription, failing after a generous
// bound (a hang, not a timing assertion).
func next(t testing.TB, ch <-chan wsMessage) wsMessage {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no message in 20s")
		return wsMessage{}
	}
}

// event decodes a next message's payload.
func event(t testing.TB, m wsMessage) response {
	t.Helper()
	if m.Type != "next" {
		t.Fatalf("got %s %s, want next", m.Type, m.Payload)
	}
	var r response
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func statusOf(t testing.TB, r response) string {
	t.Helper()
	var d struct {
		CallUpdated struct {
			Status string `json:"status"`
		} `json:"callUpdated"`
	}
	r.ok(t, &d)
	return d.CallUpdated.Status
}

const callUpdated = `subscription($id: ID!) { callUpdated(id: $id) { id status lastCallAttempt { status } } }`

func TestThousandSubscribersShareOneUpstreamGET(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	id := e.place(t)
	e.sb.ResetRequests()
	const conns, perConn = 10, 100
	var streams []<-chan wsMessage
	for range conns {
		c, err := dialWS(t, e.gql.URL, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j := range perConn {
			q := callUpdated
			if j%2 == 1 {
				q = `subscription($id: ID!) { callUpdated(id: $id) { status } }` // another selection, the same poll
			}
			streams = append(streams, c.subscribe(t, fmt.Sprint(j), q, map[string]any{"id": id}))
		}
	}
	for _, s := range streams {
		if got := statusOf(t, event(t, next(t, s))); got != "QUEUED_FOR_CALLING" {
			t.Fatalf("first event status %s, want QUEUED_FOR_CALLING", got)
		}
	}
	if n := e.sb.Requests(); n != 1 {
		t.Fatalf("1000 subscribers cost %d upstream requests, want 1", n)
	}
	e.clock.Advance(3 * time.Second) // ringing: the order is calling
	e.poke(t, id)
	for _, s := range streams {
		if got := statusOf(t, event(t, next(t, s))); got != "CALLING" {
			t.Fatalf("second event status %s, want CALLING", got)
		}
	}
	if n := e.sb.Requests(); n != 2 {
		t.Fatalf("a poll for 1000 subscribers cost %d upstream requests in all, want 2", n)
	}
	if s := e.subs.Registry.Stats(); s.Pollers != 1 || s.Subscriptions != conns*perConn {
		t.Fatalf("registry %+v, want 1 poller for %d subscriptions", s, conns*perConn)
	}
}

func TestCallUpdatedFollowsAnOrderToItsEnd(t *testing.T) {
	t.Parallel()

	t.Run("every state in order, then complete, and the poller stops", func(t *testing.T) {
		t.Parallel()
		e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
		id := e.place(t)
		c, err := dialWS(t, e.gql.URL, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := c.subscribe(t, "1", callUpdated, map[string]any{"id": id})
		var seen []string
		seen = append(seen, statusOf(t, event(t, next(t, s))))
		e.poke(t, id) // nothing changed: no event
		for _, step := range []time.Duration{3 * time.Second, 10 * time.Second, 10 * time.Minute} {
			e.clock.Advance(step)
			e.poke(t, id)
			m := next(t, s)
			seen = append(seen, statusOf(t, event(t, m))+"/"+attemptStatus(t, event(t, m)))
		}
		if m := next(t, s); m.Type != "complete" {
			t.Fatalf("after completion got %s, want complete", m.Type)
		}
		want := []string{"QUEUED_FOR_CALLING", "CALLING/RINGING", "CALLING/ONGOING", "COMPLETED/COMPLETED"}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Fatalf("states %v, want %v", seen, want)
		}
		waitFor(t, func() bool { return e.subs.Registry.Stats() == live.Stats{} })
	})

	t.Run("a cancelled order completes the subscription", func(t *testing.T) {
		t.Parallel()
		e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
		id := e.place(t)
		c, err := dialWS(t, e.gql.URL, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := c.subscribe(t, "1", callUpdated, map[string]any{"id": id})
		next(t, s)
		send(t, e.gql.URL, `mutation($id: ID!) { cancelCall(id: $id) { id } }`, map[string]any{"id": id}, nil).ok(t, &struct{}{})
		e.poke(t, id)
		if got := statusOf(t, event(t, next(t, s))); got != "CANCELLED" {
			t.Fatalf("status %s, want CANCELLED", got)
		}
		if m := next(t, s); m.Type != "complete" {
			t.Fatalf("got %s, want complete", m.Type)
		}
	})

	t.Run("an unknown id answers NOT_FOUND and completes", func(t *testing.T) {
		t.Parallel()
		e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
		c, err := dialWS(t, e.gql.URL, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := c.subscribe(t, "1", callUpdated, map[string]any{"id": "no-such-order"})
		if codes := event(t, next(t, s)).codes(); fmt.Sprint(codes) != "[NOT_FOUND]" {
			t.Fatalf("codes %v, want [NOT_FOUND]", codes)
		}
		if m := next(t, s); m.Type != "complete" {
			t.Fatalf("got %s, want complete", m.Type)
		}
	})
}

func attemptStatus(t testing.TB, r response) string {
	t.Helper()
	var d struct {
		CallUpdated struct {
			LastCallAttempt *struct {
				Status string `json:"status"`
			} `json:"lastCallAttempt"`
		} `json:"callUpdated"`
	}
	r.ok(t, &d)
	if d.CallUpdated.LastCallAttempt == nil {
		return ""
	}
	return d.CallUpdated.LastCallAttempt.Status
}

func TestAFailureStreakIsOneErrorEventAndTheSubscriptionRecovers(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, nil)
	id := e.place(t)
	c, err := dialWS(t, e.gql.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.subscribe(t, "1", callUpdated, map[string]any{"id": id})
	next(t, s)
	e.down.Store(true)
	failed := event(t, next(t, s))
	if fmt.Sprint(failed.codes()) != "[UPSTREAM_UNAVAILABLE]" || string(failed.Data) != "null" {
		t.Fatalf("error event %s, want data null and UPSTREAM_UNAVAILABLE", failed.dump())
	}
	waitFor(t, func() bool { return e.failures.Load() >= 5 }) // a streak of several failed polls
	e.clock.Advance(3 * time.Second)
	e.down.Store(false)
	// The next message is the recovered value: a second error would come first.
	if got := statusOf(t, event(t, next(t, s))); got != "CALLING" {
		t.Fatalf("after recovery status %s, want CALLING", got)
	}
}

func (r response) dump() string { return fmt.Sprintf("data=%s errors=%+v", r.Data, r.Errors) }

func TestSubscriptionBounds(t *testing.T) {
	t.Parallel()

	t.Run("beyond MAX_SUBSCRIPTIONS_PER_CONNECTION a subscription is refused with a code", func(t *testing.T) {
		t.Parallel()
		e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, func(c *gateway.Config) { c.Subscriptions.PerConnection = 2 })
		id := e.place(t)
		c, err := dialWS(t, e.gql.URL, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			next(t, c.subscribe(t, fmt.Sprint(i), callUpdated, map[string]any{"id": id}))
		}
		if codes := event(t, next(t, c.subscribe(t, "3", callUpdated, map[string]any{"id": id}))).codes(); fmt.Sprint(codes) != "[TOO_MANY_SUBSCRIPTIONS]" {
			t.Fatalf("third subscription: %v, want TOO_MANY_SUBSCRIPTIONS", codes)
		}
		other, err := dialWS(t, e.gql.URL, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := event(t, next(t, other.subscribe(t, "1", callUpdated, map[string]any{"id": id}))); len(r.Errors) != 0 {
			t.Fatalf("another connection was refused: %s", r.dump())
		}
	})

	t.Run("beyond MAX_SUBSCRIPTIONS a subscription is refused with a code", func(t *testing.T) {
		t.Parallel()
		e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour, MaxSubscriptions: 2}, nil)
		id := e.place(t)
		for i := range 2 {
			c, err := dialWS(t, e.gql.URL, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			next(t, c.subscribe(t, fmt.Sprint(i), callUpdated, map[string]any{"id": id}))
		}
		c, err := dialWS(t, e.gql.URL, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if codes := event(t, next(t, c.subscribe(t, "1", callUpdated, map[string]any{"id": id}))).codes(); fmt.Sprint(codes) != "[TOO_MANY_SUBSCRIPTIONS]" {
			t.Fatalf("third subscription: %v, want TOO_MANY_SUBSCRIPTIONS", codes)
		}
	})

	t.Run("no poller is left once the last subscriber's connection closes", func(t *testing.T) {
		t.Parallel()
		e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
		id := e.place(t)
		var clients []*wsClient
		for range 3 {
			c, err := dialWS(t, e.gql.URL, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			next(t, c.subscribe(t, "1", callUpdated, map[string]any{"id": id}))
			clients = append(clients, c)
		}
		if m := metricsText(t, e.gql.URL); !strings.Contains(m, "\ngateway_subscription_pollers 1\n") || !strings.Contains(m, "\ngateway_subscriptions 3\n") {
			t.Fatalf("/metrics does not show 1 poller for 3 subscriptions")
		}
		for _, c := range clients {
			c.conn.Close(websocket.StatusNormalClosure, "bye")
		}
		waitFor(t, func() bool { return e.subs.Registry.Stats() == live.Stats{} })
		if m := metricsText(t, e.gql.URL); !strings.Contains(m, "\ngateway_subscription_pollers 0\n") {
			t.Fatalf("/metrics still shows a poller")
		}
	})
}

func TestSSESubscriptionStreamsEventsThenCompletes(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	id := e.place(t)
	body, _ := json.Marshal(map[string]any{"query": callUpdated, "variables": map[string]any{"id": id}})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.gql.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("Content-Type %q, want text/event-stream: %d %s", ct, resp.StatusCode, b)
	}
	events := make(chan string, 16)
	go func() {
		defer close(events)
		buf := make([]byte, 1<<16)
		var acc string
		for {
			n, err := resp.Body.Read(buf)
			acc += string(buf[:n])
			for {
				i := strings.Index(acc, "\n\n")
				if i < 0 {
					break
				}
				if ev := acc[:i]; strings.HasPrefix(ev, "event:") {
					events <- ev
				}
				acc = acc[i+2:]
			}
			if err != nil {
				return
			}
		}
	}()
	nextEvent := func() string {
		select {
		case ev := <-events:
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("no event in 20s")
			return ""
		}
	}
	if ev := nextEvent(); !strings.Contains(ev, `"status":"QUEUED_FOR_CALLING"`) {
		t.Fatalf("first event %q", ev)
	}
	e.clock.Advance(10 * time.Minute)
	e.poke(t, id)
	if ev := nextEvent(); !strings.HasPrefix(ev, "event: next") || !strings.Contains(ev, `"status":"COMPLETED"`) {
		t.Fatalf("second event %q, want next with COMPLETED", ev)
	}
	if ev := nextEvent(); ev != "event: complete" {
		t.Fatalf("last event %q, want complete", ev)
	}
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	plain := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, func(c *gateway.Config) { c.Subscriptions.WebhookSecret = "" })
	cases := []struct {
		name, base, secret, body string
		want                     int
	}{
		{"a wrong secret is 401", e.gql.URL, "wrong", `{"call_order_id":"x"}`, http.StatusUnauthorized},
		{"a missing secret is 401", e.gql.URL, "", `{"call_order_id":"x"}`, http.StatusUnauthorized},
		{"a body naming no order is 400", e.gql.URL, webhookSecret, `{"status":"completed"}`, http.StatusBadRequest},
		{"a body over 64 KiB is 400", e.gql.URL, webhookSecret, `{"call_order_id":"` + strings.Repeat("x", 70<<10) + `"}`, http.StatusBadRequest},
		{"call_id is used without call_order_id", e.gql.URL, webhookSecret, `{"call_id":"a1"}`, http.StatusAccepted},
		{"without WEBHOOK_SECRET the route does not exist", plain.gql.URL, webhookSecret, `{"call_order_id":"x"}`, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, tc.base+gateway.WebhookPath, strings.NewReader(tc.body))
			if tc.secret != "" {
				req.Header.Set("X-Webhook-Secret", tc.secret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestShutdownCompletesEverySubscription(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	id := e.place(t)
	c, err := dialWS(t, e.gql.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := c.subscribe(t, "a", callUpdated, map[string]any{"id": id})
	b := c.subscribe(t, "b", callUpdated, map[string]any{"id": e.sb.OrderIDs()[0]})
	next(t, a)
	next(t, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.subs.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []<-chan wsMessage{a, b} {
		if m := next(t, s); m.Type != "complete" {
			t.Fatalf("got %s, want complete", m.Type)
		}
	}
	select {
	case <-c.done: // the server closed the connection
	case <-time.After(20 * time.Second):
		t.Fatal("the connection stayed open after shutdown")
	}
}

// waitFor waits for cond, failing after a generous bound.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in 20s")
}

func TestCallsUpdatedFollowsTheNewestAttempts(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	c, err := dialWS(t, e.gql.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const q = `subscription { callsUpdated(first: 2) { nodes { id status } pageInfo { hasNextPage endCursor } } }`
	type window struct {
		CallsUpdated struct {
			Nodes []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"nodes"`
			PageInfo struct {
				HasNextPage bool `json:"hasNextPage"`
			} `json:"pageInfo"`
		} `json:"callsUpdated"`
	}
	s := c.subscribe(t, "1", q, nil)
	edges := c.subscribe(t, "2", `subscription { callsUpdated(first: 2) { edges { cursor } } }`, nil)
	var before window
	event(t, next(t, s)).ok(t, &before)
	next(t, edges)
	if len(before.CallsUpdated.Nodes) != 2 || !before.CallsUpdated.PageInfo.HasNextPage {
		t.Fatalf("first window %+v", before)
	}
	if n := e.subs.Registry.Stats().Pollers; n != 1 {
		t.Fatalf("two selections of one window run %d pollers, want 1", n)
	}
	id := e.place(t)
	e.clock.Advance(3 * time.Second) // the new order dials: its attempt is listed
	e.poke(t, id)
	var after window
	event(t, next(t, s)).ok(t, &after)
	if after.CallsUpdated.Nodes[0].Status == before.CallsUpdated.Nodes[0].Status && after.CallsUpdated.Nodes[0].ID == before.CallsUpdated.Nodes[0].ID {
		t.Fatalf("the window did not change: %+v", after)
	}

	t.Run("a first beyond the maximum is BAD_USER_INPUT", func(t *testing.T) {
		if got := firstCodes(t, next(t, c.subscribe(t, "3", `subscription { callsUpdated(first: 1000) { nodes { id } } }`, nil))); got != "BAD_USER_INPUT" {
			t.Fatalf("codes %q, want BAD_USER_INPUT", got)
		}
	})
}

func metricsText(t testing.TB, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestASubscriptionOverAPlainPOSTIsABadRequest(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	id := e.place(t)
	e.sb.ResetRequests()
	for _, accept := range []string{"application/json", "application/graphql-response+json"} {
		t.Run("under "+accept, func(t *testing.T) {
			r := send(t, e.gql.URL, callUpdated, map[string]any{"id": id}, map[string]string{"Accept": accept})
			if fmt.Sprint(r.codes()) != "[BAD_REQUEST]" || r.Data != nil {
				t.Fatalf("status %d, %s: want BAD_REQUEST without data", r.status, r.raw)
			}
		})
	}
	if n := e.sb.Requests(); n != 0 {
		t.Fatalf("a refused subscription cost %d upstream requests", n)
	}
}

func TestAConnectionThatStopsAnsweringPingsIsClosed(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, func(c *gateway.Config) { c.Subscriptions.KeepAlive = 20 * time.Millisecond })
	id := e.place(t)
	c, err := dialWS(t, e.gql.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.mute.Store(true) // pings go unanswered from now on
	next(t, c.subscribe(t, "1", callUpdated, map[string]any{"id": id}))
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the server kept a connection that answers no ping")
	}
	waitFor(t, func() bool { return e.subs.Registry.Stats() == live.Stats{} })
}
