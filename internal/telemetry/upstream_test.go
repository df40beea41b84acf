package telemetry

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestObserverCountsUpstreamRequestsByStatusClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   string
	}{
		{200, "2xx"},
		{204, "2xx"},
		{304, "3xx"},
		{400, "4xx"},
		{401, "401"},
		{403, "403"},
		{404, "404"},
		{422, "4xx"},
		{429, "429"},
		{500, "5xx"},
		{503, "5xx"},
		{0, "error"},
		{999, "other"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+" is "+tt.want, func(t *testing.T) {
			t.Parallel()
			tel := New()
			tel.Observer().UpstreamRequest("get_call", tt.status, 40*time.Millisecond)
			u := tel.upstream
			if got := testutil.ToFloat64(u.requests.WithLabelValues("get_call", tt.want)); got != 1 {
				t.Errorf("revox_upstream_requests_total{status=%q} = %v, want 1", tt.want, got)
			}
			if n := testutil.CollectAndCount(u.requests); n != 1 {
				t.Errorf("%d series, want 1", n)
			}
			if n := histogramCount(t, tel, "revox_upstream_request_duration_seconds", "endpoint", "get_call"); n != 1 {
				t.Errorf("duration observations %d, want 1", n)
			}
		})
	}
}

func TestObserverBoundsEndpoints(t *testing.T) {
	t.Parallel()
	tel := New()
	o := tel.Observer()
	for i := range maxEndpointNames {
		o.UpstreamRequest("endpoint_"+strconv.Itoa(i), 200, time.Millisecond)
	}
	o.UpstreamRequest("one_too_many", 200, time.Millisecond)
	o.UpstreamRequest("Bearer sk_live_abc", 200, time.Millisecond) // not a name: never a label
	o.UpstreamRetry("another_one")

	u := tel.upstream
	if got := testutil.ToFloat64(u.requests.WithLabelValues("other", "2xx")); got != 2 {
		t.Errorf("other = %v, want 2", got)
	}
	if got := testutil.ToFloat64(u.retries.WithLabelValues("other")); got != 1 {
		t.Errorf("retries of other = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(u.requests); n != maxEndpointNames+1 {
		t.Errorf("%d series, want %d", n, maxEndpointNames+1)
	}
}

func TestObserverTracksTheBreaker(t *testing.T) {
	t.Parallel()
	tel := New()
	o, u := tel.Observer(), tel.upstream
	steps := []struct {
		state string
		gauge float64
	}{
		{"open", 2},
		{"half-open", 1},
		{"open", 2},
		{"half-open", 1},
		{"closed", 0},
		{"unknown state: 7", 0}, // keeps the last known value
	}
	for _, s := range steps {
		o.BreakerState(s.state)
		if got := testutil.ToFloat64(u.breaker); got != s.gauge {
			t.Errorf("after %q: gauge %v, want %v", s.state, got, s.gauge)
		}
	}
	for state, want := range map[string]float64{"open": 2, "half-open": 2, "closed": 1, "other": 1} {
		if got := testutil.ToFloat64(u.transitions.WithLabelValues(state)); got != want {
			t.Errorf("transitions to %s = %v, want %v", state, got, want)
		}
	}
}

// TestObserverWithTheRevoxClient wires the observer into the real client,
// as server.go does, against the sandbox upstream behind a 503 on the first
// request: one retry, a 5xx and a 2xx.
func TestObserverWithTheRevoxClient(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	sb := sandbox.New(sandbox.Options{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, `{"message":"busy"}`, http.StatusServiceUnavailable)
			return
		}
		sb.ServeHTTP(w, r)
	}))
	defer upstream.Close()

	tel := New()
	client, err := revox.New(upstream.URL, sandbox.DefaultAPIKey,
		revox.WithObserver(tel.Observer()),
		revox.WithHTTPClient(&http.Client{Transport: tel.Transport(upstream.Client().Transport)}),
		revox.WithBackoff(time.Millisecond, time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListCalls(t.Context(), revox.ListCallsOptions{PageSize: 5}); err != nil {
		t.Fatal(err)
	}

	u := tel.upstream
	for status, want := range map[string]float64{"5xx": 1, "2xx": 1} {
		if got := testutil.ToFloat64(u.requests.WithLabelValues("list_calls", status)); got != want {
			t.Errorf("list_calls %s = %v, want %v", status, got, want)
		}
	}
	if got := testutil.ToFloat64(u.retries.WithLabelValues("list_calls")); got != 1 {
		t.Errorf("retries = %v, want 1", got)
	}
	if n := histogramCount(t, tel, "revox_upstream_request_duration_seconds", "endpoint", "list_calls"); n != 2 {
		t.Errorf("duration observations %d, want 2", n)
	}
}
