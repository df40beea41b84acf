// Command replicas measures what sharing state through Redis costs (issue
// 13): req/s of the full-field page served by three gateway replicas that
// share one Redis, against one replica without Redis, and the latency a
// Redis round trip adds to a response-cache hit. Everything runs in this
// process over loopback (the sandbox, the replicas, the load) except
// redis-server, which it starts on a free port and stops; on a machine of
// few cores the replicas share them, so the req/s rows show what Redis
// costs, not how replicas scale. It prints markdown rows for BENCHMARKS.md.
//
//	go run ./bench/replicas               about 40 s
//	go run ./bench/replicas -d 2s -rounds 1 -samples 500
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"

	"github.com/revox-graphql/gateway/bench/internal/workload"
	"github.com/revox-graphql/gateway/bench/load"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func main() {
	d := flag.Duration("d", 5*time.Second, "measured time per scenario and round")
	rounds := flag.Int("rounds", 3, "rounds; scenarios alternate within each, the median is reported")
	clients := flag.Int("clients", 15, "closed-loop clients in all (split evenly over the replicas)")
	pageSize := flag.Int("page", 20, "attempts per page")
	cacheTTL := flag.Duration("cache", time.Second, "CACHE_TTL of every replica")
	samples := flag.Int("samples", 2000, "samples per cache-hit latency row")
	flag.Parse()
	if err := run(*d, *rounds, *clients, *pageSize, *cacheTTL, *samples); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

type scenario struct {
	name     string
	replicas int
	redis    bool
	rps      float64
}

func run(d time.Duration, rounds, clients, pageSize int, cacheTTL time.Duration, samples int) error {
	dir, err := os.MkdirTemp("", "bench-replicas-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rs, err := redistest.Launch(dir)
	if err != nil {
		return fmt.Errorf("redis-server (apt-get install --no-install-recommends redis-server): %w", err)
	}
	defer rs.Kill()
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	defer up.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	scenarios := []scenario{
		{"1 replica, no Redis", 1, false, 0},
		{"3 replicas + Redis", 3, true, 0},
		{"3 replicas + Redis, RATE_LIMIT_RPS on (one GCRA call per request)", 3, true, 1e6},
	}
	results := make([][]load.Result, len(scenarios))
	body := workload.Body(workload.FullQuery(pageSize))
	for r := range rounds {
		for i, sc := range scenarios {
			urls, stop, err := startReplicas(sc, up.URL, rs.URL(), fmt.Sprintf("bench%d-%d:", r, i), cacheTTL, quiet)
			if err != nil {
				return err
			}
			res, err := loadSplit(urls, body, clients, d)
			stop()
			if err != nil {
				return err
			}
			results[i] = append(results[i], res)
		}
	}

	fmt.Printf("Full-field page (pageSize %d), %d clients in all, CACHE_TTL=%v, %d × %v, median round; same process, same run:\n\n", pageSize, clients, cacheTTL, rounds, d)
	fmt.Println("| Replicas | req/s | each round | p50 | p99 | errors | x(1 replica) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	base := median(results[0]).PerSecond
	for i, sc := range scenarios {
		m := median(results[i])
		var each []string
		for _, r := range results[i] {
			each = append(each, fmt.Sprintf("%.0f", r.PerSecond))
		}
		fmt.Printf("| %s | %.0f | %s | %v | %v | %d | %.2fx |\n", sc.name, m.PerSecond, strings.Join(each, " / "), m.P50.Round(time.Microsecond), m.P99.Round(time.Microsecond), m.Errors, m.PerSecond/base)
	}
	fmt.Println()
	return cacheLatency(up.URL, rs.URL(), pageSize, cacheTTL, samples, quiet)
}

// startReplicas starts sc's replicas as server.go wires them.
func startReplicas(sc scenario, upstream, redisURL, prefix string, cacheTTL time.Duration, logger *slog.Logger) ([]string, func(), error) {
	var urls []string
	var closers []func()
	stop := func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
	}
	for range sc.replicas {
		opts := []revox.Option{revox.WithCache(cacheTTL, revox.DefaultCacheEntries)}
		cfg := gateway.Config{Logger: logger, NoMetricsRoute: true}
		if sc.redis {
			conn, err := redisstore.Open(redisstore.Options{URL: redisURL, Prefix: prefix, Logger: logger})
			if err != nil {
				stop()
				return nil, nil, err
			}
			closers = append(closers, func() { _ = conn.Close() })
			opts = append(opts, revox.WithSharedCache(redisstore.NewResponseCache(conn)))
			cfg.APQCache = redisstore.NewAPQCache(conn, lru.New[string](gateway.DefaultAPQCacheSize), 0)
			cfg.Idempotency = redisstore.NewIdempotencyStore(conn, redisstore.IdempotencyOptions{})
			cfg.Redis = conn
			if sc.rps > 0 {
				burst := gateway.DefaultRateLimitBurst(sc.rps)
				cfg.RateLimitRPS, cfg.RateLimitBurst = sc.rps, burst
				cfg.RateLimiter = redisstore.NewRateLimiter(conn, sc.rps, burst, gateway.NewLocalRateLimiter(sc.rps, burst))
			}
		}
		client, err := revox.New(upstream, sandbox.DefaultAPIKey, opts...)
		if err != nil {
			stop()
			return nil, nil, err
		}
		cfg.Upstream = client
		srv := httptest.NewServer(gateway.New(cfg))
		closers = append(closers, srv.Close)
		urls = append(urls, srv.URL+"/query")
	}
	return urls, stop, nil
}

// loadSplit runs the closed loop against every URL at once, the clients
// split evenly as a load balancer would, and sums the results.
func loadSplit(urls []string, body []byte, clients int, d time.Duration) (load.Result, error) {
	header := http.Header{"Content-Type": {"application/json"}}
	ctx := context.Background()
	for _, u := range urls { // one checked request and a short warm-up each
		if _, err := load.Run(ctx, load.Config{URL: u, Body: body, Header: header, Concurrency: 1, Requests: 50, Duration: d, Reject: []byte(`"errors"`)}); err != nil {
			return load.Result{}, err
		}
	}
	out := make([]load.Result, len(urls))
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Go(func() {
			out[i], errs[i] = load.Run(ctx, load.Config{URL: u, Body: body, Header: header, Concurrency: max(clients/len(urls), 1),
				Requests: 1 << 30, Duration: d, Reject: []byte(`"errors"`)})
		})
	}
	wg.Wait()
	var sum load.Result
	for i, r := range out {
		if errs[i] != nil {
			return sum, errs[i]
		}
		sum.Requests += r.Requests
		sum.Errors += r.Errors
		sum.PerSecond += r.PerSecond
		// Percentiles of the parts, the slowest part's: an upper bound.
		sum.P50 = max(sum.P50, r.P50)
		sum.P99 = max(sum.P99, r.P99)
	}
	return sum, nil
}

func median(rs []load.Result) load.Result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b load.Result) int { return int(a.PerSecond - b.PerSecond) })
	return s[len(s)/2]
}

// cacheLatency times one ListCalls of the page: answered by the client's
// own memory, by Redis (a fresh client, as on a replica that has not read
// the page yet), and by the upstream (a fresh client without Redis).
func cacheLatency(upstream, redisURL string, pageSize int, cacheTTL time.Duration, samples int, logger *slog.Logger) error {
	conn, err := redisstore.Open(redisstore.Options{URL: redisURL, Prefix: "bench-latency:", Logger: logger})
	if err != nil {
		return err
	}
	defer conn.Close()
	shared := redisstore.NewResponseCache(conn)
	httpClient := &http.Client{Transport: revox.NewTransport(8)}
	ctx := context.Background()
	opts := revox.ListCallsOptions{Page: 0, PageSize: pageSize}
	newClient := func(withRedis bool) (*revox.Client, error) {
		o := []revox.Option{revox.WithHTTPClient(httpClient), revox.WithCache(time.Hour, revox.DefaultCacheEntries)}
		if withRedis {
			o = append(o, revox.WithSharedCache(shared))
		}
		return revox.New(upstream, sandbox.DefaultAPIKey, o...)
	}
	warm, err := newClient(true)
	if err != nil {
		return err
	}
	if _, err := warm.ListCalls(ctx, opts); err != nil { // fills Redis and warm's memory
		return err
	}
	rows := []struct {
		name  string
		fresh bool
		redis bool
	}{
		{"hit in the replica's memory", false, true},
		{"hit in Redis (the replica's memory cold)", true, true},
		{"miss: upstream GET over loopback", true, false},
	}
	times := make([][]time.Duration, len(rows))
	for range samples {
		for i, row := range rows {
			c := warm
			if row.fresh {
				if c, err = newClient(row.redis); err != nil {
					return err
				}
			}
			start := time.Now()
			if _, err := c.ListCalls(ctx, opts); err != nil {
				return err
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	fmt.Printf("One ListCalls of the page (pageSize %d, decoded), %d samples each, interleaved; same process, same run:\n\n", pageSize, samples)
	fmt.Println("| Answered from | p50 | p90 | p99 |")
	fmt.Println("|---|---|---|---|")
	p50 := make([]time.Duration, len(rows))
	for i, row := range rows {
		slices.Sort(times[i])
		p50[i] = pct(times[i], 0.50)
		fmt.Printf("| %s | %v | %v | %v |\n", row.name, p50[i].Round(time.Microsecond), pct(times[i], 0.90).Round(time.Microsecond), pct(times[i], 0.99).Round(time.Microsecond))
	}
	fmt.Printf("\nA Redis round trip adds %v (p50) to a cache hit, and saves %v against the upstream on loopback.\n",
		(p50[1] - p50[0]).Round(time.Microsecond), (p50[2] - p50[1]).Round(time.Microsecond))
	return nil
}

func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
