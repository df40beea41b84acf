// Command paging measures what the gateway asks of the upstream to serve
// cursor and page walks, and how long each query shape waits on an upstream
// that answers in 100 ms (issue 14). Everything runs in process over
// loopback: a sandbox of 1,010 attempts behind a counter of GET /call
// requests and of the attempts their pages hold, the sandbox's latency knob
// (sandbox.FaultInjector) in front, and a fresh gateway per measurement so
// that nothing is remembered from one to the next unless the row says so.
// It prints markdown tables for BENCHMARKS.md.
//
//	go run ./bench/paging                 walks, then shapes at 100 ms (about 30 s)
//	go run ./bench/paging -latency 50ms -runs 3
//	go run ./bench/paging -cache 1m       walks with the client's cache on (CACHE_TTL)
//
// It uses only the gateway's public packages as they were before issue 14,
// so the same file runs on an older checkout for the "before" column.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// orders makes a sandbox of 1,010 attempts, the list of issue 14.
const orders = 642

// counter counts GET /call requests and the attempts of their pages.
type counter struct {
	next               http.Handler
	mu                 sync.Mutex
	requests, attempts int
}

type tee struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (t *tee) Write(p []byte) (int, error) {
	t.body.Write(p)
	return t.ResponseWriter.Write(p)
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/call" {
		c.mu.Lock()
		c.requests++
		c.mu.Unlock()
		c.next.ServeHTTP(w, r)
		return
	}
	t := &tee{ResponseWriter: w}
	c.next.ServeHTTP(t, r)
	var page struct {
		Calls []json.RawMessage `json:"calls"`
	}
	_ = json.Unmarshal(t.body.Bytes(), &page)
	c.mu.Lock()
	c.requests++
	c.attempts += len(page.Calls)
	c.mu.Unlock()
}

func (c *counter) read() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, c.attempts
}

// stack is one sandbox, its counter and latency, and a gateway in front.
type stack struct {
	sb     *sandbox.Server
	count  *counter
	faults *sandbox.FaultInjector
	up, gw *httptest.Server
}

func newStack(sb *sandbox.Server, latency, cache time.Duration) *stack {
	s := &stack{sb: sb}
	s.faults = sandbox.NewFaultInjector(sb, sandbox.Faults{Latency: latency}, 1)
	s.count = &counter{next: s.faults}
	s.up = httptest.NewServer(s.count)
	var opts []revox.Option
	if cache > 0 {
		opts = append(opts, revox.WithCache(cache, 1024))
	}
	client, err := revox.New(s.up.URL, sandbox.DefaultAPIKey, opts...)
	if err != nil {
		fail(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	s.gw = httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quiet}))
	return s
}

func (s *stack) close() { s.gw.Close(); s.up.Close() }

type connection struct {
	Edges []struct {
		Cursor string `json:"cursor"`
	} `json:"edges"`
	PageInfo struct {
		HasNextPage     bool   `json:"hasNextPage"`
		HasPreviousPage bool   `json:"hasPreviousPage"`
		StartCursor     string `json:"startCursor"`
		EndCursor       string `json:"endCursor"`
	} `json:"pageInfo"`
}

func (s *stack) query(q string, vars map[string]any) map[string]json.RawMessage {
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	resp, err := http.Post(s.gw.URL+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		fail(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []json.RawMessage          `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 {
		fail(fmt.Errorf("query %s: %s", q, raw))
	}
	return out.Data
}

const walkQuery = `query($first: Int, $after: String, $last: Int, $before: String) {
  calls(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

// olderQuery pages backward as the README's example does, without
// hasNextPage (which, backward, costs a look-ahead at the cursor).
const olderQuery = `query($last: Int, $before: String) {
  calls(last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasPreviousPage startCursor }
  }
}`

const pageQuery = `query($p: Int, $s: Int) {
  calls(page: $p, pageSize: $s) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

// walk serves the whole list by windows of n and returns the GraphQL
// pages, upstream requests and attempts fetched, and attempts served.
func walk(sb *sandbox.Server, mode string, n int, cache time.Duration) (pages, requests, attempts, served int) {
	s := newStack(sb, 0, cache)
	defer s.close()
	vars := map[string]any{}
	for step := 0; ; step++ {
		var c connection
		switch mode {
		case "forward":
			vars["first"] = n
			_ = json.Unmarshal(s.query(walkQuery, vars)["calls"], &c)
		case "backward":
			vars["last"] = n
			_ = json.Unmarshal(s.query(walkQuery, vars)["calls"], &c)
		case "older":
			vars["last"] = n
			_ = json.Unmarshal(s.query(olderQuery, vars)["calls"], &c)
		case "page":
			_ = json.Unmarshal(s.query(pageQuery, map[string]any{"p": step, "s": n})["calls"], &c)
		}
		pages++
		served += len(c.Edges)
		more := c.PageInfo.HasNextPage
		if mode == "backward" || mode == "older" {
			more = c.PageInfo.HasPreviousPage
			vars["before"] = c.PageInfo.StartCursor
		} else {
			vars["after"] = c.PageInfo.EndCursor
		}
		if !more {
			break
		}
	}
	requests, attempts = s.count.read()
	return pages, requests, attempts, served
}

// shape is one query measured against the slow upstream.
type shape struct {
	name  string
	query string
	vars  map[string]any
	// warm asks the query once on the same gateway before measuring it.
	warm bool
}

func shapes(sb *sandbox.Server) []shape {
	f, _ := paging.NewFilter(nil)
	ids := sb.OrderIDs()
	ids3 := fmt.Sprintf(`{ a: call(id: %q) { id } b: call(id: %q) { id } c: call(id: %q) { id } }`, ids[0], ids[1], ids[2])
	return []shape{
		{"`page: 3, pageSize: 20`", `{ calls(page: 3, pageSize: 20) { nodes { id } } }`, nil, false},
		{"`page: 3, pageSize: 20` with `hasNextPage`", `{ calls(page: 3, pageSize: 20) { nodes { id } pageInfo { hasNextPage } } }`, nil, false},
		{"`first: 20`", `{ calls(first: 20) { nodes { id } pageInfo { hasNextPage endCursor } } }`, nil, false},
		{"`first: 20, after:` offset 89 (window 90..109, across two pages of 100)", walkQuery, map[string]any{"first": 20, "after": paging.EncodeCursor(89, f)}, false},
		{"three `call(id:)` aliases", ids3, nil, false},
		{"`last: 20` at the end of the list, first query", walkQuery, map[string]any{"last": 20}, false},
		{"`last: 20` at the end of the list, asked again", walkQuery, map[string]any{"last": 20}, true},
	}
}

// measure returns the median latency of runs fresh gateways asked sh, and
// the upstream requests of one query.
func measure(sb *sandbox.Server, sh shape, latency time.Duration, runs int) (time.Duration, int) {
	var took []time.Duration
	requests := 0
	for range runs {
		s := newStack(sb, latency, 0)
		if sh.warm {
			s.query(sh.query, sh.vars)
		}
		before, _ := s.count.read()
		start := time.Now()
		s.query(sh.query, sh.vars)
		took = append(took, time.Since(start))
		after, _ := s.count.read()
		requests = after - before
		s.close()
	}
	slices.Sort(took)
	return took[len(took)/2], requests
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "paging:", err)
	os.Exit(1)
}

func main() {
	latency := flag.Duration("latency", 100*time.Millisecond, "upstream latency for the shapes")
	runs := flag.Int("runs", 5, "fresh gateways per shape (the median is reported)")
	cache := flag.Duration("cache", 0, "CACHE_TTL of the gateway's upstream client during the walks (0: off, the default)")
	flag.Parse()
	sb := sandbox.New(sandbox.Options{Orders: orders})

	fmt.Printf("Walks over the sandbox's %d attempts, every pageInfo flag selected unless said, a fresh gateway per walk, CACHE_TTL %v:\n\n", sb.Attempts(), *cache)
	fmt.Println("| walk | GraphQL pages | upstream requests | attempts fetched | fetched per served |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, mode := range []string{"forward", "backward", "older", "page"} {
		for _, n := range []int{20, 37, 100} {
			pages, requests, attempts, served := walk(sb, mode, n, *cache)
			name := map[string]string{
				"forward":  "`first: %d` forward",
				"backward": "`last: %d` backward",
				"older":    "`last: %d` backward, `hasPreviousPage startCursor` only",
				"page":     "`page: k, pageSize: %d` with `hasNextPage`",
			}[mode]
			fmt.Printf("| "+name+" | %d | %d | %d | %.3f |\n", n, pages, requests, attempts, float64(attempts)/float64(served))
		}
	}

	fmt.Printf("\nQuery shapes, upstream latency %v, median of %d fresh gateways:\n\n", *latency, *runs)
	fmt.Println("| query | latency | upstream requests |")
	fmt.Println("|---|---:|---:|")
	for _, sh := range shapes(sb) {
		d, requests := measure(sb, sh, *latency, *runs)
		fmt.Printf("| %s | %d ms | %d |\n", sh.name, d.Milliseconds(), requests)
	}
}
