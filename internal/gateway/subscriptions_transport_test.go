package gateway_test

import (
	"fmt"
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
