package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestAbuseIsRefusedBeforeAnyUpstreamRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	aliases := func(n int, sel string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: %s", i, sel)
		}
		b.WriteString(" }")
		return b.String()
	}
	deepIntrospection := "{ __schema { types { fields { type" + strings.Repeat(" { ofType", 20) + " { name }" + strings.Repeat(" }", 20) + " } } } }"
	cases := []struct {
		name   string
		query  string
		code   string
		status int
	}{
		{"an alias bomb", aliases(16, "calls(first: 1) { nodes { id } }"), "TOO_MANY_ALIASES", 0},
		{"a depth bomb", deepIntrospection, "QUERY_TOO_DEEP", 0},
		{"a huge token count", "{ calls { nodes {" + strings.Repeat(" id", 1200) + " } } }", "TOO_MANY_TOKENS", 0},
		{"pageSize 100000", `{ calls(pageSize: 100000) { nodes { id } } }`, "BAD_USER_INPUT", 0},
		{"fifteen full pages with transcripts", aliases(15, `calls(first: 100) { nodes { id transcript { role content toolName toolArguments } } }`), "QUERY_TOO_COMPLEX", 0},
		{"too many directives", "{ calls { nodes {" + strings.Repeat(" id @include(if: true)", 60) + " } } }", "TOO_MANY_DIRECTIVES", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.sb.Requests()
			r := e.do(t, tc.query, nil)
			if tc.code != "BAD_USER_INPUT" {
				// Refused before execution: a request error, so 400 and no
				// data under application/graphql-response+json.
				status, body, _ := postAccept(t, e.gql.URL, tc.query, "application/graphql-response+json")
				if status != http.StatusBadRequest || strings.Contains(body, `"data"`) {
					t.Fatalf("graphql-response+json: status %d, body %.200s", status, body)
				}
			}
			if !slices.Equal(r.codes(), []string{tc.code}) {
				t.Fatalf("codes %v, want %s: %.300s", r.codes(), tc.code, r.raw)
			}
			if n := e.sb.Requests() - before; n != 0 {
				t.Fatalf("%d upstream requests for a refused operation", n)
			}
		})
	}
	t.Run("the cost follows the variables of each request", func(t *testing.T) {
		// One document; its verdict is remembered per set of variables.
		query := "query($n: Int)" + aliases(15, `calls(first: $n) { nodes { id transcript { role content toolName toolArguments } } }`)
		for _, tc := range []struct {
			n    int
			code string
		}{{100, "QUERY_TOO_COMPLEX"}, {1, ""}, {100, "QUERY_TOO_COMPLEX"}, {1, ""}} {
			r := e.do(t, query, map[string]any{"n": tc.n})
			if got := strings.Join(r.codes(), ","); got != tc.code {
				t.Fatalf("first: %d: codes %q, want %q: %.300s", tc.n, got, tc.code, r.raw)
			}
		}
	})
	t.Run("an oversized body is 413", func(t *testing.T) {
		before := e.sb.Requests()
		body := `{"query":"{ calls { nodes { id } } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
		resp, err := http.Post(e.gql.URL+"/query", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(raw), "REQUEST_TOO_LARGE") {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		if e.sb.Requests() != before {
			t.Fatal("an oversized request reached the upstream")
		}
	})
	t.Run("one full page with transcripts passes", func(t *testing.T) {
		r := e.do(t, fullPageQuery, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("%.300s", r.raw)
		}
	})
	t.Run("the standard introspection query passes", func(t *testing.T) {
		r := e.do(t, introspectionQuery, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("%.300s", r.raw)
		}
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// introspectionQuery is graphql-js's getIntrospectionQuery() as GraphiQL sends it.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

func TestProductionSwitchesAndRequestGuards(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	t.Cleanup(up.Close)
	client, _ := revox.New(up.URL, sandbox.DefaultAPIKey)
	build := func(cfg gateway.Config) *httptest.Server {
		cfg.Upstream, cfg.Logger = client, quietLogger()
		s := httptest.NewServer(gateway.New(cfg))
		t.Cleanup(s.Close)
		return s
	}

	t.Run("introspection and suggestions can be switched off", func(t *testing.T) {
		t.Parallel()
		gql := build(gateway.Config{DisableIntrospection: true})
		if r := post(t, gql.URL, `{ __schema { types { name } } }`, nil); len(r.Errors) == 0 {
			t.Fatalf("introspection answered: %.200s", r.raw)
		}
		r := post(t, gql.URL, `{ calls { nodes { idd } } }`, nil)
		if len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") {
			t.Fatalf("want an error without suggestions: %s", r.raw)
		}
		on := build(gateway.Config{})
		if r := post(t, on.URL, `{ calls { nodes { idd } } }`, nil); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Did you mean") {
			t.Fatalf("suggestions missing by default: %s", r.raw)
		}
	})

	t.Run("metrics can be kept off the public port", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			off  bool
			want int
		}{{false, http.StatusOK}, {true, http.StatusNotFound}} {
			gql := build(gateway.Config{NoMetricsRoute: tc.off})
			resp, err := http.Get(gql.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("NoMetricsRoute %v: GET /metrics %d, want %d", tc.off, resp.StatusCode, tc.want)
			}
		}
	})

	t.Run("automatic persisted queries", func(t *testing.T) {
		t.Parallel()
		gql := build(gateway.Config{})
		query := `{ calls(first: 2) { nodes { id } } }`
		hash := sha256Hex(query)
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
		send := func(withQuery bool) response {
			payload := map[string]any{"extensions": ext}
			if withQuery {
				payload["query"] = query
			}
			body, _ := json.Marshal(payload)
			resp, err := http.Post(gql.URL+"/query", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r response
			r.raw, _ = io.ReadAll(resp.Body)
			_ = json.Unmarshal(r.raw, &r)
			return r
		}
		if r := send(false); !slices.Equal(r.codes(), []string{"PERSISTED_QUERY_NOT_FOUND"}) {
			t.Fatalf("unknown hash: %s", r.raw)
		}
		if r := send(true); len(r.Errors) > 0 {
			t.Fatalf("registering: %s", r.raw)
		}
		if r := send(false); len(r.Errors) > 0 || !strings.Contains(string(r.raw), `"nodes"`) {
			t.Fatalf("hash only, once registered: %s", r.raw)
		}
	})

	t.Run("requests a browser could send cross-site without preflight are blocked", func(t *testing.T) {
		t.Parallel()
		gql := build(gateway.Config{})
		q := "/query?query=" + strings.ReplaceAll("{ calls(first: 1) { nodes { id } } }", " ", "%20")
		for _, tc := range []struct {
			name    string
			method  string
			ctype   string
			header  string
			blocked bool
		}{
			{"plain GET", http.MethodGet, "", "", true},
			{"GET with Apollo-Require-Preflight", http.MethodGet, "", "Apollo-Require-Preflight", false},
			{"GET with X-Apollo-Operation-Name", http.MethodGet, "", "X-Apollo-Operation-Name", false},
			{"form POST", http.MethodPost, "application/x-www-form-urlencoded", "", true},
			{"text/plain POST", http.MethodPost, "text/plain", "", true},
			{"JSON POST", http.MethodPost, "application/json", "", false},
		} {
			var body io.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader(`{"query":"{ calls(first: 1) { nodes { id } } }"}`)
			}
			req, _ := http.NewRequest(tc.method, gql.URL+q, body)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.header != "" {
				req.Header.Set(tc.header, "1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := strings.Contains(string(raw), "CSRF_PREVENTED"); got != tc.blocked {
				t.Fatalf("%s: blocked = %v, want %v (%d %s)", tc.name, got, tc.blocked, resp.StatusCode, raw)
			}
			if tc.blocked && resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: status %d", tc.name, resp.StatusCode)
			}
		}
	})

	t.Run("the inbound rate limit answers 429 with Retry-After", func(t *testing.T) {
		t.Parallel()
		gql := build(gateway.Config{RateLimitRPS: 1, RateLimitBurst: 2})
		var statuses []int
		var retryAfter string
		for range 3 {
			body := strings.NewReader(`{"query":"{ calls(first: 1) { nodes { id } } }"}`)
			resp, err := http.Post(gql.URL+"/query", "application/json", body)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses = append(statuses, resp.StatusCode)
			retryAfter = resp.Header.Get("Retry-After")
		}
		if !slices.Equal(statuses, []int{200, 200, 429}) || retryAfter == "" {
			t.Fatalf("statuses %v, Retry-After %q", statuses, retryAfter)
		}
	})
}

// FuzzQueryEndpoint posts arbitrary bodies to /query: a client's mistake is
// never a panic nor a 5xx.
func FuzzQueryEndpoint(f *testing.F) {
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	defer up.Close()
	client, _ := revox.New(up.URL, sandbox.DefaultAPIKey, revox.WithMaxRetries(0))
	h := gateway.New(gateway.Config{Upstream: client, Logger: quietLogger()})
	for _, seed := range []string{
		`{"query":"{ calls { nodes { id } } }"}`,
		`{"query":"{ calls(first: 3, after: \"YzE6MDow\") { edges { cursor } } }"}`,
		`{"query":"query($p: Int) { calls(page: $p) { nodes { id } } }","variables":{"p":"x"}}`,
		`{"query":"{ call(id: \"x\") { id } }"}`,
		`{"query":"{ calls(statuses: [OTHER]) { nodes { id } } }"}`,
		`{"query":"{"}`, `{}`, `[]`, `null`, `{"query": 5}`, "\xff\xfe", `{"query":"{ calls { nodes { transcript(first: -1) { content } } } }"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
		defer cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("response is not JSON for %q: %s", body, rec.Body.Bytes())
		}
	})
}

func postAccept(t *testing.T, base, query, accept string) (int, string, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header.Get("Content-Type")
}

// blockingUpstream holds every ListCalls until release is closed, telling
// entered about each one.
type blockingUpstream struct {
	entered chan struct{}
	release chan struct{}
	calls   atomic.Int64
}

func (u *blockingUpstream) ListCalls(ctx context.Context, _ revox.ListCallsOptions) ([]revox.CallAttempt, error) {
	u.calls.Add(1)
	u.entered <- struct{}{}
	select {
	case <-u.release:
		return []revox.CallAttempt{{ID: "att_1", Status: revox.AttemptCompleted}}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (u *blockingUpstream) GetCall(context.Context, string, revox.GetCallOptions) (*revox.CallOrder, error) {
	return nil, &revox.APIError{StatusCode: http.StatusNotFound, Method: http.MethodGet, Path: "/call/x", Message: "not found"}
}

func TestRequestsBeyondMaxInFlightAreRefusedAtOnce(t *testing.T) {
	t.Parallel()
	up := &blockingUpstream{entered: make(chan struct{}, 4), release: make(chan struct{})}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: up, Logger: quietLogger(), MaxInFlight: 2}))
	t.Cleanup(gql.Close)
	query := `{ calls(first: 1) { nodes { id } } }`

	var wg sync.WaitGroup
	held := make([]response, 2)
	for i := range held {
		wg.Go(func() { held[i] = post(t, gql.URL, query, nil) })
	}
	for range held {
		<-up.entered // both requests are being served
	}

	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, gql.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var refused response
	_ = json.Unmarshal(raw, &refused)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
		!slices.Equal(refused.codes(), []string{gateway.CodeOverloaded}) {
		t.Fatalf("third request: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
	if n := up.calls.Load(); n != 2 {
		t.Fatalf("%d upstream calls, want the 2 held ones only", n)
	}

	close(up.release)
	wg.Wait()
	for i, r := range held {
		if len(r.Errors) > 0 || r.status != http.StatusOK {
			t.Fatalf("held request %d: %d %s", i, r.status, r.raw)
		}
	}
	// The slots are free again.
	if r := post(t, gql.URL, query, nil); len(r.Errors) > 0 {
		t.Fatalf("after release: %s", r.raw)
	}
}
