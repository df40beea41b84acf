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

func (r response) dump() string { return fmt.Sprintf("data=%s errors=%+v", r.Data, r.Errors) }

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

// openSSE starts a graphql-sse subscription and returns a function that
// waits for its next event (its "event: …" and "data: …" lines).
func openSSE(t testing.TB, base, query string, vars map[string]any) func() string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
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
	return func() string {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("no event in 20s")
			return ""
		}
	}
}
