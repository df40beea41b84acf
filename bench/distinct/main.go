// Command distinct measures issue 14's row: the full-field page of 20
// attempts through the gateway against the bare reverse proxy, every request
// for another page, so that coalescing cannot help the gateway. Upstream,
// gateway and proxy run in this process (the harness's (b)/(c) run them as
// processes of their own); rounds alternate the two, and the medians and
// their ratio are printed. Loopback only; it stops by itself.
//
// The CPU time of the process per request is printed beside each rate: the
// rates follow whatever else the machine runs, the CPU per request much
// less, and when the machine is saturated the rates' ratio is the inverse
// of the CPU ratio.
//
//	go run ./bench/distinct [-rounds 5] [-d 3s] [-clients 16]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/revox-graphql/gateway/bench/internal/closedloop"
	"github.com/revox-graphql/gateway/bench/internal/revproxy"
	"github.com/revox-graphql/gateway/bench/internal/workload"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// pages is the number of distinct pages of 20 asked in turn.
const pages = 200

func main() {
	rounds := flag.Int("rounds", 5, "alternating rounds of each contender")
	duration := flag.Duration("d", 3*time.Second, "measured time of each round")
	clients := flag.Int("clients", 16, "concurrent clients (closed loop)")
	profile := flag.String("profile", "", "also write a CPU profile of one more gateway round to this file")
	flag.Parse()
	if err := run(*rounds, *duration, *clients, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "distinct:", err)
		os.Exit(1)
	}
}

func run(rounds int, duration time.Duration, clients int, profile string) error {
	up := httptest.NewServer(sandbox.New(sandbox.Options{Orders: pages * 20}))
	defer up.Close()
	target, _ := url.Parse(up.URL)
	proxy := httptest.NewServer(revproxy.New(target))
	defer proxy.Close()
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	gw := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quiet}))
	defer gw.Close()

	queries := make([][]byte, pages)
	for k := range queries {
		queries[k] = workload.Body(strings.Replace(workload.FullQuery(20), "page: 0,", "page: "+strconv.Itoa(k)+",", 1))
	}
	gatewayReq := func(ctx context.Context, k int) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, gw.URL+"/query", bytes.NewReader(queries[k]))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	proxyReq := func(ctx context.Context, k int) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/call?page=%d&page_size=20", proxy.URL, k), nil)
		req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
		return req
	}
	ctx := context.Background()
	var gwRates, pxRates, gwCPU, pxCPU []float64
	fmt.Fprintf(os.Stderr, "%d rounds × %s, %d clients, each request for another of %d pages of 20\n", rounds, duration, clients, pages)
	for round := range rounds {
		px, pxc, err := closedLoop(ctx, proxyReq, clients, duration)
		if err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
		g, gc, err := closedLoop(ctx, gatewayReq, clients, duration)
		if err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		pxRates, gwRates = append(pxRates, px), append(gwRates, g)
		pxCPU, gwCPU = append(pxCPU, pxc), append(gwCPU, gc)
		fmt.Fprintf(os.Stderr, "round %d: reverse proxy %6.0f req/s %5.0f µs CPU/req, gateway %6.0f req/s %5.0f µs CPU/req\n", round+1, px, pxc, g, gc)
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		_, _, err = closedLoop(ctx, gatewayReq, clients, duration)
		pprof.StopCPUProfile()
		if err != nil {
			return err
		}
	}
	p, g := closedloop.Median(pxRates), closedloop.Median(gwRates)
	pc, gc := closedloop.Median(pxCPU), closedloop.Median(gwCPU)
	fmt.Printf("| Contender (full-field pageSize=20, a different page per request, %d clients) | req/s (median of %d rounds) | CPU per request (median) |\n|---|---|---|\n", clients, rounds)
	fmt.Printf("| reverse proxy (`GET /call?page=k&page_size=20`) | %.0f | %.0f µs |\n", p, pc)
	fmt.Printf("| gateway (`calls(page: k, pageSize: 20)`, every field, transcripts) | %.0f = %.2f× the proxy | %.0f µs: %.2f× the proxy's rate when CPU-bound |\n", g, g/p, gc, pc/gc)
	return nil
}

// closedLoop runs the closed loop, request i asking page i mod pages, and
// returns the rate and the CPU time of the whole process per request in
// µs (clients, contender and upstream: on a machine shared with other
// work, the rate follows the load, the CPU per request much less); an
// answer that is not 200 or carries errors stops it.
func closedLoop(ctx context.Context, mk func(context.Context, int) *http.Request, clients int, duration time.Duration) (rate, cpuPerRequest float64, err error) {
	page := func(ctx context.Context, i int) *http.Request { return mk(ctx, i%pages) }
	cpu := closedloop.ProcessCPU()
	n, elapsed, err := closedloop.Run(ctx, clients, duration, page, func(resp *http.Response, body []byte) error {
		if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
			return fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
		}
		return nil
	})
	if err != nil || n == 0 {
		return 0, 0, err
	}
	return float64(n) / elapsed.Seconds(), float64(closedloop.ProcessCPU()-cpu) / float64(time.Microsecond) / float64(n), nil
}
