package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// inProcess is an http.RoundTripper that serves requests with a handler in
// the same process, without a network: inside a synctest bubble a hanging
// upstream is then durably blocked and timeouts run on the bubble's clock.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// serveInProcess answers one request with h, as a client would see it.
func serveInProcess(t *testing.T, h http.Handler, method, target, body string) (int, response) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r response
	if method == http.MethodPost {
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatalf("response is not JSON (%d): %s", rec.Code, rec.Body)
		}
	}
	r.status, r.raw = rec.Code, rec.Body.Bytes()
	return rec.Code, r
}

// The bounds of this test are the client's timeout and the breaker's open
// time, on synctest's clock: they hold on a loaded machine too.
func TestDownUpstreamFailsFastOpensTheBreakerAndRecovers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const timeout, openFor = 300 * time.Millisecond, 500 * time.Millisecond
		faults := sandbox.NewFaultInjector(sandbox.New(sandbox.Options{}), sandbox.Faults{Hang: 1}, 42)
		client, err := revox.New("http://upstream.test", sandbox.DefaultAPIKey,
			revox.WithHTTPClient(&http.Client{Transport: inProcess{faults}}),
			revox.WithTimeout(timeout), revox.WithMaxRetries(0), revox.WithBreaker(3, openFor))
		if err != nil {
			t.Fatal(err)
		}
		h := gateway.New(gateway.Config{Upstream: client, Readiness: client, Logger: quietLogger()})
		ask := func() (response, time.Duration) {
			start := time.Now()
			_, r := serveInProcess(t, h, http.MethodPost, "/query", `{"query":"{ calls(first: 1) { nodes { id } } }"}`)
			return r, time.Since(start)
		}
		for range 3 {
			r, took := ask()
			if !slices.Equal(r.codes(), []string{"UPSTREAM_UNAVAILABLE"}) || took != timeout {
				t.Fatalf("codes %v after %v; want UPSTREAM_UNAVAILABLE after the %v timeout", r.codes(), took, timeout)
			}
		}
		if !client.BreakerOpen() {
			t.Fatal("breaker closed after 3 timeouts")
		}
		before := faults.Requests()
		if r, took := ask(); !slices.Equal(r.codes(), []string{"UPSTREAM_UNAVAILABLE"}) || took != 0 {
			t.Fatalf("open breaker answered %v after %v; want UPSTREAM_UNAVAILABLE without waiting", r.codes(), took)
		}
		if faults.Requests() != before {
			t.Fatal("the open breaker still sent a request upstream")
		}
		if status, _ := serveInProcess(t, h, http.MethodGet, "/readyz", ""); status != http.StatusServiceUnavailable {
			t.Fatalf("/readyz = %d while the breaker is open", status)
		}
		if status, _ := serveInProcess(t, h, http.MethodGet, "/healthz", ""); status != http.StatusOK {
			t.Fatalf("/healthz = %d: liveness must not follow the upstream", status)
		}

		faults.Set(sandbox.Faults{})
		time.Sleep(openFor + time.Millisecond)
		if r, _ := ask(); len(r.Errors) > 0 {
			t.Fatalf("after recovery: %s", r.raw)
		}
		if client.BreakerOpen() {
			t.Fatal("breaker still open after a successful probe")
		}
		if status, _ := serveInProcess(t, h, http.MethodGet, "/readyz", ""); status != http.StatusOK {
			t.Fatalf("/readyz = %d once the upstream answers again", status)
		}
	})
}
