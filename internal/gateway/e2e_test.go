package gateway_test

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
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response is not JSON (%d): %s", resp.StatusCode, raw)
	}
	r.status, r.raw = resp.StatusCode, raw
	return r
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

func TestUpstreamFailuresMapToStableCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		handler http.HandlerFunc
		code    string
		ext     map[string]any
	}{
		{"wrong key is UNAUTHENTICATED", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"invalid api key"}`))
		}, "UNAUTHENTICATED", nil},
		{"403 is UNAUTHENTICATED", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		}, "UNAUTHENTICATED", nil},
		{"429 is UPSTREAM_RATE_LIMITED with its Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}, "UPSTREAM_RATE_LIMITED", map[string]any{"retryAfterSeconds": float64(7)}},
		{"500 is UPSTREAM_UNAVAILABLE", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}, "UPSTREAM_UNAVAILABLE", nil},
		{"malformed body is UPSTREAM_BAD_RESPONSE", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"calls": [{"id": `))
		}, "UPSTREAM_BAD_RESPONSE", nil},
		{"other 4xx is UPSTREAM_REJECTED", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"message":"page_size too large"}`))
		}, "UPSTREAM_REJECTED", map[string]any{"upstreamStatus": float64(422)}},
		{"a redirect is UPSTREAM_REDIRECT, not followed", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/call" {
				_, _ = w.Write([]byte(`{"calls": [{"id": "elsewhere"}]}`))
				return
			}
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		}, "UPSTREAM_REDIRECT", map[string]any{"upstreamStatus": float64(301)}},
		{"an empty object is UPSTREAM_BAD_RESPONSE, not an empty page", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{}`))
		}, "UPSTREAM_BAD_RESPONSE", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := httptest.NewServer(tc.handler)
			t.Cleanup(up.Close)
			client, _ := revox.New(up.URL, "sk_test_SECRET")
			gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger()}))
			t.Cleanup(gql.Close)
			r := post(t, gql.URL, `{ calls(first: 3) { nodes { id } } }`, nil)
			if !slices.Equal(r.codes(), []string{tc.code}) {
				t.Fatalf("codes = %v, want %s: %s", r.codes(), tc.code, r.raw)
			}
			for k, v := range tc.ext {
				if r.Errors[0].Extensions[k] != v {
					t.Fatalf("extensions[%s] = %v, want %v", k, r.Errors[0].Extensions[k], v)
				}
			}
			if strings.Contains(string(r.raw), "sk_test_SECRET") {
				t.Fatal("the API key leaked into the response")
			}
		})
	}
	t.Run("a timeout is UPSTREAM_UNAVAILABLE", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(func() { close(release); up.Close() })
		client, _ := revox.New(up.URL, "k", revox.WithTimeout(50*time.Millisecond))
		gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger()}))
		t.Cleanup(gql.Close)
		r := post(t, gql.URL, `{ calls { nodes { id } } }`, nil)
		if !slices.Equal(r.codes(), []string{"UPSTREAM_UNAVAILABLE"}) {
			t.Fatalf("codes = %v: %s", r.codes(), r.raw)
		}
	})
}

// panickingUpstream stands for a bug below the resolvers: listing panics,
// fetching one order works.
type panickingUpstream struct{}

func (panickingUpstream) ListCalls(context.Context, revox.ListCallsOptions) ([]revox.CallAttempt, error) {
	panic("boom")
}

func (panickingUpstream) GetCall(_ context.Context, id string, _ revox.GetCallOptions) (*revox.CallOrder, error) {
	return &revox.CallOrder{ID: id, Direction: revox.DirectionOutbound}, nil
}

func TestPanicIsAnInternalErrorOfItsFieldOnly(t *testing.T) {
	t.Parallel()
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: panickingUpstream{}, Logger: quietLogger()}))
	t.Cleanup(gql.Close)
	r := post(t, gql.URL, `{ calls { nodes { id } } call(id: "c1") { id direction } }`, nil)
	if r.status != http.StatusOK || !slices.Equal(r.codes(), []string{"INTERNAL_SERVER_ERROR"}) {
		t.Fatalf("status %d, codes %v: %s", r.status, r.codes(), r.raw)
	}
	if strings.Contains(string(r.raw), "boom") {
		t.Fatalf("panic value leaked to the client: %s", r.raw)
	}
	if !strings.Contains(string(r.Data), `"call":{"id":"c1","direction":"OUTBOUND"}`) {
		t.Fatalf("the healthy field was lost: %s", r.Data)
	}
}

func TestAttemptFieldsMatchUpstream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	up, err := e.upstream.ListCalls(t.Context(), revox.ListCallsOptions{Page: 0, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	type attempt struct {
		ID               string          `json:"id"`
		PhoneNumber      string          `json:"phoneNumber"`
		Status           string          `json:"status"`
		StatusRaw        string          `json:"statusRaw"`
		Result           *string         `json:"result"`
		ResultRaw        *string         `json:"resultRaw"`
		DialError        *string         `json:"dialError"`
		DialErrorRaw     *string         `json:"dialErrorRaw"`
		StartedAt        *string         `json:"startedAt"`
		AnsweredAt       *string         `json:"answeredAt"`
		EndedAt          *string         `json:"endedAt"`
		DurationSeconds  *float64        `json:"durationSeconds"`
		RecordingURL     *string         `json:"recordingUrl"`
		EndReason        *string         `json:"endReason"`
		EndedBy          *string         `json:"endedBy"`
		EndedByRaw       *string         `json:"endedByRaw"`
		StructuredOutput json.RawMessage `json:"structuredOutput"`
		TranscriptLength int             `json:"transcriptLength"`
		Transcript       []struct {
			Role          string          `json:"role"`
			RoleRaw       string          `json:"roleRaw"`
			Content       string          `json:"content"`
			ToolName      *string         `json:"toolName"`
			ToolArguments json.RawMessage `json:"toolArguments"`
			ToolIsError   *bool           `json:"toolIsError"`
		} `json:"transcript"`
	}
	var got []attempt
	for page := 0; page*100 < len(up); page++ {
		var data struct {
			Calls struct{ Nodes []attempt } `json:"calls"`
		}
		e.do(t, `query($p: Int) { calls(page: $p, pageSize: 100) { nodes {
		    id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw
		    startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw
		    structuredOutput transcriptLength
		    transcript { role roleRaw content toolName toolArguments toolIsError } } } }`,
			map[string]any{"p": page}).ok(t, &data)
		got = append(got, data.Calls.Nodes...)
	}
	if len(got) != len(up) {
		t.Fatalf("%d attempts through GraphQL, %d upstream", len(got), len(up))
	}
	member := func(raw string, known ...string) string {
		if slices.Contains(known, raw) {
			return strings.ToUpper(strings.ReplaceAll(raw, "-", "_"))
		}
		return "OTHER"
	}
	optMember := func(raw *string, known ...string) *string {
		if raw == nil {
			return nil
		}
		m := member(*raw, known...)
		return &m
	}
	ts := func(tm revox.Time) *string {
		if tm.IsZero() {
			return nil
		}
		s := tm.UTC().Format(time.RFC3339Nano)
		return &s
	}
	eq := func(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	sawOther := false
	for i, g := range got {
		u := up[i]
		ctx := fmt.Sprintf("attempt %d (%s)", i, u.ID)
		if g.ID != u.ID || g.PhoneNumber != u.PhoneNumber || g.StatusRaw != string(u.Status) {
			t.Fatalf("%s: id/phone/statusRaw differ: %+v", ctx, g)
		}
		if want := member(string(u.Status), "queued", "ringing", "ongoing", "completed", "error"); g.Status != want {
			t.Fatalf("%s: status %s, want %s", ctx, g.Status, want)
		}
		sawOther = sawOther || g.Status == "OTHER" || (g.Result != nil && *g.Result == "OTHER") || (g.DialError != nil && *g.DialError == "OTHER")
		if !eq(g.Result, optMember((*string)(u.Result), "IVR", "voicemail", "human", "unknown", "ios-screening-filter")) || !eq(g.ResultRaw, (*string)(u.Result)) {
			t.Fatalf("%s: result %v/%v", ctx, g.Result, g.ResultRaw)
		}
		if !eq(g.DialError, optMember((*string)(u.DialError), "number_non_attributed", "too_many_calls", "busy", "temporarily_unavailable", "no_answer", "no_international_permission", "precondition_failed", "non_classified_error")) || !eq(g.DialErrorRaw, (*string)(u.DialError)) {
			t.Fatalf("%s: dialError %v/%v", ctx, g.DialError, g.DialErrorRaw)
		}
		if !eq(g.EndedBy, optMember((*string)(u.EndedBy), "agent", "user", "system")) || !eq(g.EndedByRaw, (*string)(u.EndedBy)) {
			t.Fatalf("%s: endedBy %v", ctx, g.EndedBy)
		}
		for _, p := range []struct {
			name string
			got  *string
			want revox.Time
		}{{"startedAt", g.StartedAt, u.StartedAt}, {"answeredAt", g.AnsweredAt, u.AnsweredAt}, {"endedAt", g.EndedAt, u.EndedAt}} {
			if !eq(p.got, ts(p.want)) {
				t.Fatalf("%s: %s = %v, want %v", ctx, p.name, p.got, ts(p.want))
			}
			if p.got != nil && !strings.HasSuffix(*p.got, "Z") {
				t.Fatalf("%s: %s %s is not UTC", ctx, p.name, *p.got)
			}
		}
		if (g.DurationSeconds != nil) != (!u.AnsweredAt.IsZero() && !u.EndedAt.IsZero()) {
			t.Fatalf("%s: durationSeconds = %v", ctx, g.DurationSeconds)
		}
		if !eq(g.RecordingURL, u.RecordingURL) || !eq(g.EndReason, u.EndReason) {
			t.Fatalf("%s: recordingUrl/endReason differ", ctx)
		}
		if !jsonEqual(g.StructuredOutput, u.StructuredOutput) {
			t.Fatalf("%s: structuredOutput %s, upstream %s", ctx, g.StructuredOutput, u.StructuredOutput)
		}
		uturns, err := u.Transcript.Turns()
		if err != nil {
			t.Fatalf("%s: upstream transcript: %v", ctx, err)
		}
		if (g.Transcript == nil) != !u.Transcript.Present() || len(g.Transcript) != len(uturns) || g.TranscriptLength != len(uturns) {
			t.Fatalf("%s: transcript has %d turns, upstream %d", ctx, len(g.Transcript), len(uturns))
		}
		for j, turn := range g.Transcript {
			ut := uturns[j]
			if turn.RoleRaw != string(ut.Role) || turn.Role != member(string(ut.Role), "user", "assistant", "tool") || turn.Content != ut.Content ||
				!eq(turn.ToolName, ut.ToolName) || !jsonEqual(turn.ToolArguments, ut.ToolArguments) {
				t.Fatalf("%s: turn %d differs: %+v", ctx, j, turn)
			}
			if (turn.ToolIsError == nil) != (ut.ToolIsError == nil) || (turn.ToolIsError != nil && *turn.ToolIsError != *ut.ToolIsError) {
				t.Fatalf("%s: turn %d toolIsError differs", ctx, j)
			}
		}
	}
	if !sawOther {
		t.Fatal("the sandbox serves no undocumented enum value, so the OTHER fallback went untested")
	}
}

// jsonEqual compares two JSON values, treating absent and null alike.
func jsonEqual(a, b json.RawMessage) bool {
	norm := func(r json.RawMessage) any {
		if len(r) == 0 {
			return nil
		}
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return err.Error()
		}
		return v
	}
	x, _ := json.Marshal(norm(a))
	y, _ := json.Marshal(norm(b))
	return bytes.Equal(x, y)
}

func TestGoldenResponses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := orderWithAttempts(t, e, 2)
	cases := map[string]string{
		"calls_every_field": `{ calls(first: 4, statuses: [COMPLETED, CALLING]) {
		    edges { cursor node { ...every } }
		    nodes { id }
		    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
		  fragment every on CallAttempt {
		    id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw
		    startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw
		    structuredOutput transcriptLength
		    transcript { role roleRaw content toolName toolArguments toolIsError } }`,
		"call_every_field": fmt.Sprintf(`{ call(id: %q) {
		    id status statusRaw outcome direction directionRaw fromPhoneNumber toPhoneNumber
		    isCompleted isCancelled callsCount nextCallAt scheduledAt createdAt firstSentenceDelayMs
		    metadata assistant
		    callRetryConfig { callingWindows { startTime endTime retryDelaySeconds } maxRetryAttempts timezone allowedDays callTwiceInARow }
		    llmModel { type name openrouterModelId openrouterProvider provider realtimeModelId realtimeVoiceId }
		    lastCallAttempt { id status }
		    callAttempts { id status startedAt transcript(roles: [TOOL]) { toolName toolArguments } } } }`, order),
		"transcript_slices": `{ calls(first: 3, statuses: [COMPLETED]) { nodes { id
		    all: transcriptLength
		    firstTwo: transcript(first: 2) { role content }
		    lastUser: transcript(roles: [USER], last: 1) { role content }
		    tools: transcript(roles: [TOOL]) { toolName toolArguments toolIsError } } } }`,
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := e.do(t, q, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %s", r.raw)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, r.raw, "", "  "); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/gateway -run Golden -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Fatalf("response differs from %s:\n%s", path, pretty.Bytes())
			}
		})
	}
}

// An upstream transcript the gateway cannot read costs that attempt's
// transcript field an error, not the page: transcripts are decoded only
// when selected.
func TestAnUnreadableTranscriptCostsOnlyItsField(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"calls": [
		  {"id": "a1", "phone_number": "+1", "status": "completed", "transcript": [{"role": "user", "content": "hello"}]},
		  {"id": "a2", "phone_number": "+2", "status": "completed", "transcript": [{"role": "user", "content": {"not": "text"}}]},
		  {"id": "a3", "phone_number": "+3", "status": "queued", "transcript": null}]}`)
	}))
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, "sk_test")
	if err != nil {
		t.Fatal(err)
	}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger()}))
	t.Cleanup(gql.Close)

	r := post(t, gql.URL, `{ calls(first: 3) { nodes { id phoneNumber } } }`, nil)
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"a2"`) {
		t.Fatalf("ids only: %s", r.raw)
	}
	r = post(t, gql.URL, `{ calls(first: 3) { nodes { id transcript { content } } } }`, nil)
	want := `{"calls":{"nodes":[{"id":"a1","transcript":[{"content":"hello"}]},{"id":"a2","transcript":null},{"id":"a3","transcript":null}]}}`
	if string(r.Data) != want {
		t.Fatalf("data = %s, want %s", r.Data, want)
	}
	if !slices.Equal(r.codes(), []string{gateway.CodeUpstreamBadResponse}) || fmt.Sprint(r.Errors[0].Path) != "[calls nodes 1 transcript]" {
		t.Fatalf("errors: %s", r.raw)
	}
}

// hintRecorder is an upstream of 100 attempts that records, for each page
// asked, whether the caller asked for the transcripts.
type hintRecorder struct {
	mu     sync.Mutex
	wanted []bool
	starts []int // offset of the first attempt of each page
}

// byOffset returns wanted in the order of the pages' offsets: pages are
// asked concurrently, so the order they arrive in means nothing.
func (h *hintRecorder) byOffset() []bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	idx := make([]int, len(h.wanted))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return h.starts[a] - h.starts[b] })
	out := make([]bool, len(idx))
	for i, j := range idx {
		out[i] = h.wanted[j]
	}
	return out
}

func (h *hintRecorder) ListCalls(ctx context.Context, opts revox.ListCallsOptions) ([]revox.CallAttempt, error) {
	h.mu.Lock()
	h.wanted = append(h.wanted, opts.Fields == 0 || opts.Fields&revox.AttemptFieldsOf("transcript") != 0)
	h.starts = append(h.starts, opts.Page*opts.PageSize)
	h.mu.Unlock()
	var page []revox.CallAttempt
	for i := opts.Page * opts.PageSize; i < min((opts.Page+1)*opts.PageSize, 100); i++ {
		page = append(page, revox.CallAttempt{ID: fmt.Sprintf("a%d", i), Status: revox.AttemptCompleted, Transcript: revox.NewTranscript(nil)})
	}
	return page, nil
}

func (h *hintRecorder) GetCall(context.Context, string, revox.GetCallOptions) (*revox.CallOrder, error) {
	return nil, &revox.APIError{StatusCode: http.StatusNotFound, Method: http.MethodGet, Path: "/call/x", Message: "not found"}
}

// Pages are decoded without their transcripts exactly when the request
// selects no transcript field of their attempts.
func TestPagesSkipTranscriptsOnlyWhenNoneIsSelected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query string
		want  []bool // one per upstream page, in the order of their offsets
	}{
		{`{ calls(first: 1) { nodes { id status } pageInfo { hasNextPage } } }`, []bool{false}},
		{`{ calls(first: 1) { edges { cursor node { id } } } }`, []bool{false}},
		{`{ calls(first: 1) { nodes { id transcript { content } } } }`, []bool{true}},
		{`{ calls(first: 1) { edges { node { ...F } } } } fragment F on CallAttempt { transcriptLength }`, []bool{true}},
		{`{ calls(first: 1) { e: edges { n: node { ... on CallAttempt { t: transcript(last: 1) { role } } } } } }`, []bool{true}},
		{`query($skip: Boolean!) { calls(first: 1) { nodes { id transcript @skip(if: $skip) { content } } } }`, []bool{false}},
		// The look-ahead for hasNextPage is one attempt, decoded like the
		// page: its attempt may serve as data too, and one transcript
		// costs little.
		{`{ calls(page: 1, pageSize: 10) { nodes { transcript { content } } pageInfo { hasNextPage } } }`, []bool{true, true}},
	} {
		rec := &hintRecorder{}
		gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: rec, Logger: quietLogger()}))
		r := post(t, gql.URL, tc.query, map[string]any{"skip": true})
		gql.Close()
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", tc.query, r.raw)
		}
		if got := rec.byOffset(); !slices.Equal(got, tc.want) {
			t.Fatalf("%s: transcripts wanted %v, want %v", tc.query, got, tc.want)
		}
	}
}
