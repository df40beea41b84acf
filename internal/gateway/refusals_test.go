package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// levelRecorder is a slog handler that keeps the level of every record.
type levelRecorder struct {
	mu     sync.Mutex
	levels []slog.Level
}

func (h *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *levelRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.levels = append(h.levels, r.Level)
	return nil
}
func (h *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *levelRecorder) WithGroup(string) slog.Handler      { return h }

func (h *levelRecorder) errors() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, l := range h.levels {
		if l >= slog.LevelError {
			n++
		}
	}
	return n
}

// sendRequest makes one request to the gateway and decodes its GraphQL body.
func sendRequest(t testing.TB, req *http.Request) (response, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
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
		t.Fatalf("response is not JSON (%d): %.300s", resp.StatusCode, raw)
	}
	r.status, r.raw = resp.StatusCode, raw
	return r, resp.Header
}

func hasData(raw []byte) bool {
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	_, ok := fields["data"]
	return ok
}

func TestMalformedRepresentationsAreTheClientsMistake(t *testing.T) {
	t.Parallel()
	logs := &levelRecorder{}
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: slog.New(logs)}))
	t.Cleanup(gql.Close)
	const q = `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`
	for _, tt := range []struct {
		name string
		reps any
	}{
		{"a number", []any{1}},
		{"a string", []any{"x"}},
		{"an id that is an object", []any{map[string]any{"__typename": "Call", "id": map[string]any{"a": 1}}}},
		{"an id that is a list", []any{map[string]any{"__typename": "Call", "id": []any{"x"}}}},
		{"a __typename that is a number", []any{map[string]any{"__typename": 5, "id": "x"}}},
		{"a good representation after a bad one", []any{map[string]any{"__typename": "Call", "id": "x"}, 1}},
	} {
		t.Run(tt.name+" is BAD_USER_INPUT", func(t *testing.T) {
			before, errorsBefore := sb.Requests(), logs.errors()
			r := post(t, gql.URL, q, map[string]any{"r": tt.reps})
			if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
				t.Fatalf("codes %v, want BAD_USER_INPUT: %s", r.codes(), r.raw)
			}
			if n := sb.Requests() - before; n != 0 {
				t.Fatalf("%d upstream requests", n)
			}
			if n := logs.errors() - errorsBefore; n != 0 {
				t.Fatalf("a client's mistake logged %d records at ERROR", n)
			}
		})
	}
}

func TestUndecodableGETParametersAreCodedRequestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct{ name, param, value string }{
		{"variables that are not JSON", "variables", "nope"},
		{"variables that are a list", "variables", "[1]"},
		{"extensions that are not JSON", "extensions", "{"},
		{"extensions that are a string", "extensions", `"x"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, accept := range []string{"application/json", "application/graphql-response+json"} {
				u := e.gql.URL + "/query?query=" + url.QueryEscape("{ __typename }") + "&" + tt.param + "=" + url.QueryEscape(tt.value)
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.Header.Set("Apollo-Require-Preflight", "true")
				req.Header.Set("Accept", accept)
				r, _ := sendRequest(t, req)
				if r.status != http.StatusBadRequest || !slices.Equal(r.codes(), []string{"BAD_REQUEST"}) || hasData(r.raw) {
					t.Fatalf("%s: status %d, codes %v, want 400 BAD_REQUEST without data: %s", accept, r.status, r.codes(), r.raw)
				}
			}
		})
	}
}

func TestAMalformedBodyIsQuotedByAShortPrefixOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"query": "` + strings.Repeat("x", 900<<10)
	req, _ := http.NewRequest(http.MethodPost, e.gql.URL+"/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r, _ := sendRequest(t, req)
	if r.status != http.StatusBadRequest || !slices.Equal(r.codes(), []string{"BAD_REQUEST"}) {
		t.Fatalf("status %d, codes %v", r.status, r.codes())
	}
	if len(r.raw) > 1024 {
		t.Fatalf("a malformed body of %d bytes came back in a response of %d bytes", len(body), len(r.raw))
	}
}

func TestPersistedQueryRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const query = "{ __typename }"
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	postAPQ := func(t *testing.T, body map[string]any) response {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, e.gql.URL+"/query", strings.NewReader(string(raw)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/graphql-response+json")
		r, _ := sendRequest(t, req)
		return r
	}
	for _, tt := range []struct {
		name string
		body map[string]any
	}{
		{"a hash that does not match its query", map[string]any{"query": query, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": strings.Repeat("0", 64)}}}},
		{"an unsupported version", map[string]any{"query": query, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": hash}}}},
	} {
		t.Run(tt.name+" is 400 BAD_REQUEST", func(t *testing.T) {
			t.Parallel()
			r := postAPQ(t, tt.body)
			if r.status != http.StatusBadRequest || !slices.Equal(r.codes(), []string{"BAD_REQUEST"}) || hasData(r.raw) {
				t.Fatalf("status %d, codes %v: %s", r.status, r.codes(), r.raw)
			}
		})
	}
	t.Run("a miss over GET may not be cached", func(t *testing.T) {
		t.Parallel()
		ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("a", 64) + `"}}`
		req, _ := http.NewRequest(http.MethodGet, e.gql.URL+"/query?extensions="+url.QueryEscape(ext), nil)
		req.Header.Set("Apollo-Require-Preflight", "true")
		r, h := sendRequest(t, req)
		if !slices.Equal(r.codes(), []string{"PERSISTED_QUERY_NOT_FOUND"}) {
			t.Fatalf("codes %v: %s", r.codes(), r.raw)
		}
		if got := h.Get("Cache-Control"); got != "private, no-cache, must-revalidate" {
			t.Fatalf("Cache-Control %q", got)
		}
	})
}
