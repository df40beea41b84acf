package redisstore_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
)

// fakeUpstream is one watched call: every replica's poll reads it, and it
// counts the reads by replica.
type fakeUpstream struct {
	mu     sync.Mutex
	status string
	final  bool
	err    error
	polls  []poll
}

type poll struct {
	replica int
	at      time.Time
}

func (u *fakeUpstream) set(status string, final bool, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status, u.final, u.err = status, final, err
}

// pollFor is replica i's poll, as its resolver would build it.
func (u *fakeUpstream) pollFor(i int) live.Poll {
	return func(ctx context.Context) (live.Snapshot, error) {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.polls = append(u.polls, poll{i, time.Now()})
		if u.err != nil {
			return live.Snapshot{}, u.err
		}
		data, _ := json.Marshal(u.status)
		return live.Snapshot{Value: u.status, JSON: data, Final: u.final}, nil
	}
}

// pollsSince counts the polls after t, and the replicas that made them.
func (u *fakeUpstream) pollsSince(t time.Time) (n int, replicas map[int]bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	replicas = map[int]bool{}
	for _, p := range u.polls {
		if p.at.After(t) {
			n++
			replicas[p.replica] = true
		}
	}
	return n, replicas
}

func (u *fakeUpstream) lastPoll() poll {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.polls) == 0 {
		return poll{}
	}
	return u.polls[len(u.polls)-1]
}

// recorder is a subscriber that decodes values as its resolver would.
type recorder struct {
	mu     sync.Mutex
	values []string
	errs   []error
	closed bool
}

func (r *recorder) Send(u live.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if u.Err != nil {
		r.errs = append(r.errs, u.Err)
		return
	}
	r.values = append(r.values, u.Value.(string))
}

func (r *recorder) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
}

func (r *recorder) Decode(data []byte) (any, error) {
	var s string
	err := json.Unmarshal(data, &s)
	return s, err
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.values) == 0 {
		return ""
	}
	return r.values[len(r.values)-1]
}

func (r *recorder) state() (values []string, errs []error, closed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.values...), append([]error(nil), r.errs...), r.closed
}

// replica is one gateway's shared registry.
type replica struct {
	fixture
	reg *redisstore.LiveRegistry
}

// replicas opens n registries on srv under one prefix.
func replicas(t *testing.T, srv *redistest.Server, n int, interval time.Duration) []replica {
	t.Helper()
	prefix := newPrefix()
	out := make([]replica, n)
	for i := range out {
		f := open(t, srv, prefix)
		reg := redisstore.NewLiveRegistry(f.conn, live.MemoryOptions{Interval: interval, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = reg.Shutdown(ctx)
		})
		out[i] = replica{f, reg}
	}
	return out
}

var callKey = live.Key{Credential: "c1", Field: "callUpdated", Args: "order-1"}

// spread subscribes n recorders to callKey, round robin over rs.
func spread(t *testing.T, rs []replica, u *fakeUpstream, n int) [][]*recorder {
	t.Helper()
	out := make([][]*recorder, len(rs))
	for i := range n {
		j := i % len(rs)
		rec := &recorder{}
		if _, err := rs[j].reg.Subscribe(callKey, u.pollFor(j), rec); err != nil {
			t.Fatal(err)
		}
		out[j] = append(out[j], rec)
	}
	return out
}

// within polls cond every 5 ms for up to d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allSee(subs [][]*recorder, status string) func() bool {
	return func() bool {
		for _, rs := range subs {
			for _, r := range rs {
				if r.last() != status {
					return false
				}
			}
		}
		return true
	}
}

// holders are the replicas polling now.
func holders(rs []replica) []int {
	var out []int
	for i, r := range rs {
		if r.reg.Stats().Pollers > 0 {
			out = append(out, i)
		}
	}
	return out
}
