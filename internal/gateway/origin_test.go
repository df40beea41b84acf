package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

// TestWebSocketOriginsAreCheckedByTheGateway: an upgrade from an origin
// CORS does not allow is a coded, counted 403 (it was a 400 "unable to
// upgrade" and a line of the standard logger); allowed origins, the
// gateway's own host and non-browser clients (no Origin) connect.
func TestWebSocketOriginsAreCheckedByTheGateway(t *testing.T) {
	t.Parallel()
	tel := telemetry.New()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, func(c *gateway.Config) {
		c.CORSAllowedOrigins = []string{"https://app.example", "https://*.preview.example"}
		c.Telemetry = tel
	})
	upgrade := func(t *testing.T, origin string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.gql.URL+"/query", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		req.Header.Set("Sec-WebSocket-Protocol", "graphql-transport-ws")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return resp.StatusCode, "" // the connection is the body now
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var out struct {
			Errors []struct {
				Extensions struct{ Code string }
			}
		}
		_ = json.Unmarshal(body, &out)
		code := ""
		if len(out.Errors) > 0 {
			code = out.Errors[0].Extensions.Code
		}
		return resp.StatusCode, code
	}
	for _, tc := range []struct {
		name, origin string
		status       int
		code         string
	}{
		{"a listed origin upgrades", "https://app.example", http.StatusSwitchingProtocols, ""},
		{"an origin matching a pattern upgrades", "https://pr-7.preview.example", http.StatusSwitchingProtocols, ""},
		{"no Origin (not a browser) upgrades", "", http.StatusSwitchingProtocols, ""},
		{"the gateway's own host upgrades", "http://" + e.gql.Listener.Addr().String(), http.StatusSwitchingProtocols, ""},
		{"another origin is a coded 403", "https://evil.example", http.StatusForbidden, gateway.CodeForbiddenOrigin},
		{"a listed host under another scheme is a coded 403", "http://app.example", http.StatusForbidden, gateway.CodeForbiddenOrigin},
		{"an origin that is no URL is a coded 403", "https://%zz", http.StatusForbidden, gateway.CodeForbiddenOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, code := upgrade(t, tc.origin); status != tc.status || code != tc.code {
				t.Fatalf("status %d code %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}
	if n := refused(t, tel, gateway.CodeForbiddenOrigin); n != 3 {
		t.Fatalf("http_requests_refused_total{code=FORBIDDEN_ORIGIN} = %v, want 3", n)
	}
}
