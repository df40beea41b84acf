package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/live"
)

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

func TestShutdownCompletesEveryEventStream(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	id := e.place(t)
	streams := []func() string{
		openSSE(t, e.gql.URL, callUpdated, map[string]any{"id": id}),
		openSSE(t, e.gql.URL, `subscription { callsUpdated(first: 1) { nodes { id } } }`, nil),
	}
	for _, next := range streams {
		next()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.subs.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, next := range streams {
		if ev := next(); ev != "event: complete" {
			t.Fatalf("got %q, want complete", ev)
		}
	}
	if ev := openSSE(t, e.gql.URL, callUpdated, map[string]any{"id": id})(); !strings.Contains(ev, `"code":"SHUTTING_DOWN"`) {
		t.Fatalf("a subscription after shutdown got %q, want SHUTTING_DOWN", ev)
	}
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

	t.Run("statuses filter the window as calls(statuses:) does", func(t *testing.T) {
		var w window
		event(t, next(t, c.subscribe(t, "4", `subscription { callsUpdated(first: 3, statuses: [COMPLETED]) { nodes { id status } pageInfo { hasNextPage } } }`, nil))).ok(t, &w)
		if len(w.CallsUpdated.Nodes) != 3 {
			t.Fatalf("window %+v, want 3 attempts", w)
		}
		for _, n := range w.CallsUpdated.Nodes {
			if n.Status != "COMPLETED" {
				t.Fatalf("an attempt of a %s order in a COMPLETED window", n.Status)
			}
		}
	})

	t.Run("a status calls cannot filter on is refused by validation", func(t *testing.T) {
		if got := firstCodes(t, next(t, c.subscribe(t, "5", `subscription { callsUpdated(first: 3, statuses: [POST_PROCESSING]) { nodes { id } } }`, nil))); got != "GRAPHQL_VALIDATION_FAILED" {
			t.Fatalf("codes %q, want GRAPHQL_VALIDATION_FAILED", got)
		}
	})

	t.Run("a first beyond the maximum is BAD_USER_INPUT", func(t *testing.T) {
		if got := firstCodes(t, next(t, c.subscribe(t, "3", `subscription { callsUpdated(first: 1000) { nodes { id } } }`, nil))); got != "BAD_USER_INPUT" {
			t.Fatalf("codes %q, want BAD_USER_INPUT", got)
		}
	})
}
