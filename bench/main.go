// Command bench is the gateway's load benchmark harness. In one run on
// loopback it measures the sandbox upstream directly (a), a bare
// httputil.ReverseProxy in front of it (b), the gateway with every field and
// full transcripts (c), with ids only (d) and under 64 clients polling the
// same query (e), each server in its own process and all sharing one sandbox
// process; then it runs the in-process allocation benchmarks and prints
// ratios to (a) and (b) and pass/fail lines for the targets. Targets inform;
// they never fail the command. See BENCHMARKS.md.
//
//	go run ./bench            full run (about 2–3 minutes on 2 cores)
//	go run ./bench -quick     about 30 seconds
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/revox-graphql/gateway/bench/internal/workload"
	"github.com/revox-graphql/gateway/bench/load"
)

// sandboxKey is the sandbox's default Bearer key.
const sandboxKey = "sk_sandbox_demo"

// contender says which process answers a scenario.
type contender int

const (
	upstream contender = iota // (a) the sandbox directly
	proxy                     // (b) the bare reverse proxy
	gateway                   // (c), (d), (e) the gateway
)

// scenario is one row of the report.
type scenario struct {
	key      string // a, b, c, d, e, m
	label    string
	who      contender
	clients  int
	pageSize int
	query    string // gateway scenarios
	env      []string
}

// measurement is what one scenario measured.
type measurement struct {
	scenario
	res          load.Result
	peakRSS      int64   // VmHWM of the server process after the run
	growth       int64   // VmHWM minus VmRSS before any load (fresh processes only; else -1)
	upPerReq     float64 // upstream requests per request during the run
	upDelta      int64
	coldPages    int64   // upstream requests of one request on a fresh gateway
	allocsPerReq float64 // from the process's /debug/vars; NaN when it has none
	respBytes    int
}

func scenarios() []scenario {
	full, ids := workload.FullQuery, workload.IDsQuery
	return []scenario{
		{"a", "(a) upstream GET /call page_size=20", upstream, 1, 20, "", nil},
		{"a", "(a) upstream GET /call page_size=20", upstream, 16, 20, "", nil},
		{"a", "(a) upstream GET /call page_size=100", upstream, 16, 100, "", nil},
		{"a", "(a) upstream GET /call page_size=20", upstream, 64, 20, "", nil},
		{"b", "(b) reverse proxy page_size=20", proxy, 1, 20, "", nil},
		{"b", "(b) reverse proxy page_size=20", proxy, 16, 20, "", nil},
		{"b", "(b) reverse proxy page_size=100", proxy, 16, 100, "", nil},
		{"b", "(b) reverse proxy page_size=20", proxy, 64, 20, "", nil},
		{"c", "(c) gateway all fields pageSize=20", gateway, 1, 20, full(20), nil},
		{"c", "(c) gateway all fields pageSize=20", gateway, 16, 20, full(20), nil},
		{"c", "(c) gateway all fields pageSize=100", gateway, 16, 100, full(100), nil},
		{"d", "(d) gateway ids only pageSize=100", gateway, 16, 100, ids(100), nil},
		{"e0", "(e0) gateway polling, coalescing only", gateway, 64, 20, full(20), nil},
		{"e", "(e) gateway polling, CACHE_TTL=1s", gateway, 64, 20, full(20), []string{"CACHE_TTL=1s"}},
		{"m", "(m) gateway all fields pageSize=100", gateway, 64, 100, full(100), nil},
	}
}

type options struct {
	quick      bool
	duration   time.Duration
	warmup     time.Duration
	benchtime  string
	profileDir string
	keep       bool
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "short run (about 30s): shorter scenarios and benchmarks")
	flag.DurationVar(&o.duration, "d", 0, "measured duration of each scenario (default 5s, 1.2s with -quick)")
	flag.DurationVar(&o.warmup, "warmup", 0, "unmeasured warm-up before each scenario (default 1s, 300ms with -quick)")
	flag.StringVar(&o.benchtime, "benchtime", "", "go test -benchtime of the in-process benchmarks (default 1s, 100ms with -quick)")
	flag.StringVar(&o.profileDir, "profile", "", "also write CPU and allocation profiles of (c) pageSize=100 to this directory and print their top entries")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, server logs)")
	flag.Parse()
	if o.duration == 0 {
		o.duration = pick(o.quick, 1200*time.Millisecond, 5*time.Second)
	}
	if o.warmup == 0 {
		o.warmup = pick(o.quick, 300*time.Millisecond, time.Second)
	}
	if o.benchtime == "" {
		o.benchtime = pick(o.quick, "100ms", "1s")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func pick[T any](quick bool, short, long T) T {
	if quick {
		return short
	}
	return long
}

// harness holds the shared parts of one run.
type harness struct {
	opts     options
	root     string
	tmp      string
	bin      func(name string) string
	upstream *server
	upSource string
}

func run(ctx context.Context, o options) error {
	started := time.Now()
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "revox-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		defer fmt.Printf("\nbinaries and server logs kept in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	h := &harness{opts: o, root: root, tmp: tmp, bin: func(name string) string { return filepath.Join(tmp, name) }}

	t0 := time.Now()
	if _, err := goCmd(ctx, root, "build", "-o", tmp+string(filepath.Separator), ".", "./bench/cmd/revproxy", "./bench/cmd/load", "./bench/cmd/upstream"); err != nil {
		return err
	}
	buildTime := time.Since(t0)
	printHeader(ctx, root, o, buildTime)

	if err := h.startUpstream(ctx); err != nil {
		return err
	}
	defer h.upstream.stop()
	fmt.Printf("upstream: %s at %s (pid %d)\n", h.upSource, h.upstream.base, h.upstream.cmd.Process.Pid)

	var ms []measurement
	for _, sc := range scenarios() {
		fmt.Fprintf(os.Stderr, "running %-45s clients=%-3d ...", sc.label, sc.clients)
		m, err := h.measure(ctx, sc)
		if err != nil {
			fmt.Fprintln(os.Stderr)
			return fmt.Errorf("%s, %d clients: %w", sc.label, sc.clients, err)
		}
		fmt.Fprintf(os.Stderr, " %.0f req/s\n", m.res.PerSecond)
		ms = append(ms, m)
	}
	fmt.Fprintln(os.Stderr, "running in-process benchmarks ...")
	benches, benchErr := runGoBenchmarks(ctx, root, o.benchtime)

	printLoadTable(ms)
	printResourceTable(ms)
	printBenchTable(benches, benchErr)
	printTargets(ms)

	if o.profileDir != "" {
		fmt.Fprintln(os.Stderr, "profiling (c) pageSize=100 in process ...")
		if err := profile(ctx, root, o.profileDir); err != nil {
			return err
		}
	}
	fmt.Printf("\ntotal wall time %s (build %s); load average at end: %s\n", time.Since(started).Round(100*time.Millisecond), buildTime.Round(100*time.Millisecond), loadAvg())
	return nil
}

// startUpstream runs the gateway binary's sandbox command and, when it does
// not serve /_sandbox/stats, falls back to bench/cmd/upstream, which serves
// the same sandbox handler with that route.
func (h *harness) startUpstream(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	_, port, _ := strings.Cut(addr, ":")
	base := "http://" + addr
	env := childEnv("PORT=" + port)
	alive := func(ctx context.Context, base string) bool {
		status, _, err := get(ctx, base+workload.UpstreamPath(1), sandboxKey)
		return err == nil && status == 200
	}
	sb, err := startServer(ctx, h.tmp, "sandbox", base, h.bin("gateway"), []string{"sandbox"}, env, alive)
	if err != nil {
		return err
	}
	if _, err := upstreamRequests(ctx, base, sandboxKey); err == nil {
		h.upstream, h.upSource = sb, "`gateway sandbox` with GET /_sandbox/stats"
		return nil
	}
	sb.stop()
	if addr, err = freeAddr(); err != nil {
		return err
	}
	base = "http://" + addr
	sb, err = startServer(ctx, h.tmp, "upstream", base, h.bin("upstream"), []string{"-listen", addr}, childEnv(), alive)
	if err != nil {
		return err
	}
	h.upstream, h.upSource = sb, "bench/cmd/upstream (sandbox.New + StatsHandler; `gateway sandbox` does not serve /_sandbox/stats yet)"
	return nil
}

// childEnv is the harness's environment without the variables it sets
// itself, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PORT", "REVOX_API_KEY", "REVOX_BASE_URL", "REVOX_SANDBOX":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// measure runs one scenario: a fresh server process for (b) to (e), one
// request to check the answer, a warm-up, then the measured load.
func (h *harness) measure(ctx context.Context, sc scenario) (measurement, error) {
	m := measurement{scenario: sc, growth: -1, allocsPerReq: math.NaN()}
	up := h.upstream
	var (
		srv    *server
		target string
		args   []string
	)
	switch sc.who {
	case upstream:
		srv = up
		target = up.base + workload.UpstreamPath(sc.pageSize)
		args = []string{"-H", "Authorization: Bearer " + sandboxKey}
	case proxy:
		addr, err := freeAddr()
		if err != nil {
			return m, err
		}
		ready := func(ctx context.Context, base string) bool {
			status, _, err := get(ctx, base+workload.UpstreamPath(1), sandboxKey)
			return err == nil && status == 200
		}
		srv, err = startServer(ctx, h.tmp, "revproxy", "http://"+addr, h.bin("revproxy"), []string{"-listen", addr, "-target", up.base}, childEnv(), ready)
		if err != nil {
			return m, err
		}
		defer srv.stop()
		target = srv.base + workload.UpstreamPath(sc.pageSize)
		args = []string{"-H", "Authorization: Bearer " + sandboxKey}
	case gateway:
		addr, err := freeAddr()
		if err != nil {
			return m, err
		}
		_, port, _ := strings.Cut(addr, ":")
		ready := func(ctx context.Context, base string) bool {
			status, _, err := get(ctx, base+"/healthz", "")
			return err == nil && status == 200
		}
		env := childEnv(append([]string{"PORT=" + port, "REVOX_API_KEY=" + sandboxKey, "REVOX_BASE_URL=" + up.base}, sc.env...)...)
		srv, err = startServer(ctx, h.tmp, "gateway-"+sc.key+strconv.Itoa(sc.pageSize)+"x"+strconv.Itoa(sc.clients), "http://"+addr, h.bin("gateway"), nil, env, ready)
		if err != nil {
			return m, err
		}
		defer srv.stop()
		target = srv.base + "/query"
		body := workload.Body(sc.query)
		args = []string{"-body", string(body), "-H", "Content-Type: application/json", "-reject", `"errors"`}
		// The first request of a fresh gateway finds every cache cold: its
		// upstream requests are the distinct upstream pages of the query.
		before, err := upstreamRequests(ctx, up.base, sandboxKey)
		if err != nil {
			return m, err
		}
		resp, err := postQuery(ctx, target, body)
		if err != nil {
			return m, fmt.Errorf("first request: %w", err)
		}
		after, err := upstreamRequests(ctx, up.base, sandboxKey)
		if err != nil {
			return m, err
		}
		m.coldPages, m.respBytes = after-before, len(resp)
	}
	if sc.who != gateway {
		status, b, err := get(ctx, target, sandboxKey)
		if err != nil || status != 200 {
			return m, fmt.Errorf("first request: status %d, %v", status, err)
		}
		m.respBytes = len(b)
	}
	baseRSS := srv.procStatus("VmRSS")
	args = append(args, "-url", target, "-c", strconv.Itoa(sc.clients), "-n", "10000000")
	if _, err := h.load(ctx, append(args, "-d", h.opts.warmup.String())); err != nil {
		return m, fmt.Errorf("warm-up: %w", err)
	}
	upBefore, err := upstreamRequests(ctx, up.base, sandboxKey)
	if err != nil {
		return m, err
	}
	mallocsBefore, haveMallocs := mallocs(ctx, srv.base)
	m.res, err = h.load(ctx, append(args, "-d", h.opts.duration.String()))
	if err != nil {
		return m, err
	}
	upAfter, err := upstreamRequests(ctx, up.base, sandboxKey)
	if err != nil {
		return m, err
	}
	if mallocsAfter, ok := mallocs(ctx, srv.base); ok && haveMallocs {
		// One /debug/vars request is counted too; it is noise at this scale.
		m.allocsPerReq = float64(mallocsAfter-mallocsBefore) / float64(m.res.Requests+m.res.Errors)
	}
	m.peakRSS = srv.procStatus("VmHWM")
	if sc.who != upstream {
		m.growth = m.peakRSS - baseRSS
	}
	m.upDelta = upAfter - upBefore
	if n := m.res.Requests + m.res.Errors; n > 0 {
		m.upPerReq = float64(m.upDelta) / float64(n)
	}
	if m.res.Errors > 0 && m.res.Requests == 0 {
		return m, fmt.Errorf("every request failed, first: %s\n%s", m.res.FirstError, srv.tail())
	}
	return m, nil
}

// load runs the load generator binary and decodes its result.
func (h *harness) load(ctx context.Context, args []string) (load.Result, error) {
	cmd := exec.CommandContext(ctx, h.bin("load"), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return load.Result{}, fmt.Errorf("load %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	var res load.Result
	if err := json.Unmarshal(out, &res); err != nil {
		return load.Result{}, fmt.Errorf("load output: %w", err)
	}
	if res.Requests == 0 {
		return res, errors.New("load: no successful request: " + res.FirstError)
	}
	return res, nil
}
