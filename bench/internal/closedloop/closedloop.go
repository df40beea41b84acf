// Package closedloop drives a closed-loop load from this process: a fixed
// number of clients, each sending its next request as soon as the previous
// answer is read, for a bounded time.
package closedloop

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Run runs clients that send request(i), i counting up across all of them,
// until duration has passed or ctx ends, and returns the number answered and
// the time taken. check judges each answer (its body read whole); the first
// transport error or check failure stops the run and is returned.
func Run(ctx context.Context, clients int, duration time.Duration, request func(ctx context.Context, i int) *http.Request, check func(resp *http.Response, body []byte) error) (int64, time.Duration, error) {
	transport := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	var next, done atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var buf bytes.Buffer
			for ctx.Err() == nil && time.Now().Before(deadline) {
				resp, err := hc.Do(request(ctx, int(next.Add(1))))
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				buf.Reset()
				_, err = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				if err == nil {
					err = check(resp, buf.Bytes())
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, 0, err
	}
	if ctx.Err() != nil {
		return 0, 0, ctx.Err()
	}
	return done.Load(), time.Since(start), nil
}

// Median is the median of xs (0 for none).
func Median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
