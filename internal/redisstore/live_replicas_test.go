package redisstore_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
	"github.com/revox-graphql/gateway/internal/revox"
)

func TestLiveRegistrySharesOnePollerBetweenReplicas(t *testing.T) {
	srv := redistest.Start(t)
	const interval = 100 * time.Millisecond
	all := replicas(t, srv, 4, interval)
	rs, late := all[:3], all[3] // late joins after the first values
	u := &fakeUpstream{status: "queued"}
	subs := spread(t, rs, u, 30)
	within(t, 2*time.Second, "every subscriber gets the first value", allSee(subs, "queued"))

	t.Run("30 subscribers over three replicas make one upstream poll per interval", func(t *testing.T) {
		if h := holders(rs); len(h) != 1 {
			t.Fatalf("replicas polling: %v, want one", h)
		}
		from := time.Now()
		time.Sleep(10 * interval)
		n, who := u.pollsSince(from)
		t.Logf("%d polls in 10 intervals by replicas %v", n, who)
		if n < 7 || n > 12 || len(who) != 1 {
			t.Fatalf("%d polls in 10 intervals by replicas %v, want about 10 by one", n, who)
		}
	})

	t.Run("a change reaches the subscribers on every replica", func(t *testing.T) {
		u.set("ringing", false, nil)
		within(t, 5*interval, "every subscriber sees ringing", allSee(subs, "ringing"))
		for i, rr := range subs {
			values, _, _ := rr[0].state()
			if strings.Join(values, ",") != "queued,ringing" {
				t.Fatalf("replica %d's subscriber got %v, want each value once", i, values)
			}
		}
	})

	t.Run("a new subscriber on a replica that does not poll gets the last value at once", func(t *testing.T) {
		rec := &recorder{}
		if _, err := late.reg.Subscribe(callKey, u.pollFor(3), rec); err != nil {
			t.Fatal(err)
		}
		within(t, interval/2, "the new subscriber gets ringing", func() bool { return rec.last() == "ringing" })
		if p := late.reg.Stats().Pollers; p != 0 {
			t.Fatalf("the new subscriber's replica runs %d pollers, want none", p)
		}
	})

	t.Run("when the lease holder dies another replica polls within two intervals", func(t *testing.T) {
		h := holders(rs)[0]
		rs[h].reg.Crash()
		died := time.Now()
		within(t, 2*interval+interval/2, "another replica polls", func() bool {
			p := u.lastPoll()
			return p.at.After(died) && p.replica != h
		})
		t.Logf("took over after %v", u.lastPoll().at.Sub(died))
		var alive [][]*recorder
		for i := range rs {
			if i != h {
				alive = append(alive, subs[i])
			}
		}
		u.set("in_progress", false, nil)
		within(t, 5*interval, "the other replicas' subscribers see in_progress", allSee(alive, "in_progress"))
		from := time.Now()
		time.Sleep(10 * interval)
		if n, who := u.pollsSince(from); n > 12 || len(who) != 1 {
			t.Fatalf("%d polls in 10 intervals by replicas %v, want about 10 by one", n, who)
		}

		u.set("completed", true, nil)
		within(t, 5*interval, "every subscriber is completed", func() bool {
			for _, rr := range alive {
				for _, r := range rr {
					if _, _, closed := r.state(); !closed || r.last() != "completed" {
						return false
					}
				}
			}
			return true
		})
	})
}

func TestLiveRegistryCarriesFailures(t *testing.T) {
	srv := redistest.Start(t)
	const interval = 100 * time.Millisecond
	rs := replicas(t, srv, 2, interval)
	u := &fakeUpstream{status: "queued"}
	subs := spread(t, rs, u, 2)
	within(t, 2*time.Second, "both subscribers get the first value", allSee(subs, "queued"))
	holder := holders(rs)[0]
	remote := subs[1-holder][0]

	t.Run("a failure streak reaches the other replica once, as the same upstream error", func(t *testing.T) {
		u.set("queued", false, &revox.APIError{StatusCode: http.StatusTooManyRequests, Method: "GET", Path: "/call/order-1", RetryAfter: 3 * time.Second})
		within(t, 10*interval, "the other replica's subscriber gets the error", func() bool {
			_, errs, _ := remote.state()
			return len(errs) > 0
		})
		time.Sleep(5 * interval)
		_, errs, _ := remote.state()
		var apiErr *revox.APIError
		if len(errs) != 1 || !errors.Is(errs[0], revox.ErrRateLimited) || !errors.As(errs[0], &apiErr) || apiErr.RetryAfter != 3*time.Second {
			t.Fatalf("errors %v, want one rate-limited error with its Retry-After", errs)
		}
	})

	t.Run("after the streak the value is sent again", func(t *testing.T) {
		u.set("queued", false, nil)
		within(t, 40*interval, "the value comes back", func() bool {
			values, _, _ := remote.state()
			return len(values) == 2 && values[1] == "queued"
		})
	})

	t.Run("a final error ends the subscriptions on every replica", func(t *testing.T) {
		u.set("", false, live.Final(&revox.APIError{StatusCode: http.StatusNotFound, Method: "GET", Path: "/call/order-1"}))
		within(t, 40*interval, "both subscribers end", func() bool {
			for _, rr := range subs {
				if _, _, closed := rr[0].state(); !closed {
					return false
				}
			}
			return true
		})
		_, errs, _ := remote.state()
		if last := errs[len(errs)-1]; !errors.Is(last, revox.ErrNotFound) || !live.IsFinal(last) {
			t.Fatalf("last error %v, want a final not found", last)
		}
	})
}

func TestLiveRegistryPokeMakesTheHolderPoll(t *testing.T) {
	srv := redistest.Start(t)
	const interval = 2 * time.Second
	rs := replicas(t, srv, 2, interval)
	u := &fakeUpstream{status: "queued"}
	subs := spread(t, rs, u, 2)
	within(t, 2*time.Second, "both subscribers get the first value", allSee(subs, "queued"))
	holder := holders(rs)[0]
	u.set("ringing", false, nil)
	rs[1-holder].reg.Poke(callKey.Field, callKey.Args, "")
	within(t, interval/2, "a webhook on the other replica brings the change before the interval", allSee(subs, "ringing"))
}

func TestLiveRegistryWithoutRedis(t *testing.T) {
	srv := redistest.Start(t)
	const interval = 100 * time.Millisecond
	rs := replicas(t, srv, 3, interval)
	u := &fakeUpstream{status: "queued"}
	subs := spread(t, rs, u, 9)
	within(t, 2*time.Second, "every subscriber gets the first value", allSee(subs, "queued"))
	otherKey := live.Key{Field: "callUpdated", Args: "order-2"}
	other := &fakeUpstream{status: "queued"}
	late := []*recorder{{}, {}} // subscribe to otherKey while Redis is down

	srv.Kill()
	t.Run("Redis down: every replica polls for its own subscribers, which keep receiving", func(t *testing.T) {
		within(t, 5*time.Second, "the three replicas poll", func() bool { return len(holders(rs)) == 3 })
		u.set("ringing", false, nil)
		within(t, 5*interval, "every subscriber sees ringing", allSee(subs, "ringing"))
		from := time.Now()
		time.Sleep(10 * interval)
		n, who := u.pollsSince(from)
		t.Logf("%d polls in 10 intervals by replicas %v while Redis is down", n, who)
		if len(who) != 3 {
			t.Fatalf("replicas %v polled while Redis was down, want all three", who)
		}
		for i, r := range rs {
			if got := fallbacks(r.fixture, redisstore.ComponentLive); got != 1 {
				t.Errorf("replica %d: live fallbacks %v, want 1", i, got)
			}
			if n := strings.Count(r.logs.String(), "each replica polls for its own subscribers"); n != 1 {
				t.Errorf("replica %d logged the outage %d times, want once", i, n)
			}
		}
	})

	t.Run("Redis down: a subscription to a new key is polled at once", func(t *testing.T) {
		for i, r := range late {
			if _, err := rs[i].reg.Subscribe(otherKey, other.pollFor(i), r); err != nil {
				t.Fatal(err)
			}
		}
		within(t, 5*interval, "both subscribers of the new key get its value", allSee([][]*recorder{late}, "queued"))
	})

	srv.MustRestart(t)
	t.Run("Redis back: one replica polls again, and changes reach every replica", func(t *testing.T) {
		within(t, 5*time.Second, "one replica polls each key", func() bool {
			n := 0
			for _, r := range rs {
				n += r.reg.Stats().Pollers
			}
			return n == 2
		})
		other.set("ringing", false, nil)
		within(t, 5*time.Second, "the new key's subscribers see ringing", allSee([][]*recorder{late}, "ringing"))
		u.set("in_progress", false, nil)
		within(t, 5*time.Second, "every subscriber sees in_progress", allSee(subs, "in_progress"))
		from := time.Now()
		time.Sleep(10 * interval)
		if n, who := u.pollsSince(from); n > 12 || len(who) != 1 {
			t.Fatalf("%d polls in 10 intervals by replicas %v, want about 10 by one", n, who)
		}
	})
}

func TestLiveRegistryKeys(t *testing.T) {
	srv := redistest.Start(t)
	rs := replicas(t, srv, 2, 100*time.Millisecond)
	const secret = "sk_live_do_not_store_me"
	key := live.Key{Credential: secret, Field: "callUpdated", Args: "order-1"}
	u := &fakeUpstream{status: "queued"}
	recs := []*recorder{{}, {}}
	for i, rec := range recs {
		if _, err := rs[i].reg.Subscribe(key, u.pollFor(i), rec); err != nil {
			t.Fatal(err)
		}
	}
	within(t, 2*time.Second, "both subscribers get the first value", func() bool { return recs[0].last() == "queued" && recs[1].last() == "queued" })

	t.Run("every key is under the prefix, expires, and names no credential", func(t *testing.T) {
		ctx := t.Context()
		keys, err := rs[0].conn.Client().Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 {
			t.Fatalf("keys %v, want a lease and a last message", keys)
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, rs[0].prefix+"live:") || strings.Contains(k, secret) || strings.Contains(k, "order-1") {
				t.Errorf("key %q", k)
			}
			if ttl, err := rs[0].conn.Client().PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
				t.Errorf("key %q has TTL %v (%v)", k, ttl, err)
			}
			if v, _ := rs[0].conn.Client().Get(ctx, k).Result(); strings.Contains(v, secret) {
				t.Errorf("key %q holds the credential", k)
			}
		}
	})
}
