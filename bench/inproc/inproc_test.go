package inproc_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/bench/internal/closedloop"

	"github.com/revox-graphql/gateway/bench/internal/revproxy"
	"github.com/revox-graphql/gateway/bench/internal/workload"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// BenchmarkUpstream is scenario (a): GET /call of the sandbox directly.
func BenchmarkUpstream(b *testing.B) {
	for _, n := range []int{20, 100} {
		b.Run(fmt.Sprintf("pageSize=%d", n), func(b *testing.B) {
			up := httptest.NewServer(sandbox.New(sandbox.Options{}))
			defer up.Close()
			benchmarkGET(b, up.URL+workload.UpstreamPath(n))
		})
	}
}

// BenchmarkReverseProxy is scenario (b): the same request through
// httputil.ReverseProxy.
func BenchmarkReverseProxy(b *testing.B) {
	for _, n := range []int{20, 100} {
		b.Run(fmt.Sprintf("pageSize=%d", n), func(b *testing.B) {
			up := httptest.NewServer(sandbox.New(sandbox.Options{}))
			defer up.Close()
			u, _ := url.Parse(up.URL)
			proxy := httptest.NewServer(revproxy.New(u))
			defer proxy.Close()
			benchmarkGET(b, proxy.URL+workload.UpstreamPath(n))
		})
	}
}

// BenchmarkGatewayFull is scenario (c): every CallAttempt field and full
// transcripts of one page.
func BenchmarkGatewayFull(b *testing.B) {
	for _, n := range []int{20, 100} {
		b.Run(fmt.Sprintf("pageSize=%d", n), func(b *testing.B) {
			benchmarkGateway(b, workload.FullQuery(n))
		})
	}
}

// BenchmarkGatewayIDs is scenario (d): only the ids of one page.
func BenchmarkGatewayIDs(b *testing.B) {
	b.Run("pageSize=100", func(b *testing.B) {
		benchmarkGateway(b, workload.IDsQuery(100))
	})
}

func benchmarkGateway(b *testing.B, query string) {
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer up.Close()
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	gw := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quiet}))
	defer gw.Close()
	body := workload.Body(query)
	run := func(c *http.Client, buf *bytes.Buffer) {
		req, _ := http.NewRequest(http.MethodPost, gw.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		roundTrip(b, c, req, buf, []byte(`"errors"`))
	}
	benchmarkRequests(b, run)
}

func benchmarkGET(b *testing.B, target string) {
	run := func(c *http.Client, buf *bytes.Buffer) {
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
		roundTrip(b, c, req, buf, nil)
	}
	benchmarkRequests(b, run)
}

// benchmarkRequests runs one request per iteration over a keep-alive
// connection, after one request that sizes the response.
func benchmarkRequests(b *testing.B, run func(*http.Client, *bytes.Buffer)) {
	c := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}}
	defer c.CloseIdleConnections()
	var buf bytes.Buffer
	run(c, &buf)
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := closedloop.ProcessCPU()
	for b.Loop() {
		run(c, &buf)
	}
	// The server, the sandbox and the client share the process: this is
	// the CPU one request costs all three, whatever else the machine runs.
	b.ReportMetric(float64(closedloop.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

func roundTrip(b *testing.B, c *http.Client, req *http.Request, buf *bytes.Buffer, reject []byte) {
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || reject != nil && bytes.Contains(buf.Bytes(), reject) {
		b.Fatalf("status %d: %.300s", resp.StatusCode, buf.Bytes())
	}
}

// BenchmarkGatewayWarm is the gateway's own cost per request: the handler
// called directly (no sockets), its client caching the upstream page
// (CACHE_TTL), so that no upstream request nor decoding is counted, as
// under load, where coalescing shares them between requests.
func BenchmarkGatewayWarm(b *testing.B) {
	for _, tc := range []struct{ name, query string }{
		{"full/pageSize=20", workload.FullQuery(20)},
		{"full/pageSize=100", workload.FullQuery(100)},
		{"ids/pageSize=100", workload.IDsQuery(100)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			up := httptest.NewServer(sandbox.New(sandbox.Options{}))
			defer up.Close()
			client, err := revox.New(up.URL, sandbox.DefaultAPIKey, revox.WithCache(time.Hour, 16))
			if err != nil {
				b.Fatal(err)
			}
			quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
			h := gateway.New(gateway.Config{Upstream: client, Logger: quiet})
			body := workload.Body(tc.query)
			var w discardWriter
			b.ReportAllocs()
			cpu := closedloop.ProcessCPU()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				w.reset()
				h.ServeHTTP(&w, req)
				if w.status != http.StatusOK || w.errors {
					b.Fatalf("status %d, errors in the response", w.status)
				}
			}
			b.ReportMetric(float64(closedloop.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkGatewayWarmEncoded is BenchmarkGatewayWarm's full pageSize=100
// page asked in each response coding: the gateway's own cost of
// compressing it, without sockets or upstream work.
func BenchmarkGatewayWarmEncoded(b *testing.B) {
	for _, coding := range []string{"identity", "gzip", "br", "zstd"} {
		b.Run("full/pageSize=100/"+coding, func(b *testing.B) {
			up := httptest.NewServer(sandbox.New(sandbox.Options{}))
			defer up.Close()
			client, err := revox.New(up.URL, sandbox.DefaultAPIKey, revox.WithCache(time.Hour, 16))
			if err != nil {
				b.Fatal(err)
			}
			quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
			h := gateway.New(gateway.Config{Upstream: client, Logger: quiet})
			body := workload.Body(workload.FullQuery(100))
			var w discardWriter
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept-Encoding", coding)
				w.reset()
				h.ServeHTTP(&w, req)
				if w.status != http.StatusOK || w.errors {
					b.Fatalf("status %d, errors in the response", w.status)
				}
			}
			b.ReportMetric(float64(w.bytes), "wire-bytes")
		})
	}
}

// discardWriter is a ResponseWriter that keeps the status and whether the
// body holds "errors", and nothing else.
type discardWriter struct {
	header http.Header
	status int
	errors bool
	bytes  int
}

func (w *discardWriter) reset() {
	w.header, w.status, w.errors, w.bytes = http.Header{}, 0, false, 0
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.bytes += len(p)
	if bytes.Contains(p, []byte(`"errors"`)) {
		w.errors = true
	}
	return len(p), nil
}
