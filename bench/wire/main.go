// Command wire measures what compression costs and saves on the full-field
// 100-attempt page (every CallAttempt field and full transcripts, the
// harness's (c) pageSize=100 query): the bytes on the wire in each coding,
// and req/s with each against identity on loopback, for a bounded time.
// The sandbox upstream, one gateway per coding and level, and the load
// clients run in this process; the codings are measured in interleaved
// rounds so that noise from other processes falls on all of them, and the
// median of the rounds is printed as a markdown table. The clients read the
// bytes as sent and do not decode them (a browser decodes on its own CPU).
//
//	go run ./bench/wire                            # the gateway's default levels, 3 rounds of 3 s each
//	go run ./bench/wire -gzip 1,5 -br 1,4 -zstd 1,2 -rounds 5   # compare candidate levels
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/revox-graphql/gateway/bench/internal/closedloop"
	"github.com/revox-graphql/gateway/bench/internal/workload"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// contender is one row: a coding at one level, served by its own gateway.
type contender struct {
	coding string // Content-Encoding; "" for identity
	level  int
	url    string
	bytes  int
	rates  []float64
	cpu    []float64 // CPU time of this process per request, µs
}

func (c *contender) name() string {
	if c.coding == "" {
		return "identity"
	}
	return c.coding + " " + strconv.Itoa(c.level)
}

func main() {
	duration := flag.Duration("d", 3*time.Second, "measured duration of each run")
	rounds := flag.Int("rounds", 3, "rounds; each measures every contender once, in turn")
	warmup := flag.Duration("warmup", time.Second, "unmeasured load on each contender before the rounds")
	clients := flag.Int("clients", 16, "concurrent clients")
	distinct := flag.Bool("distinct", true, "each request asks another page (false: all ask the same page)")
	gzipLevels := flag.String("gzip", strconv.Itoa(gateway.DefaultGzipLevel), "gzip levels to measure, comma-separated")
	brLevels := flag.String("br", strconv.Itoa(gateway.DefaultBrotliLevel), "brotli levels to measure")
	zstdLevels := flag.String("zstd", strconv.Itoa(gateway.DefaultZstdLevel), "zstd levels to measure (1 fastest … 4 best)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "wire:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *duration, *warmup, *rounds, *clients, *distinct, map[string]string{"gzip": *gzipLevels, "br": *brLevels, "zstd": *zstdLevels}); err != nil {
		fmt.Fprintln(os.Stderr, "wire:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// pages is the number of distinct 100-attempt pages asked with -distinct.
const pages = 64

func workloadName(distinct bool) string {
	if distinct {
		return fmt.Sprintf("each request for another of %d pages (no coalescing)", pages)
	}
	return "every request for the same page (coalesced upstream requests, the harness's (c))"
}

func run(ctx context.Context, duration, warmup time.Duration, rounds, clients int, distinct bool, levels map[string]string) error {
	orders := 0 // the sandbox's default
	if distinct {
		orders = 70 * pages // about 1.55 attempts an order
	}
	up := httptest.NewServer(sandbox.New(sandbox.Options{Orders: orders}))
	defer up.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	serve := func(c gateway.Compression) (string, func(), error) {
		client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
		if err != nil {
			return "", nil, err
		}
		gw := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quiet, Compression: c}))
		return gw.URL + "/query", gw.Close, nil
	}

	contenders := []*contender{{coding: ""}}
	for _, coding := range []string{"gzip", "br", "zstd"} {
		for f := range strings.SplitSeq(levels[coding], ",") {
			level, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || level < 0 {
				return fmt.Errorf("-%s: bad level %q", coding, f)
			}
			contenders = append(contenders, &contender{coding: coding, level: level})
		}
	}
	for _, c := range contenders {
		var cfg gateway.Compression
		switch c.coding {
		case "gzip":
			cfg.GzipLevel = c.level
		case "br":
			cfg.BrotliLevel = c.level
		case "zstd":
			cfg.ZstdLevel = c.level
		}
		url, closeGW, err := serve(cfg)
		if err != nil {
			return err
		}
		defer closeGW()
		c.url = url
	}

	// Every request of a client asks the next page of the list, so that
	// with -distinct no two requests in flight share an upstream page and
	// coalescing cannot hide the upstream's cost.
	bodies := [][]byte{workload.Body(workload.FullQuery(100))}
	if distinct {
		bodies = nil
		for k := range pages {
			bodies = append(bodies, workload.Body(strings.Replace(workload.FullQuery(100), "page: 0,", "page: "+strconv.Itoa(k)+",", 1)))
		}
	}
	if _, last, err := fetchOnce(ctx, contenders[0], bodies[len(bodies)-1]); err != nil {
		return err
	} else if bytes.Count(last, []byte(`"cursor"`)) != 100 {
		return fmt.Errorf("page %d of the sandbox is not a full page", len(bodies)-1)
	}
	// Bytes on the wire: the mean over the pages asked, each decoded and
	// compared with identity's answer.
	identity := make([][]byte, len(bodies))
	for _, c := range contenders {
		total := 0
		for i, body := range bodies {
			raw, decoded, err := fetchOnce(ctx, c, body)
			if err != nil {
				return err
			}
			if identity[i] == nil {
				identity[i] = decoded
			}
			if !sameJSON(decoded, identity[i]) {
				return fmt.Errorf("%s: the decoded answer of page %d differs from identity's", c.name(), i)
			}
			total += len(raw)
		}
		c.bytes = total / len(bodies)
	}

	// Warm up: encoders made, pools and caches filled, before anything is
	// measured.
	for _, c := range contenders {
		if _, _, err := closedLoop(ctx, c, bodies, clients, warmup); err != nil {
			return err
		}
	}
	loadBefore := loadAvg()
	fmt.Fprintf(os.Stderr, "%d rounds × %d contenders × %s, %d clients, %s, load average %s\n", rounds, len(contenders), duration, clients, workloadName(distinct), loadBefore)
	for round := range rounds {
		for _, c := range contenders {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			cpu0 := closedloop.ProcessCPU()
			n, elapsed, err := closedLoop(ctx, c, bodies, clients, duration)
			if err != nil {
				return err
			}
			perReq := float64((closedloop.ProcessCPU() - cpu0).Microseconds()) / float64(n)
			runtime.ReadMemStats(&m1)
			rate := float64(n) / elapsed.Seconds()
			c.rates = append(c.rates, rate)
			c.cpu = append(c.cpu, perReq)
			fmt.Fprintf(os.Stderr, "round %d %-9s %7.0f req/s %7.0f µs CPU/request %5.0f KiB allocated/request %4.1f GCs/100 requests\n",
				round+1, c.name(), rate, perReq, float64(m1.TotalAlloc-m0.TotalAlloc)/1024/float64(n), 100*float64(m1.NumGC-m0.NumGC)/float64(n))
		}
	}

	base, baseCPU := closedloop.Median(contenders[0].rates), closedloop.Median(contenders[0].cpu)
	fmt.Printf("Full-field 100-attempt page (`%s`), %s, %d clients, median of %d interleaved rounds of %s,\n"+
		"load average %s before the rounds, %s after.\n"+
		"CPU/request is this process's CPU time (gateway, sandbox and clients) per answered request;\n"+
		"its ratio to identity's is what req/s would be on a machine of its own. The paired figure is\n"+
		"the median over rounds of that ratio within each round (identity measured just before).\n\n",
		"calls(page: k, pageSize: 100)", workloadName(distinct), clients, rounds, duration, loadBefore, loadAvg())
	fmt.Println("| Content-Encoding | level | bytes on the wire (mean) | smaller than identity | req/s (median) | req/s vs identity | CPU µs/request | req/s vs identity by CPU | by CPU, paired by round | rounds (req/s) |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, c := range contenders {
		level := "—"
		if c.coding != "" {
			level = strconv.Itoa(c.level)
		}
		var each []string
		for _, r := range c.rates {
			each = append(each, strconv.FormatFloat(r, 'f', 0, 64))
		}
		m := closedloop.Median(c.rates)
		cpu := closedloop.Median(c.cpu)
		var paired []float64
		for i, x := range c.cpu {
			paired = append(paired, contenders[0].cpu[i]/x-1)
		}
		fmt.Printf("| %s | %s | %d | %.1f× | %.0f | %+.1f%% | %.0f | %+.1f%% | %+.1f%% | %s |\n", codingName(c.coding), level, c.bytes,
			float64(contenders[0].bytes)/float64(c.bytes), m, 100*(m/base-1), cpu, 100*(baseCPU/cpu-1), 100*closedloop.Median(paired), strings.Join(each, ", "))
	}
	return nil
}

// loadAvg is the first three fields of /proc/loadavg: other work on the
// machine, which the rounds share it with.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func codingName(c string) string {
	if c == "" {
		return "identity"
	}
	return c
}

// closedLoop runs the closed loop against c, each request for the next of
// bodies, and returns the number answered and the time taken.
func closedLoop(ctx context.Context, c *contender, bodies [][]byte, clients int, duration time.Duration) (int64, time.Duration, error) {
	accept := codingName(c.coding)
	request := func(ctx context.Context, i int) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Encoding", accept)
		return req
	}
	return closedloop.Run(ctx, clients, duration, request, func(resp *http.Response, body []byte) error {
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != c.coding {
			return fmt.Errorf("%s: status %d, Content-Encoding %q: %.200s", c.name(), resp.StatusCode, resp.Header.Get("Content-Encoding"), body)
		}
		return nil
	})
}

// fetchOnce asks c for the page once and returns the body as sent and
// decoded, checking that the coding is the one asked for.
func fetchOnce(ctx context.Context, c *contender, body []byte) (raw, decoded []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", codingName(c.coding))
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if raw, err = io.ReadAll(resp.Body); err != nil {
		return nil, nil, err
	}
	if got := resp.Header.Get("Content-Encoding"); resp.StatusCode != http.StatusOK || got != c.coding {
		return nil, nil, fmt.Errorf("%s: status %d, Content-Encoding %q", c.name(), resp.StatusCode, got)
	}
	var r io.Reader = bytes.NewReader(raw)
	switch c.coding {
	case "gzip":
		if r, err = gzip.NewReader(r); err != nil {
			return nil, nil, err
		}
	case "br":
		r = brotli.NewReader(r)
	case "zstd":
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		defer zr.Close()
		r = zr
	}
	decoded, err = io.ReadAll(r)
	return raw, decoded, err
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}
