// Command soak runs the gateway under a steady, bounded loopback load for a
// minute and prints its goroutines and memory every few seconds, to show
// they stay flat. It builds the gateway, starts it in sandbox mode on a
// free loopback port, and stops everything by itself.
//
//	go run ./bench/soak                 # 60 s, 8 clients
//	go run ./bench/soak -duration 20s   # shorter
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/revox-graphql/gateway/bench/load"
)

// queries is the mix each window sends in turn: a dashboard page with
// transcripts, a cursor page, a call lookup and a refused query.
var queries = []string{
	`{ calls(page: 0, pageSize: 20) { nodes { id status result startedAt durationSeconds transcript(last: 2) { role content } } pageInfo { hasNextPage } } }`,
	`{ calls(first: 50, statuses: [COMPLETED]) { edges { cursor node { id phoneNumber structuredOutput } } pageInfo { hasNextPage endCursor } } }`,
	`{ calls(last: 10) { nodes { id endedAt } pageInfo { hasPreviousPage startCursor } } }`,
	`{ calls(pageSize: 100000) { nodes { id } } }`,
}

func main() {
	duration := flag.Duration("duration", time.Minute, "total load time")
	window := flag.Duration("window", 5*time.Second, "sampling interval")
	clients := flag.Int("clients", 8, "concurrent clients")
	flag.Parse()
	if err := run(*duration, *window, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type sample struct {
	at         time.Duration
	goroutines float64
	rssMiB     float64
	heapMiB    float64
	reqs       int
	errs       int
	rps        float64
	p99        time.Duration
}

func run(duration, window time.Duration, clients int) error {
	ctx, cancel := context.WithTimeout(context.Background(), duration+2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "gateway")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "REVOX_API_KEY=", "LOG_LEVEL=warn")
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base := "http://127.0.0.1:" + port
	if err := waitHealthy(ctx, base); err != nil {
		return err
	}

	fmt.Printf("soak: %v of load, %d clients, query mix of %d, sampled every %v (gateway pid %d)\n\n", duration, clients, len(queries), window, cmd.Process.Pid)
	fmt.Printf("%8s %10s %10s %10s %9s %7s %9s %9s\n", "time", "goroutines", "rss MiB", "heap MiB", "requests", "errors", "req/s", "p99")
	var samples []sample
	start := time.Now()
	for i := 0; time.Since(start) < duration; i++ {
		body, _ := json.Marshal(map[string]string{"query": queries[i%len(queries)]})
		res, err := load.Run(ctx, load.Config{
			URL:         base + "/query",
			Body:        body,
			Header:      http.Header{"Content-Type": {"application/json"}},
			Concurrency: clients,
			Requests:    1 << 20,
			Duration:    window,
		})
		if err != nil {
			return err
		}
		m, err := metrics(ctx, base)
		if err != nil {
			return err
		}
		s := sample{
			at: time.Since(start), goroutines: m["go_goroutines"],
			rssMiB: m["process_resident_memory_bytes"] / (1 << 20), heapMiB: m["go_memstats_heap_inuse_bytes"] / (1 << 20),
			reqs: res.Requests, errs: res.Errors, rps: res.PerSecond, p99: res.P99,
		}
		samples = append(samples, s)
		fmt.Printf("%8s %10.0f %10.1f %10.1f %9d %7d %9.0f %9s\n", s.at.Round(time.Second), s.goroutines, s.rssMiB, s.heapMiB, s.reqs, s.errs, s.rps, s.p99.Round(10*time.Microsecond))
	}
	if len(samples) < 3 {
		return fmt.Errorf("too few samples: lengthen -duration")
	}
	// The first window warms caches and pools; growth is measured from the
	// second.
	first, last := samples[1], samples[len(samples)-1]
	fmt.Printf("\nafter warm-up -> end: goroutines %.0f -> %.0f, RSS %.1f -> %.1f MiB (%+.1f%%), heap %.1f -> %.1f MiB\n",
		first.goroutines, last.goroutines, first.rssMiB, last.rssMiB, 100*(last.rssMiB-first.rssMiB)/first.rssMiB, first.heapMiB, last.heapMiB)
	verdict := "FLAT"
	if last.goroutines > first.goroutines+20 || last.rssMiB > first.rssMiB*1.25 {
		verdict = "GROWING"
	}
	fmt.Printf("verdict: %s (goroutines within +20 and RSS within +25%% of the post-warm-up sample)\n", verdict)
	return nil
}

func waitHealthy(ctx context.Context, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("gateway at %s never became healthy", base)
}

// metrics reads the unlabelled gauges of the gateway's /metrics.
func metrics(ctx context.Context, base string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(&buf)
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
