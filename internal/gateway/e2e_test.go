package gateway_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

var update = flag.Bool("update", false, "rewrite golden files")

// env is a gateway in front of the sandbox, both over real HTTP.
type env struct {
	gql      *httptest.Server
	sb       *sandbox.Server
	upstream *revox.Client // straight to the sandbox, for expected values
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t testing.TB) *env {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger()}))
	t.Cleanup(gql.Close)
	direct, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	return &env{gql: gql, sb: sb, upstream: direct}
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	status int
	raw    []byte
}

func (r response) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

func (e *env) do(t testing.TB, query string, vars map[string]any) response {
	t.Helper()
	return post(t, e.gql.URL, query, vars)
}

func post(t testing.TB, base, query string, vars map[string]any) response {
	t.Helper()
	return send(t, base, query, vars, nil)
}

// ok fails the test when the response carries errors, and decodes data.
func (r response) ok(t testing.TB, into any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %s", r.raw)
	}
	if err := json.Unmarshal(r.Data, into); err != nil {
		t.Fatalf("decoding data: %v\n%s", err, r.Data)
	}
}

// upstreamIDs lists every attempt id the sandbox has under a filter, in order.
func (e *env) upstreamIDs(t testing.TB, statuses ...revox.OrderStatus) []string {
	t.Helper()
	items, err := e.upstream.ListCalls(t.Context(), revox.ListCallsOptions{Page: 0, PageSize: 1000, Statuses: statuses})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) == 1000 {
		t.Fatal("sandbox list longer than one 1000-item page; widen the test")
	}
	out := make([]string, len(items))
	for i := range items {
		out[i] = items[i].ID
	}
	return out
}

type connection struct {
	Calls struct {
		Edges []struct {
			Cursor string `json:"cursor"`
			Node   struct {
				ID string `json:"id"`
			} `json:"node"`
		} `json:"edges"`
		PageInfo struct {
			HasNextPage     bool    `json:"hasNextPage"`
			HasPreviousPage bool    `json:"hasPreviousPage"`
			StartCursor     *string `json:"startCursor"`
			EndCursor       *string `json:"endCursor"`
		} `json:"pageInfo"`
	} `json:"calls"`
}

const walkQuery = `query Walk($first: Int, $after: String, $last: Int, $before: String, $statuses: [CallStatusFilter!]) {
  calls(first: $first, after: $after, last: $last, before: $before, statuses: $statuses) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

func TestWalkingTheListVisitsEveryAttemptOnceInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	filters := map[string][]revox.OrderStatus{
		"no filter":        nil,
		"completed only":   {revox.OrderCompleted},
		"calling or error": {revox.OrderCalling, revox.OrderErrored},
	}
	for name, statuses := range filters {
		want := e.upstreamIDs(t, statuses...)
		if len(want) < 20 {
			t.Fatalf("%s: only %d attempts in the sandbox; the walk would prove little", name, len(want))
		}
		var gqlStatuses []string
		for _, s := range statuses {
			gqlStatuses = append(gqlStatuses, strings.ToUpper(string(s)))
		}
		// The upstream page size for cursor windows is 100: 7 and 30 do not
		// divide it, 20 and 100 do.
		for _, size := range []int{7, 20, 30, 100} {
			t.Run(fmt.Sprintf("%s, forward by %d", name, size), func(t *testing.T) {
				t.Parallel()
				var got []string
				vars := map[string]any{"first": size, "statuses": gqlStatuses}
				for step := 0; ; step++ {
					if step > len(want)+1 {
						t.Fatal("walk does not end")
					}
					var c connection
					e.do(t, walkQuery, vars).ok(t, &c)
					for _, edge := range c.Calls.Edges {
						got = append(got, edge.Node.ID)
					}
					if c.Calls.PageInfo.HasPreviousPage != (step > 0) {
						t.Fatalf("step %d: hasPreviousPage = %v", step, c.Calls.PageInfo.HasPreviousPage)
					}
					if !c.Calls.PageInfo.HasNextPage {
						break
					}
					vars["after"] = *c.Calls.PageInfo.EndCursor
				}
				if !slices.Equal(got, want) {
					t.Fatalf("forward walk visited %d attempts, want %d in upstream order", len(got), len(want))
				}
			})
			t.Run(fmt.Sprintf("%s, backward by %d", name, size), func(t *testing.T) {
				t.Parallel()
				var got []string
				vars := map[string]any{"last": size, "statuses": gqlStatuses}
				for step := 0; ; step++ {
					if step > len(want)+1 {
						t.Fatal("walk does not end")
					}
					var c connection
					e.do(t, walkQuery, vars).ok(t, &c)
					page := make([]string, 0, len(c.Calls.Edges))
					for _, edge := range c.Calls.Edges {
						page = append(page, edge.Node.ID)
					}
					got = append(page, got...)
					if c.Calls.PageInfo.HasNextPage != (step > 0) {
						t.Fatalf("step %d: hasNextPage = %v", step, c.Calls.PageInfo.HasNextPage)
					}
					if !c.Calls.PageInfo.HasPreviousPage {
						break
					}
					vars["before"] = *c.Calls.PageInfo.StartCursor
				}
				if !slices.Equal(got, want) {
					t.Fatalf("backward walk visited %d attempts, want %d in upstream order", len(got), len(want))
				}
			})
		}
	}
}

func TestCursorsAreStableAcrossRefetches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var a, b, viaPage connection
	e.do(t, walkQuery, map[string]any{"first": 30}).ok(t, &a)
	e.do(t, walkQuery, map[string]any{"first": 30}).ok(t, &b)
	e.do(t, `{ calls(page: 1, pageSize: 10) { edges { cursor node { id } } } }`, nil).ok(t, &viaPage)
	for i := range a.Calls.Edges {
		if a.Calls.Edges[i] != b.Calls.Edges[i] {
			t.Fatalf("edge %d differs between identical requests: %+v vs %+v", i, a.Calls.Edges[i], b.Calls.Edges[i])
		}
	}
	for i, edge := range viaPage.Calls.Edges {
		if edge != a.Calls.Edges[10+i] {
			t.Fatalf("page mode edge %d = %+v, cursor mode has %+v", i, edge, a.Calls.Edges[10+i])
		}
	}
}

func TestPageModeEqualsUpstreamPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := e.upstreamIDs(t)
	for _, size := range []int{1, 20, 100} {
		t.Run(fmt.Sprintf("page size %d", size), func(t *testing.T) {
			t.Parallel()
			pages := (len(all) + size - 1) / size
			for _, page := range []int{0, 1, pages - 1, pages} {
				up, err := e.upstream.ListCalls(t.Context(), revox.ListCallsOptions{Page: page, PageSize: size})
				if err != nil {
					t.Fatal(err)
				}
				var c connection
				e.do(t, `query($p: Int, $s: Int) { calls(page: $p, pageSize: $s) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }`,
					map[string]any{"p": page, "s": size}).ok(t, &c)
				if len(c.Calls.Edges) != len(up) {
					t.Fatalf("page %d: %d edges, upstream has %d", page, len(c.Calls.Edges), len(up))
				}
				for i := range up {
					if c.Calls.Edges[i].Node.ID != up[i].ID {
						t.Fatalf("page %d item %d: %s, upstream %s", page, i, c.Calls.Edges[i].Node.ID, up[i].ID)
					}
				}
				if got, want := c.Calls.PageInfo.HasNextPage, page < pages-1; got != want {
					t.Fatalf("page %d of %d: hasNextPage = %v", page, pages, got)
				}
				if got, want := c.Calls.PageInfo.HasPreviousPage, page > 0; got != want {
					t.Fatalf("page %d: hasPreviousPage = %v", page, got)
				}
			}
		})
	}
}

func TestBadInputIsRefusedWithoutUpstreamRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var c connection
	e.do(t, walkQuery, map[string]any{"first": 5}).ok(t, &c)
	cursor := *c.Calls.PageInfo.EndCursor
	completedFilter, _ := paging.NewFilter([]revox.OrderStatus{revox.OrderCompleted})
	foreign := paging.EncodeCursor(3, completedFilter)
	cases := map[string]string{
		"page mixed with first":            `{ calls(page: 1, first: 5) { nodes { id } } }`,
		"pageSize mixed with after":        fmt.Sprintf(`{ calls(pageSize: 5, after: %q) { nodes { id } } }`, cursor),
		"first mixed with last":            `{ calls(first: 5, last: 5) { nodes { id } } }`,
		"pageSize 100000":                  `{ calls(pageSize: 100000) { nodes { id } } }`,
		"pageSize 0":                       `{ calls(pageSize: 0) { nodes { id } } }`,
		"first 101":                        `{ calls(first: 101) { nodes { id } } }`,
		"negative last":                    `{ calls(last: -1) { nodes { id } } }`,
		"negative page":                    `{ calls(page: -1) { nodes { id } } }`,
		"garbage cursor":                   `{ calls(after: "bm9wZQ") { nodes { id } } }`,
		"cursor reused under a new filter": fmt.Sprintf(`{ calls(after: %q, statuses: [COMPLETED]) { nodes { id } } }`, cursor),
		"filtered cursor without filter":   fmt.Sprintf(`{ calls(before: %q, last: 2) { nodes { id } } }`, foreign),
		"OTHER as a filter":                `{ calls(statuses: [OTHER]) { nodes { id } } }`,
		"undocumented filter status":       `{ calls(statuses: [PAUSED]) { nodes { id } } }`,
		"transcript first and last":        `{ calls(first: 1) { nodes { transcript(first: 1, last: 1) { content } } } }`,
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			before := e.sb.Requests()
			r := e.do(t, q, nil)
			want := "BAD_USER_INPUT"
			if strings.Contains(name, "filter status") || strings.Contains(name, "as a filter") {
				want = "GRAPHQL_VALIDATION_FAILED" // CallStatusFilter has no such member
			}
			if !slices.Equal(r.codes(), []string{want}) {
				t.Fatalf("codes = %v, want [%s]: %s", r.codes(), want, r.raw)
			}
			if name == "transcript first and last" {
				return // the page itself is fetched; only the transcript is refused
			}
			if n := e.sb.Requests() - before; n != 0 {
				t.Fatalf("%d upstream requests for a refused query", n)
			}
		})
	}
}

func TestDuplicateWorkInOneRequestCostsOneUpstreamRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	count := func(q string) int64 {
		t.Helper()
		before := e.sb.Requests()
		r := e.do(t, q, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %s", r.raw)
		}
		return e.sb.Requests() - before
	}
	if n := count(`{ a: calls(page: 0, pageSize: 20) { nodes { id } }
	             b: calls(page: 0, pageSize: 20) { nodes { id status } }
	             c: calls(page: 0, pageSize: 20) { edges { cursor } } }`); n != 1 {
		t.Fatalf("three aliases of one page cost %d upstream requests, want 1", n)
	}
	if n := count(`{ a: calls(page: 0, pageSize: 20) { nodes { id } pageInfo { hasNextPage } } }`); n != 1 {
		t.Fatalf("the first page with hasNextPage cost %d requests, want 1 (page_size=21)", n)
	}
	if n := count(`{ a: calls(page: 1, pageSize: 20) { nodes { id } pageInfo { hasNextPage } }
	             b: calls(page: 1, pageSize: 20) { nodes { id } } }`); n != 2 {
		t.Fatalf("a page with hasNextPage and the same page without cost %d requests, want 2 (the page, shared, and the attempt after it)", n)
	}
	order := firstOrderID(t, e)
	if n := count(fmt.Sprintf(`{ a: call(id: %q) { id } b: call(id: %q) { toPhoneNumber } c: call(id: %q) { callAttempts { id } } }`, order, order, order)); n != 1 {
		t.Fatalf("three call(id:) with one id cost %d requests, want 1", n)
	}
}

// firstOrderID finds a call order id through the sandbox's documented API.
func firstOrderID(t testing.TB, e *env) string {
	t.Helper()
	return e.sb.OrderIDs()[0]
}

// orderWithAttempts finds the first call order with at least n attempts.
func orderWithAttempts(t testing.TB, e *env, n int) string {
	t.Helper()
	for _, id := range e.sb.OrderIDs() {
		o, err := e.upstream.GetCall(t.Context(), id, revox.GetCallOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(o.CallAttempts) >= n {
			return id
		}
	}
	t.Fatalf("no call order with %d attempts in the sandbox", n)
	return ""
}

func TestErrorsAreCodedAndCostOnlyTheirField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := firstOrderID(t, e)
	r := e.do(t, fmt.Sprintf(`{ good: call(id: %q) { id } missing: call(id: "call_does_not_exist") { id } calls(first: 1) { nodes { id } } }`, order), nil)
	if !slices.Equal(r.codes(), []string{"NOT_FOUND"}) {
		t.Fatalf("codes = %v: %s", r.codes(), r.raw)
	}
	var data struct {
		Good    *struct{ ID string } `json:"good"`
		Missing *struct{ ID string } `json:"missing"`
		Calls   struct{ Nodes []struct{ ID string } }
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.Good == nil || data.Good.ID != order || data.Missing != nil || len(data.Calls.Nodes) != 1 {
		t.Fatalf("data = %s", r.Data)
	}
	if fmt.Sprint(r.Errors[0].Path) != "[missing]" {
		t.Fatalf("error path = %v", r.Errors[0].Path)
	}
}

func (panickingUpstream) ListCalls(context.Context, revox.ListCallsOptions) ([]revox.CallAttempt, error) {
	panic("boom")
}

func (panickingUpstream) GetCall(_ context.Context, id string, _ revox.GetCallOptions) (*revox.CallOrder, error) {
	return &revox.CallOrder{ID: id, Direction: revox.DirectionOutbound}, nil
}
