package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/live"
)

func TestSSESubscriptionStreamsEventsThenCompletes(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	id := e.place(t)
	nextEvent := openSSE(t, e.gql.URL, callUpdated, map[string]any{"id": id})
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

func TestAnEventStreamMayBeAskedWithGET(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, func(c *gateway.Config) { c.DisableCSRFPrevention = true })
	id := e.place(t)
	vars, _ := json.Marshal(map[string]any{"id": id})
	u := e.gql.URL + "/query?" + url.Values{"query": {callUpdated}, "variables": {string(vars)}}.Encode()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < 1<<16 && !strings.Contains(string(got), "QUEUED_FOR_CALLING") {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") || !strings.Contains(string(got), `"status":"QUEUED_FOR_CALLING"`) {
		t.Fatalf("%d %s: %q", resp.StatusCode, ct, got)
	}

	bad := e.gql.URL + "/query?" + url.Values{"query": {callUpdated}, "variables": {"[1]"}}.Encode()
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, bad, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "BAD_REQUEST") {
		t.Fatalf("variables that are not an object: %d %s", resp.StatusCode, body)
	}
}

func TestQueriesOverAWebSocketAndOverAnEventStreamAreAnswered(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	id := e.place(t)
	const query = `query($id: ID!) { call(id: $id) { id } calls(first: 1) { nodes { id } } }`
	c, err := dialWS(t, e.gql.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // two operations of one connection: each its own loaders
		m := next(t, c.subscribe(t, fmt.Sprint("q", i), query, map[string]any{"id": id}))
		if r := event(t, m); len(r.Errors) > 0 || !strings.Contains(string(r.Data), id) {
			t.Fatalf("query %d over the WebSocket: %s", i, r.raw)
		}
	}
	nextEvent := openSSE(t, e.gql.URL, query, map[string]any{"id": id})
	if ev := nextEvent(); !strings.Contains(ev, id) || strings.Contains(ev, "errors") {
		t.Fatalf("query over an event stream: %q", ev)
	}
}

func TestAClientThatAlsoAcceptsJSONGetsJSON(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	// urql's Accept: it lists text/event-stream after the JSON types.
	u := e.gql.URL + "/query?" + url.Values{"query": {`{ calls(first: 1) { nodes { id } } }`}}.Encode()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed")
	req.Header.Set("Apollo-Require-Preflight", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "application/graphql-response+json") || !strings.Contains(string(body), `"nodes"`) {
		t.Fatalf("%d %s: %s", resp.StatusCode, ct, body)
	}
}
