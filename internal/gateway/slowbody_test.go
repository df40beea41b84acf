package gateway_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

// startSlowBody opens a raw connection that sends a POST's headers and the
// first bytes of a body it never finishes.
func startSlowBody(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	const body = `{"query":"{ calls { nodes { id } } }"}`
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:5])
	return conn
}

// inFlight reads the gauge of requests being served.
func inFlight(t *testing.T, tel *telemetry.Telemetry) float64 {
	t.Helper()
	families, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "http_requests_in_flight" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no http_requests_in_flight gauge")
	return 0
}

func slowBodyGateway(t *testing.T, cfg gateway.Config) (*httptest.Server, *telemetry.Telemetry) {
	t.Helper()
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	tel := telemetry.New()
	cfg.Upstream, cfg.Telemetry, cfg.Logger = client, tel, quietLogger()
	gql := httptest.NewServer(gateway.New(cfg))
	t.Cleanup(gql.Close)
	return gql, tel
}

func TestSlowBodiesTakeNoExecutionSlot(t *testing.T) {
	t.Parallel()
	const slots = 2
	gql, tel := slowBodyGateway(t, gateway.Config{MaxInFlight: slots, BodyReadTimeout: time.Minute})
	for range slots + 2 {
		startSlowBody(t, gql.Listener.Addr().String())
	}
	// Wait until the slow requests are in the handler: holding slots if
	// slots are taken before the body is read.
	for inFlight(t, tel) < slots {
		time.Sleep(5 * time.Millisecond)
	}
	r := post(t, gql.URL, `{ calls(first: 1) { nodes { id } } }`, nil)
	if r.status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("with %d slow bodies pending, a real request got %d: %s", slots+2, r.status, r.raw)
	}
}

func TestABodyTooSlowIsRefusedWith408(t *testing.T) {
	t.Parallel()
	gql, _ := slowBodyGateway(t, gateway.Config{BodyReadTimeout: 100 * time.Millisecond})
	conn := startSlowBody(t, gql.Listener.Addr().String())
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // a hang guard, not a bound
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Errors []gqlError `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, e := range body.Errors {
		codes = append(codes, fmt.Sprint(e.Extensions["code"]))
	}
	if resp.StatusCode != http.StatusRequestTimeout || !slices.Equal(codes, []string{"REQUEST_BODY_TIMEOUT"}) {
		t.Fatalf("status %d, codes %v; want 408 REQUEST_BODY_TIMEOUT", resp.StatusCode, codes)
	}
}
