package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// The operation limits remember their verdict per document; what a
// remembered verdict must never do is answer for another operation of the
// document, or for a gateway with other limits.
func TestRememberedVerdictsFollowTheOperationAndTheLimits(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(up.Close)
	gatewayWith := func(maxCost int) string {
		client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		gw := httptest.NewServer(gateway.New(gateway.Config{
			Upstream: client, Logger: quietLogger(), Operation: gateway.OperationLimits{MaxCost: maxCost},
		}))
		t.Cleanup(gw.Close)
		return gw.URL
	}
	named := func(t *testing.T, base, query, operation string) response {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "operationName": operation})
		req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		r, _ := sendRequest(t, req)
		return r
	}

	t.Run("each operation of one document gets its own verdict", func(t *testing.T) {
		base := gatewayWith(0)
		var dear strings.Builder
		for i := range 15 {
			fmt.Fprintf(&dear, " a%d: calls(first: 100) { nodes { id transcript { role content toolName toolArguments } } }", i)
		}
		query := "query Cheap { calls(first: 1) { nodes { id } } } query Dear {" + dear.String() + " }"
		for _, tc := range []struct{ operation, code string }{
			{"Dear", "QUERY_TOO_COMPLEX"}, {"Cheap", ""}, {"Dear", "QUERY_TOO_COMPLEX"}, {"Cheap", ""},
		} {
			if got := strings.Join(named(t, base, query, tc.operation).codes(), ","); got != tc.code {
				t.Fatalf("operation %s: codes %q, want %q", tc.operation, got, tc.code)
			}
		}
	})
	t.Run("gateways with other limits judge the same query apart", func(t *testing.T) {
		strict, lenient := gatewayWith(50), gatewayWith(0)
		query := `{ calls(first: 100) { nodes { id } } }`
		for range 2 {
			if got := strings.Join(post(t, strict, query, nil).codes(), ","); got != "QUERY_TOO_COMPLEX" {
				t.Fatalf("strict gateway: codes %q, want QUERY_TOO_COMPLEX", got)
			}
			if got := post(t, lenient, query, nil).codes(); len(got) != 0 {
				t.Fatalf("lenient gateway: codes %q, want none", got)
			}
		}
	})
}
