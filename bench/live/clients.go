package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsConn is one graphql-transport-ws connection carrying many
// subscriptions; each message is handed to onMessage with its arrival time.
type wsConn struct {
	conn      *websocket.Conn
	mu        sync.Mutex
	onMessage func(id, typ string, payload json.RawMessage, at time.Time)
	done      chan struct{}
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(ctx context.Context, base string, onMessage func(id, typ string, payload json.RawMessage, at time.Time)) (*wsConn, error) {
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/query", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 22)
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
		return nil, err
	}
	var ack wsMessage
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		return nil, fmt.Errorf("connection_init: %v %s", err, ack.Type)
	}
	c := &wsConn{conn: conn, onMessage: onMessage, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *wsConn) read() {
	defer close(c.done)
	for {
		var m wsMessage
		if err := wsjson.Read(context.Background(), c.conn, &m); err != nil {
			return
		}
		if m.Type == "ping" {
			c.send(map[string]any{"type": "pong"})
			continue
		}
		if c.onMessage != nil {
			c.onMessage(m.ID, m.Type, m.Payload, time.Now())
		}
	}
}

func (c *wsConn) send(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return wsjson.Write(ctx, c.conn, v)
}

func (c *wsConn) subscribe(id, query string, vars map[string]any) error {
	return c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

func (c *wsConn) unsubscribe(id string) error {
	return c.send(map[string]any{"id": id, "type": "complete"})
}

func (c *wsConn) close() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "bye")
	<-c.done
}

// sseSubscribe opens one graphql-sse stream and calls onEvent with each
// event's name; it returns once the first event arrived (or failed) and
// keeps reading until ctx ends.
func sseSubscribe(ctx context.Context, base, query string, vars map[string]any, onEvent func(name string)) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := sseClient.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return fmt.Errorf("SSE: HTTP %d", resp.StatusCode)
	}
	first := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<22)
		once := sync.Once{}
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				once.Do(func() { close(first) })
				if onEvent != nil {
					onEvent(name)
				}
			}
		}
		once.Do(func() { close(first) })
	}()
	select {
	case <-first:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("SSE: no first event in 30s")
	}
}

var sseClient = &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 100, DisableCompression: true}}

// placeOrder places a call on the sandbox directly and returns its id.
func placeOrder(ctx context.Context, upstream string) (string, error) {
	body := `{"phone_number":"+14155550123","assistant":{"prompt":"Say hello, then goodbye."}}`
	var out struct {
		Call struct {
			ID string `json:"id"`
		} `json:"call"`
	}
	if err := upstreamDo(ctx, http.MethodPost, upstream+"/call", body, &out); err != nil {
		return "", err
	}
	return out.Call.ID, nil
}

func cancelOrder(ctx context.Context, upstream, id string) error {
	return upstreamDo(ctx, http.MethodPost, upstream+"/call/"+id+"/cancel", "", nil)
}

// upstreamRequests is the sandbox's request counter.
func upstreamRequests(ctx context.Context, upstream string) (int64, error) {
	var out struct {
		Requests int64 `json:"requests"`
	}
	err := upstreamDo(ctx, http.MethodGet, upstream+"/_sandbox/stats", "", &out)
	return out.Requests, err
}

func upstreamDo(ctx context.Context, method, url, body string, into any) error {
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sandboxKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d %s", method, url, resp.StatusCode, b)
	}
	if into != nil {
		return json.Unmarshal(b, into)
	}
	return nil
}

// poke posts the webhook naming id.
func poke(ctx context.Context, gateway, id string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, gateway+"/webhooks/revox", strings.NewReader(`{"call_order_id":"`+id+`"}`))
	req.Header.Set("X-Webhook-Secret", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("webhook: HTTP %d", resp.StatusCode)
	}
	return nil
}

// gauges reads the unlabelled values of the gateway's /metrics.
func gauges(ctx context.Context, base string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] = f
		}
	}
	return out, sc.Err()
}

// rss is a process's resident set in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
