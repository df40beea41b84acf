package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
)

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
