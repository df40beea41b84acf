package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/inbound"
	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestWhoMaySubscribe(t *testing.T) {
	t.Parallel()
	tokens, err := inbound.ParseTokens(strings.NewReader(fmt.Sprintf("%s calls:read\n%s calls:write\n", sha256Hex("reader"), sha256Hex("writer"))))
	if err != nil {
		t.Fatal(err)
	}
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, func(c *gateway.Config) {
		c.Inbound = tokens
		c.CORSAllowedOrigins = []string{"https://app.example"}
	})
	id := e.sb.OrderIDs()[0]
	for _, tc := range []struct {
		name    string
		header  http.Header
		payload map[string]any
		refused bool   // the connection is refused
		code    string // the subscription's error code, "" for data
	}{
		{"a calls:read token in the upgrade's header reads", http.Header{"Authorization": {"Bearer reader"}}, nil, false, ""},
		{"a calls:read token in connection_init reads", nil, map[string]any{"Authorization": "Bearer reader"}, false, ""},
		{"a token without calls:read is forbidden", http.Header{"Authorization": {"Bearer writer"}}, nil, false, "FORBIDDEN"},
		{"no token is refused at connection_init", nil, nil, true, ""},
		{"an unknown token is refused at connection_init", nil, map[string]any{"Authorization": "Bearer stranger"}, true, ""},
		{"an allowed origin connects", http.Header{"Authorization": {"Bearer reader"}, "Origin": {"https://app.example"}}, nil, false, ""},
		{"another origin is refused", http.Header{"Authorization": {"Bearer reader"}, "Origin": {"https://evil.example"}}, nil, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := dialWS(t, e.gql.URL, tc.header, tc.payload)
			if tc.refused {
				if err == nil {
					t.Fatal("the connection was accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := firstCodes(t, next(t, c.subscribe(t, "1", callUpdated, map[string]any{"id": id}))); got != tc.code {
				t.Fatalf("codes %q, want %q", got, tc.code)
			}
		})
	}
}

func TestForwardAuthSubscriptionsReadWithTheCallersKey(t *testing.T) {
	t.Parallel()
	keys := []string{sandbox.DefaultAPIKey, "sk_sandbox_second_tenant"}
	tenants := sandbox.NewTenants(keys, sandbox.Options{})
	up := httptest.NewServer(tenants)
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	subs := &gateway.Subscriptions{Registry: live.NewMemory(live.MemoryOptions{Interval: time.Hour, Logger: quietLogger()})}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), AuthMode: gateway.AuthForward, Subscriptions: subs}))
	t.Cleanup(gql.Close)
	// An order the first tenant places.
	var got created
	in := map[string]any{"phoneNumber": "+14155550123", "assistant": map[string]any{"prompt": "Say hello"}}
	send(t, gql.URL, createCall, map[string]any{"input": in}, map[string]string{"Authorization": "Bearer " + keys[0]}).ok(t, &got)
	id := got.CreateCall.ID

	for _, tc := range []struct {
		name    string
		header  http.Header
		payload map[string]any
		refused bool
		code    string
	}{
		{"the owner's key in connection_init reads the order", nil, map[string]any{"Authorization": "Bearer " + keys[0]}, false, ""},
		{"the owner's key in the upgrade's header reads the order", http.Header{"Authorization": {"Bearer " + keys[0]}}, nil, false, ""},
		{"another tenant's key does not find it", nil, map[string]any{"Authorization": "Bearer " + keys[1]}, false, "NOT_FOUND"},
		{"no key is refused at connection_init", nil, nil, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := dialWS(t, gql.URL, tc.header, tc.payload)
			if tc.refused {
				if err == nil {
					t.Fatal("the connection was accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := firstCodes(t, next(t, c.subscribe(t, "1", callUpdated, map[string]any{"id": id}))); got != tc.code {
				t.Fatalf("codes %q, want %q", got, tc.code)
			}
		})
	}
}

// firstCodes are the error codes of a subscription's first message: a next
// event's, or those of an error message (an operation refused before it
// runs, as graphql-transport-ws has it); "" for data.
func firstCodes(t testing.TB, m wsMessage) string {
	t.Helper()
	var errs []gqlError
	switch m.Type {
	case "next":
		errs = event(t, m).Errors
	case "error":
		if err := json.Unmarshal(m.Payload, &errs); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("got %s, want next or error", m.Type)
	}
	codes := make([]string, len(errs))
	for i, e := range errs {
		codes[i], _ = e.Extensions["code"].(string)
	}
	return strings.Join(codes, ",")
}
