package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func printHeader(ctx context.Context, root string, o options, build time.Duration) {
	mode := "full"
	if o.quick {
		mode = "quick"
	}
	commit := "unknown"
	if out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
		if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			commit += " + uncommitted changes"
		}
	}
	fmt.Printf("revox gateway benchmarks — %s, %s mode\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), mode)
	fmt.Printf("host: %s, %d CPUs, %s RAM, %s %s/%s; commit %s\n",
		cpuModel(), runtime.NumCPU(), memTotal(), runtime.Version(), runtime.GOOS, runtime.GOARCH, commit)
	fmt.Printf("each scenario: fresh server process (the shared upstream excepted), 1 checked request, %s warm-up, %s measured;\n", o.warmup, o.duration)
	fmt.Printf("closed-loop clients over HTTP/1.1 keep-alive on 127.0.0.1; build %s\n", build.Round(100*time.Millisecond))
	fmt.Printf("load average at start: %s\n", loadAvg())
	if v := gatewayEnv(); v != "" {
		fmt.Printf("gateway environment: %s\n", v)
	}
}

// gatewayEnv lists the gateway settings inherited from the environment.
func gatewayEnv() string {
	var set []string
	for _, kv := range childEnv() {
		name, _, _ := strings.Cut(kv, "=")
		for _, p := range []string{"REVOX_", "PAGE_SIZE_", "UPSTREAM_", "QUERY_CACHE_", "CORS_", "LOG_", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
			if strings.HasPrefix(name, p) {
				set = append(set, kv)
			}
		}
	}
	return strings.Join(set, " ")
}

// loadAvg is the first three fields of /proc/loadavg: other work on the
// machine shows there and skews every figure.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if name, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	return "?"
}

// baseline is the (a) or (b) row with the same clients and page size.
func baseline(ms []measurement, key string, clients, pageSize int) *measurement {
	for i := range ms {
		if ms[i].key == key && ms[i].clients == clients && ms[i].pageSize == pageSize {
			return &ms[i]
		}
	}
	return nil
}

func ratio(v, base float64) string {
	if base == 0 || math.IsNaN(base) || math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v/base)
}

// ratios formats v against the (a) and (b) rows matching m.
func ratios(ms []measurement, m measurement, f func(measurement) float64) (string, string) {
	a, b := baseline(ms, "a", m.clients, m.pageSize), baseline(ms, "b", m.clients, m.pageSize)
	ra, rb := "-", "-"
	if a != nil {
		ra = ratio(f(m), f(*a))
	}
	if b != nil {
		rb = ratio(f(m), f(*b))
	}
	return ra, rb
}

func ms3(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// left pads a first-column cell so that it stays left-aligned in a
// right-aligned table.
func left(s string) string { return fmt.Sprintf("%-44s", s) }

func table() *tabwriter.Writer {
	return tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
}

func printLoadTable(ms []measurement) {
	fmt.Println("\nTHROUGHPUT AND LATENCY (x(a), x(b): ratio to the upstream / reverse-proxy row with the same clients and page size)")
	w := table()
	fmt.Fprintln(w, left("scenario")+"\tclients\trequests\terrors\treq/s\tx(a)\tx(b)\tp50\tx(a)\tx(b)\tp99\tx(a)\tx(b)\t")
	for _, m := range ms {
		rps := func(m measurement) float64 { return m.res.PerSecond }
		p50 := func(m measurement) float64 { return float64(m.res.P50) }
		p99 := func(m measurement) float64 { return float64(m.res.P99) }
		ra, rb := ratios(ms, m, rps)
		la, lb := ratios(ms, m, p50)
		pa, pb := ratios(ms, m, p99)
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			left(m.label), m.clients, m.res.Requests, m.res.Errors, m.res.PerSecond, ra, rb, ms3(m.res.P50), la, lb, ms3(m.res.P99), pa, pb)
	}
	w.Flush()
}

func printResourceTable(ms []measurement) {
	fmt.Println("\nRESOURCES (peak RSS = VmHWM of the server process; (a) is the shared upstream, cumulative since it started;")
	fmt.Println("RSS growth/in-flight = (VmHWM after the run - VmRSS before any load) / clients; allocs/req from the process's /debug/vars when it serves one)")
	w := table()
	fmt.Fprintln(w, left("scenario")+"\tclients\tresponse\tpeak RSS\tx(a)\tx(b)\tRSS growth/in-flight\tupstream req/req\tx(a)\tx(b)\tallocs/req (live)\t")
	for _, m := range ms {
		rss := func(m measurement) float64 { return float64(m.peakRSS) }
		up := func(m measurement) float64 { return m.upPerReq }
		sa, sb := ratios(ms, m, rss)
		ua, ub := ratios(ms, m, up)
		growth, allocs := "-", "-"
		if m.growth >= 0 {
			growth = fmt.Sprintf("%.0f KiB", float64(m.growth)/1024/float64(m.clients))
		}
		if !math.IsNaN(m.allocsPerReq) {
			allocs = fmt.Sprintf("%.0f", m.allocsPerReq)
		}
		fmt.Fprintf(w, "%s\t%d\t%d B\t%s\t%s\t%s\t%s\t%.3f\t%s\t%s\t%s\t\n",
			left(m.label), m.clients, m.respBytes, mib(m.peakRSS), sa, sb, growth, m.upPerReq, ua, ub, allocs)
	}
	w.Flush()
}

// benchResult is one line of go test -bench output.
type benchResult struct {
	name             string // without the -GOMAXPROCS suffix
	nsPerOp, bytesOp float64
	allocsOp         float64
}

// runGoBenchmarks runs the in-process benchmarks of bench/inproc and
// internal/gateway; a package that does not build costs only its rows.
func runGoBenchmarks(ctx context.Context, root, benchtime string) ([]benchResult, error) {
	out, err := goCmd(ctx, root, "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "./bench/inproc", "./internal/gateway")
	var rs []benchResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		r := benchResult{name: f[0]}
		if i := strings.LastIndexByte(r.name, '-'); i > 0 {
			r.name = r.name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, _ := strconv.ParseFloat(f[i], 64)
			switch f[i+1] {
			case "ns/op":
				r.nsPerOp = v
			case "B/op":
				r.bytesOp = v
			case "allocs/op":
				r.allocsOp = v
			}
		}
		rs = append(rs, r)
	}
	return rs, err
}

// benchPageSize is the page size a benchmark reads, for its baselines.
func benchPageSize(name string) int {
	if strings.Contains(name, "First100") || strings.HasSuffix(name, "pageSize=100") {
		return 100
	}
	return 20
}

var benchScenario = map[string]string{
	"BenchmarkUpstream/pageSize=20":          "(a)",
	"BenchmarkUpstream/pageSize=100":         "(a)",
	"BenchmarkReverseProxy/pageSize=20":      "(b)",
	"BenchmarkReverseProxy/pageSize=100":     "(b)",
	"BenchmarkGatewayFull/pageSize=20":       "(c)",
	"BenchmarkGatewayFull/pageSize=100":      "(c)",
	"BenchmarkGatewayIDs/pageSize=100":       "(d)",
	"BenchmarkGatewayWarm/full/pageSize=20":  "(c), handler only, upstream page cached",
	"BenchmarkGatewayWarm/full/pageSize=100": "(c), handler only, upstream page cached",
	"BenchmarkGatewayWarm/ids/pageSize=100":  "(d), handler only, upstream page cached",
	"BenchmarkCallsFirst100FullTranscripts":  "internal/gateway, first: 100, all fields",
	"BenchmarkCallsFirst100IDsOnly":          "internal/gateway, first: 100, ids",
}

func printBenchTable(rs []benchResult, err error) {
	fmt.Println("\nALLOCATIONS PER REQUEST, IN PROCESS (go test -bench -benchmem; client, contender and sandbox in one process, one request per op;")
	fmt.Println("the gateway serves no /debug/vars, so these are its allocation figures; x(a), x(b): ratio to BenchmarkUpstream / BenchmarkReverseProxy of the same page size)")
	find := func(name string) *benchResult {
		for i := range rs {
			if rs[i].name == name {
				return &rs[i]
			}
		}
		return nil
	}
	w := table()
	fmt.Fprintln(w, fmt.Sprintf("%-30s\t%-42s", "benchmark", "scenario")+"\tns/op\tB/op\tx(a)\tx(b)\tallocs/op\tx(a)\tx(b)\t")
	for _, r := range rs {
		n := benchPageSize(r.name)
		a, b := find(fmt.Sprintf("BenchmarkUpstream/pageSize=%d", n)), find(fmt.Sprintf("BenchmarkReverseProxy/pageSize=%d", n))
		ba, bb, aa, ab := "-", "-", "-", "-"
		if a != nil {
			ba, aa = ratio(r.bytesOp, a.bytesOp), ratio(r.allocsOp, a.allocsOp)
		}
		if b != nil {
			bb, ab = ratio(r.bytesOp, b.bytesOp), ratio(r.allocsOp, b.allocsOp)
		}
		fmt.Fprintf(w, "%s\t%s\t%.0f\t%.0f\t%s\t%s\t%.0f\t%s\t%s\t\n", fmt.Sprintf("%-30s", strings.TrimPrefix(r.name, "Benchmark")), fmt.Sprintf("%-42s", benchScenario[r.name]), r.nsPerOp, r.bytesOp, ba, bb, r.allocsOp, aa, ab)
	}
	w.Flush()
	if err != nil {
		msg := err.Error()
		if len(msg) > 1500 {
			msg = msg[len(msg)-1500:]
		}
		fmt.Printf("(some in-process benchmarks failed; their rows are missing)\n%s\n", msg)
	}
}

func printTargets(ms []measurement) {
	fmt.Println("\nTARGETS (informational: they never fail this command or CI)")
	find := func(key string, clients, pageSize int) *measurement { return baseline(ms, key, clients, pageSize) }
	line := func(ok bool, format string, args ...any) {
		verdict := "FAIL"
		if ok {
			verdict = "PASS"
		}
		fmt.Printf("%s  %s\n", verdict, fmt.Sprintf(format, args...))
	}
	if c, b := find("c", 16, 20), find("b", 16, 20); c != nil && b != nil {
		r := c.res.PerSecond / b.res.PerSecond
		line(r >= 0.5, "(c) pageSize=20, 16 clients: %.0f req/s = %.2fx the reverse proxy's %.0f req/s (target >= 0.5x)", c.res.PerSecond, r, b.res.PerSecond)
	}
	if c, a := find("c", 1, 20), find("a", 1, 20); c != nil && a != nil {
		added := c.res.P50 - a.res.P50
		line(added <= time.Millisecond, "(c) pageSize=20, 1 client: p50 %s = upstream's %s + %s (target <= +1ms)", ms3(c.res.P50), ms3(a.res.P50), ms3(added))
	}
	if d, c := find("d", 16, 100), find("c", 16, 100); d != nil && c != nil {
		r := d.res.PerSecond / c.res.PerSecond
		line(r >= 3, "(d) ids only, pageSize=100, 16 clients: %.0f req/s = %.2fx (c) pageSize=100's %.0f req/s (target >= 3x)", d.res.PerSecond, r, c.res.PerSecond)
	}
	if e := find("e", 64, 20); e != nil && e.coldPages > 0 {
		secs := e.res.Elapsed.Seconds()
		per := float64(e.upDelta) / float64(e.coldPages) / secs
		line(per <= 1.1, "(e) 64 clients polling one query: %d upstream requests in %.1fs for %d distinct upstream page(s) = %.1f per page per second, %.3f per GraphQL request (target <= 1.1 per page per second)",
			e.upDelta, secs, e.coldPages, per, e.upPerReq)
	}
	for _, key := range []string{"e", "m"} {
		for _, m := range ms {
			if m.key == key && m.growth >= 0 {
				fmt.Printf("INFO  memory per in-flight request, %s, %d clients: %.0f KiB (RSS %s before load, peak %s)\n",
					m.label, m.clients, float64(m.growth)/1024/float64(m.clients), mib(m.peakRSS-m.growth), mib(m.peakRSS))
			}
		}
	}
}

// profile writes CPU and allocation profiles of BenchmarkGatewayFull/pageSize=100
// to dir and prints their top entries.
func profile(ctx context.Context, root, dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bin, cpu, mem := filepath.Join(dir, "inproc.test"), filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	if _, err := goCmd(ctx, root, "test", "-run", "^$", "-bench", "GatewayFull/pageSize=100$", "-benchtime", "3s", "-benchmem",
		"-o", bin, "-cpuprofile", cpu, "-memprofile", mem, "-memprofilerate", "4096", "./bench/inproc"); err != nil {
		return err
	}
	for _, p := range [][]string{
		{"CPU, flat", "-top", "-nodecount=25", bin, cpu},
		{"CPU, cumulative", "-top", "-cum", "-nodecount=40", bin, cpu},
		{"allocated objects", "-top", "-sample_index=alloc_objects", "-nodecount=25", bin, mem},
		{"allocated bytes", "-top", "-sample_index=alloc_space", "-nodecount=25", bin, mem},
	} {
		out, err := goCmd(ctx, root, append([]string{"tool", "pprof"}, p[1:]...)...)
		if err != nil {
			return err
		}
		fmt.Printf("\nPROFILE (c) pageSize=100 in process — %s\n%s", p[0], out)
	}
	fmt.Printf("\nprofiles written to %s (go tool pprof -http=: %s %s)\n", dir, bin, cpu)
	return nil
}
