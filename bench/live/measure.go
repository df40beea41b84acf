package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const callUpdated = `subscription($id: ID!) { callUpdated(id: $id) { id status lastCallAttempt { status transcriptLength } } }`

// subscribers opens n callUpdated subscriptions to id over conns WebSocket
// connections and waits for each one's first event. seen gets every event
// (subscription index, status, arrival).
func subscribers(ctx context.Context, base, id string, n, conns int, seen func(i int, status, typ string, at time.Time)) ([]*wsConn, error) {
	var first sync.WaitGroup
	first.Add(n)
	got := make([]atomic.Bool, n)
	var cs []*wsConn
	for c := range conns {
		conn, err := dialWS(ctx, base, func(sid, typ string, payload json.RawMessage, at time.Time) {
			i, _ := strconv.Atoi(sid)
			var ev struct {
				Data struct {
					CallUpdated struct {
						Status string `json:"status"`
					} `json:"callUpdated"`
				} `json:"data"`
			}
			_ = json.Unmarshal(payload, &ev)
			if i >= 0 && i < n && got[i].CompareAndSwap(false, true) {
				first.Done()
			}
			if seen != nil {
				seen(i, ev.Data.CallUpdated.Status, typ, at)
			}
		})
		if err != nil {
			return cs, err
		}
		cs = append(cs, conn)
		for i := c; i < n; i += conns {
			if err := conn.subscribe(strconv.Itoa(i), callUpdated, map[string]any{"id": id}); err != nil {
				return cs, err
			}
		}
	}
	done := make(chan struct{})
	go func() { first.Wait(); close(done) }()
	select {
	case <-done:
		return cs, nil
	case <-time.After(60 * time.Second):
		return cs, fmt.Errorf("not every subscriber got its first event in 60s")
	}
}

func closeAll(cs []*wsConn) {
	for _, c := range cs {
		c.close()
	}
}

// sharedPoll counts the upstream requests 1,000 subscribers of one live
// call cost over ten poll intervals.
func sharedPoll(ctx context.Context, e *env) error {
	id, err := placeOrder(ctx, e.upstream)
	if err != nil {
		return err
	}
	var events atomic.Int64
	cs, err := subscribers(ctx, e.gateway, id, 1000, 10, func(int, string, string, time.Time) { events.Add(1) })
	defer closeAll(cs)
	if err != nil {
		return err
	}
	before, err := upstreamRequests(ctx, e.upstream)
	if err != nil {
		return err
	}
	ev0 := events.Load()
	const window = 10 * time.Second
	time.Sleep(window)
	after, err := upstreamRequests(ctx, e.upstream)
	if err != nil {
		return err
	}
	fmt.Println("## Shared pollers")
	fmt.Printf("\n1,000 WebSocket subscribers of one placed call over 10 connections, POLL_INTERVAL=1s, for %v:\n", window)
	fmt.Printf("%d upstream GET /call/{id} in all (one per interval: %d intervals), %d events delivered (%d changes x 1,000).\n",
		after-before, int(window/time.Second), events.Load()-ev0, (events.Load()-ev0)/1000)
	return nil
}

// fanOutLatency measures, rounds times, the time from an upstream change
// (a cancel) to the last of 1,000 subscribers receiving it, the webhook
// asking for an immediate poll.
func fanOutLatency(ctx context.Context, e *env, rounds int) error {
	var lasts, all []time.Duration
	for range rounds {
		id, err := placeOrder(ctx, e.upstream)
		if err != nil {
			return err
		}
		var mu sync.Mutex
		var changed time.Time
		var received []time.Duration
		var wg sync.WaitGroup
		wg.Add(1000)
		cs, err := subscribers(ctx, e.gateway, id, 1000, 10, func(_ int, status, typ string, at time.Time) {
			if typ == "next" && status == "CANCELLED" {
				mu.Lock()
				received = append(received, at.Sub(changed))
				mu.Unlock()
				wg.Done()
			}
		})
		if err != nil {
			closeAll(cs)
			return err
		}
		mu.Lock()
		changed = time.Now()
		mu.Unlock()
		if err := cancelOrder(ctx, e.upstream, id); err != nil {
			closeAll(cs)
			return err
		}
		if err := poke(ctx, e.gateway, id); err != nil {
			closeAll(cs)
			return err
		}
		wg.Wait()
		closeAll(cs)
		lasts = append(lasts, slices.Max(received))
		all = append(all, received...)
	}
	slices.Sort(lasts)
	slices.Sort(all)
	fmt.Printf("\n## Change to last subscriber\n\n%d rounds: a call is cancelled upstream, the webhook is posted, 1,000 WebSocket subscribers (10 connections) receive CANCELLED.\n\n", rounds)
	fmt.Println("| measured from the upstream change | p50 | p99 | max |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| last of 1,000 subscribers (per round) | %s | %s | %s |\n", ms(pct(lasts, 50)), ms(pct(lasts, 99)), ms(lasts[len(lasts)-1]))
	fmt.Printf("| every subscriber (%d receipts) | %s | %s | %s |\n", len(all), ms(pct(all, 50)), ms(pct(all, 99)), ms(all[len(all)-1]))
	fmt.Println("\nWithout the webhook, add the wait for the next poll: up to POLL_INTERVAL.")
	return nil
}

// idleMemory opens n idle subscriptions over transport and reports the
// gateway's growth per subscription.
func idleMemory(ctx context.Context, e *env, transport string, n int) error {
	id, err := placeOrder(ctx, e.upstream)
	if err != nil {
		return err
	}
	settle := func() (map[string]float64, int64) {
		time.Sleep(2 * time.Second)
		g, _ := gauges(ctx, e.gateway)
		return g, rss(e.gwPID)
	}
	g0, rss0 := settle()
	conns := n
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var cs []*wsConn
	defer func() { closeAll(cs) }()
	switch transport {
	case "WebSocket":
		conns = (n + 99) / 100
		cs, err = subscribers(ctx, e.gateway, id, n, conns, nil)
	case "SSE":
		for i := 0; i < n && err == nil; i++ {
			err = sseSubscribe(sctx, e.gateway, callUpdated, map[string]any{"id": id}, nil)
		}
	}
	if err != nil {
		return err
	}
	g1, rss1 := settle()
	if g1["gateway_subscriptions"] != float64(n) {
		return fmt.Errorf("%s: the gateway serves %v subscriptions, want %d", transport, g1["gateway_subscriptions"], n)
	}
	heap := int64(g1["go_memstats_heap_inuse_bytes"] - g0["go_memstats_heap_inuse_bytes"])
	fmt.Printf("| %s | %d | %d | %s | %s | %s | %s | %.1f |\n", transport, n, conns,
		mibs(rss1-rss0), kib((rss1-rss0)/int64(n)), mibs(heap), kib(heap/int64(n)),
		(g1["go_goroutines"]-g0["go_goroutines"])/float64(n))
	return nil
}

// runSoak has workers join and leave subscriptions at random for d and
// samples the gateway; at the end every subscription is gone and no
// poller may be left.
func runSoak(ctx context.Context, e *env, d time.Duration) error {
	const workers = 50
	orders := make([]string, 10)
	for i := range orders {
		id, err := placeOrder(ctx, e.upstream)
		if err != nil {
			return err
		}
		orders[i] = id
	}
	g0, _ := gauges(ctx, e.gateway)
	fmt.Printf("\n## Soak\n\n%v: %d workers, each on its own WebSocket connection, join a random subscription (callUpdated of one of 10 placed calls, re-placed as they end, or callsUpdated with a random first and filter), hold it 0-2 s, leave (complete, or the whole connection every 10th time); POLL_INTERVAL=500ms, SANDBOX_TIME_SCALE=10.\n\n", d, workers)
	fmt.Println("| time | goroutines | RSS MiB | heap in use MiB | subscriptions | pollers | joins |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var joins atomic.Int64
	var ordersMu sync.Mutex
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var conn *wsConn
			for n := 0; sctx.Err() == nil; n++ {
				if conn == nil {
					c, err := dialWS(sctx, e.gateway, nil)
					if err != nil {
						continue
					}
					conn = c
				}
				sid := strconv.Itoa(n)
				if rng.IntN(2) == 0 {
					ordersMu.Lock()
					k := rng.IntN(len(orders))
					id := orders[k]
					if rng.IntN(20) == 0 { // calls end; new ones start
						if fresh, err := placeOrder(sctx, e.upstream); err == nil {
							orders[k] = fresh
						}
					}
					ordersMu.Unlock()
					_ = conn.subscribe(sid, callUpdated, map[string]any{"id": id})
				} else {
					statuses := [][]string{nil, {"CALLING"}, {"COMPLETED", "CANCELLED"}}[rng.IntN(3)]
					_ = conn.subscribe(sid, `subscription($first: Int, $s: [CallStatusFilter!]) { callsUpdated(first: $first, statuses: $s) { nodes { id status } } }`,
						map[string]any{"first": 1 + rng.IntN(5), "s": statuses})
				}
				joins.Add(1)
				select {
				case <-time.After(time.Duration(rng.IntN(2000)) * time.Millisecond):
				case <-sctx.Done():
				}
				if n%10 == 9 {
					conn.close()
					conn = nil
				} else {
					_ = conn.unsubscribe(sid)
				}
			}
			if conn != nil {
				conn.close()
			}
		})
	}
	start := time.Now()
	tick := time.NewTicker(max(d/10, 5*time.Second))
	defer tick.Stop()
	sample := func() map[string]float64 {
		g, _ := gauges(ctx, e.gateway)
		fmt.Printf("| %v | %.0f | %.1f | %.1f | %.0f | %.0f | %d |\n", time.Since(start).Round(time.Second), g["go_goroutines"],
			float64(rss(e.gwPID))/(1<<20), g["go_memstats_heap_inuse_bytes"]/(1<<20), g["gateway_subscriptions"], g["gateway_subscription_pollers"], joins.Load())
		return g
	}
	var samples []map[string]float64
loop:
	for {
		select {
		case <-tick.C:
			samples = append(samples, sample())
		case <-sctx.Done():
			break loop
		}
	}
	wg.Wait()
	time.Sleep(3 * time.Second)
	end := sample()
	// The first sample warms pools; every later one is held to it.
	verdict := "FLAT"
	for _, s := range samples[min(1, len(samples)):] {
		if len(samples) > 1 && s["go_goroutines"] > samples[1]["go_goroutines"]*1.2+20 || s["go_memstats_heap_inuse_bytes"] > samples[1]["go_memstats_heap_inuse_bytes"]*1.25 {
			verdict = "GROWING"
		}
	}
	fmt.Printf("\nAfter every worker left: %.0f subscriptions, %.0f pollers, %.0f goroutines (%.0f before the soak). Every sample after the second against the second: %s (goroutines within +20%%+20, heap in use within +25%%).\n",
		end["gateway_subscriptions"], end["gateway_subscription_pollers"], end["go_goroutines"], g0["go_goroutines"], verdict)
	if end["gateway_subscription_pollers"] != 0 || end["gateway_subscriptions"] != 0 {
		return fmt.Errorf("pollers or subscriptions left after the soak")
	}
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, (len(sorted)*p+99)/100-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func mibs(n int64) string       { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
func kib(n int64) string        { return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10)) }
