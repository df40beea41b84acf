package gateway

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"without trusted proxies the peer is the client, whatever the header says", "203.0.113.9:5000", []string{"198.51.100.1"}, nil, "203.0.113.9"},
		{"a peer that is not a trusted proxy is the client", "203.0.113.9:5000", []string{"198.51.100.1"}, trusted, "203.0.113.9"},
		{"behind a trusted proxy the address it saw is the client", "10.1.2.3:5000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"addresses a client put left of it are ignored", "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"a chain of trusted proxies is walked past", "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1", "10.9.9.9"}, trusted, "198.51.100.1"},
		{"a malformed entry stops at the last good address", "10.1.2.3:5000", []string{"198.51.100.1, bogus"}, trusted, "10.1.2.3"},
		{"a trusted proxy without the header is the client", "10.1.2.3:5000", nil, trusted, "10.1.2.3"},
		{"IPv6 proxies and IPv4-mapped clients", "[fd00::1]:5000", []string{"::ffff:198.51.100.7"}, trusted, "198.51.100.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/query", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tc.trusted); got != tc.want {
				t.Fatalf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRateLimitBehindATrustedProxy(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{
		Upstream:       client,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		RateLimitRPS:   0.001,
		RateLimitBurst: 1,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	send := func(forwardedFor string) int {
		r := httptest.NewRequest("POST", "/query", strings.NewReader(`{"query":"{ __typename }"}`))
		r.RemoteAddr = "10.0.0.2:40000"
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", forwardedFor)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if got := send("198.51.100.1"); got != 200 {
		t.Fatalf("first client's first request: %d", got)
	}
	if got := send("198.51.100.1"); got != 429 {
		t.Fatalf("first client's second request: %d, want 429", got)
	}
	if got := send("198.51.100.2"); got != 200 {
		t.Fatalf("another client behind the same proxy: %d, want its own budget", got)
	}
}
