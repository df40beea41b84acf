package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// listCounter counts the GET /call requests an upstream answers and the
// attempts their pages hold.
type listCounter struct {
	next http.Handler
	mu   sync.Mutex
	// requests and attempts of GET /call.
	requests, attempts int
}

type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (c *listCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/call" {
		c.next.ServeHTTP(w, r)
		return
	}
	tw := &teeWriter{ResponseWriter: w}
	c.next.ServeHTTP(tw, r)
	var page struct {
		Calls []json.RawMessage `json:"calls"`
	}
	_ = json.Unmarshal(tw.body.Bytes(), &page)
	c.mu.Lock()
	c.requests++
	c.attempts += len(page.Calls)
	c.mu.Unlock()
}

func (c *listCounter) read() (requests, attempts int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, c.attempts
}

// walkOrders makes a sandbox of 1,010 attempts, the list the issue's
// figures were measured on.
const walkOrders = 642

// newCountedEnv is a gateway in front of a sandbox of 1,010 attempts, both
// over HTTP, with the sandbox's list pages counted.
func newCountedEnv(t *testing.T, opts ...revox.Option) (*env, *listCounter) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Orders: walkOrders})
	counter := &listCounter{next: sb}
	up := httptest.NewServer(counter)
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger()}))
	t.Cleanup(gql.Close)
	return &env{gql: gql, sb: sb, upstream: client}, counter
}

const pageWalkQuery = `query($p: Int, $s: Int) {
  calls(page: $p, pageSize: $s) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

func TestWalksFetchFromUpstreamAboutWhatTheyServe(t *testing.T) {
	t.Parallel()
	var want []string
	{
		e, _ := newCountedEnv(t)
		for page := 0; ; page++ {
			items, err := e.upstream.ListCalls(t.Context(), revox.ListCallsOptions{Page: page, PageSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range items {
				want = append(want, a.ID)
			}
			if len(items) < 1000 {
				break
			}
		}
		if len(want) != 1010 {
			t.Fatalf("the sandbox has %d attempts, want 1,010", len(want))
		}
	}
	// The cursor every attempt is served with, by a forward walk of 1: the
	// other walks must serve the same ones (cursors are offsets).
	var cursors []string
	for _, mode := range []string{"forward", "backward", "page"} {
		for _, n := range []int{20, 37, 100} {
			t.Run(fmt.Sprintf("%s by %d with every pageInfo flag", mode, n), func(t *testing.T) {
				e, counter := newCountedEnv(t)
				got := make([]string, len(want))
				gotCursors := make([]string, len(want))
				vars := map[string]any{}
				pages := 0
				for step := 0; ; step++ {
					if step > len(want)+1 {
						t.Fatal("walk does not end")
					}
					var c connection
					switch mode {
					case "forward":
						vars["first"] = n
						e.do(t, walkQuery, vars).ok(t, &c)
					case "backward":
						vars["last"] = n
						e.do(t, walkQuery, vars).ok(t, &c)
					case "page":
						e.do(t, pageWalkQuery, map[string]any{"p": step, "s": n}).ok(t, &c)
					}
					pages++
					first := len(want) - n*(step+1)
					if mode != "backward" {
						first = n * step
					}
					first = max(first, 0)
					for i, edge := range c.Calls.Edges {
						got[first+i], gotCursors[first+i] = edge.Node.ID, edge.Cursor
					}
					last := first + len(c.Calls.Edges) - 1
					info := c.Calls.PageInfo
					if info.HasNextPage != (last < len(want)-1) || info.HasPreviousPage != (first > 0) {
						t.Fatalf("step %d, attempts %d..%d of %d: pageInfo %+v", step, first, last, len(want), info)
					}
					more, cursor := info.HasNextPage, info.EndCursor
					if mode == "backward" {
						more, cursor = info.HasPreviousPage, info.StartCursor
						vars["before"] = cursor
					} else {
						vars["after"] = cursor
					}
					if !more {
						break
					}
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("attempt %d served as %q, upstream has %q", i, got[i], want[i])
					}
				}
				if cursors == nil {
					cursors = gotCursors
				}
				for i := range cursors {
					if gotCursors[i] != cursors[i] {
						t.Fatalf("attempt %d served with cursor %q, the first walk gave %q", i, gotCursors[i], cursors[i])
					}
				}
				requests, attempts := counter.read()
				ratio := float64(attempts) / float64(len(want))
				t.Logf("%d GraphQL pages: %d upstream requests, %d attempts fetched to serve %d (%.3f each)", pages, requests, attempts, len(want), ratio)
				if ratio > 1.1 {
					t.Fatalf("%d attempts fetched to serve %d: %.3f per attempt served, want at most 1.1", attempts, len(want), ratio)
				}
				// Forward and page mode: a window (one page when aligned) and
				// the attempt after it. Backward windows are not aligned with
				// their size (they count from the end): up to three pages,
				// plus the search for the end, once (26 requests here).
				limit := 2 * pages
				if mode == "backward" {
					limit = 3*pages + 26
				}
				if requests > limit {
					t.Fatalf("%d upstream requests for %d GraphQL pages, want at most %d", requests, pages, limit)
				}
			})
		}
	}
}

func TestIdenticalWindowsShareTheirUpstreamRequests(t *testing.T) {
	t.Parallel()
	// With CACHE_TTL, so that the same window asked again is served from
	// the cache: the pages of a window depend on the window alone.
	e, counter := newCountedEnv(t, revox.WithCache(time.Minute, 100))
	var c connection
	e.do(t, walkQuery, map[string]any{"first": 30}).ok(t, &c)
	after := *c.Calls.PageInfo.EndCursor // offset 29: the next window is 30..59
	before, _ := counter.read()
	q := `query($after: String) {
	  a: calls(first: 30, after: $after) { nodes { id } pageInfo { hasNextPage } }
	  b: calls(first: 30, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } }
	}`
	var one struct {
		A, B struct {
			PageInfo struct {
				HasNextPage bool `json:"hasNextPage"`
			} `json:"pageInfo"`
		}
	}
	e.do(t, q, map[string]any{"after": after}).ok(t, &one)
	alone, _ := counter.read()
	e.do(t, walkQuery, map[string]any{"first": 30, "after": after}).ok(t, &c)
	again, _ := counter.read()
	if !one.A.PageInfo.HasNextPage || !one.B.PageInfo.HasNextPage {
		t.Fatalf("hasNextPage of a window in the middle of the list: %+v", one)
	}
	// The window is one upstream page of 30 (30 divides 30), its
	// look-ahead one of 1: two requests, whichever alias asks.
	if got := alone - before; got != 2 {
		t.Fatalf("two aliases of one window cost %d upstream requests, want 2", got)
	}
	if got := again - alone; got != 0 {
		t.Fatalf("the same window asked again cost %d upstream requests, want 0 (cached)", got)
	}
}

func TestARememberedListLengthIsNeverUsedForAnotherCredential(t *testing.T) {
	t.Parallel()
	keys := []string{"sk_sandbox_demo", "sk_sandbox_second_tenant"}
	tenants := sandbox.NewTenants(keys, sandbox.Options{})
	up := httptest.NewServer(tenants)
	t.Cleanup(up.Close)
	newGateway := func() string {
		client, err := revox.New(up.URL, "")
		if err != nil {
			t.Fatal(err)
		}
		gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, AuthMode: gateway.AuthForward, Logger: quietLogger()}))
		t.Cleanup(gql.Close)
		return gql.URL
	}
	// lastPage asks for the end of key's list and returns the upstream
	// requests it cost and the ids served.
	lastPage := func(base, key string) (int64, []string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": `{ calls(last: 20) { nodes { id } } }`})
		req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		before := tenants.Requests()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Data struct {
				Calls struct {
					Nodes []struct {
						ID string `json:"id"`
					} `json:"nodes"`
				} `json:"calls"`
			} `json:"data"`
			Errors []json.RawMessage `json:"errors"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
			t.Fatalf("decoding: %v, errors %s", err, out.Errors)
		}
		var ids []string
		for _, n := range out.Data.Calls.Nodes {
			ids = append(ids, n.ID)
		}
		return tenants.Requests() - before, ids
	}
	fresh := newGateway()
	coldB, wantB := lastPage(fresh, keys[1])

	shared := newGateway()
	coldA, _ := lastPage(shared, keys[0])
	warmA, _ := lastPage(shared, keys[0])
	// Remembered: the window before the length (one or two pages), the
	// attempt at the length and the one 20 past it, in one round trip.
	if warmA > 4 || coldA <= 10 {
		t.Fatalf("the end of one tenant's list cost %d upstream requests, then %d; want a search, then at most 4 (remembered)", coldA, warmA)
	}
	gotB, idsB := lastPage(shared, keys[1])
	if gotB != coldB {
		t.Fatalf("the other tenant's end cost %d upstream requests after the first tenant's, %d on a fresh gateway: want the same search", gotB, coldB)
	}
	if len(idsB) != 20 || fmt.Sprint(idsB) != fmt.Sprint(wantB) {
		t.Fatalf("the other tenant was served %v, want %v", idsB, wantB)
	}
}
