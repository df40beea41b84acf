package load

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	t.Parallel()
	sorted := make([]time.Duration, 100)
	for i := range sorted {
		sorted[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.50, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(sorted, tc.p); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v, want 0", got)
	}
}

func TestRunRefusesNonLoopbackTargets(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://example.com/", "http://10.0.0.1:8080/", "http://localhost:8080/"} {
		if _, err := Run(t.Context(), Config{URL: u, Concurrency: 1, Requests: 1, Duration: time.Second}); err == nil {
			t.Errorf("Run(%s) sent load; want an error", u)
		}
	}
}

func TestRunStopsAtTheRequestCountAndCountsRejectedBodies(t *testing.T) {
	t.Parallel()
	var served int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served++ // one client: no concurrent access
		if served%2 == 0 {
			_, _ = w.Write([]byte(`{"errors":[]}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":{}}`))
	}))
	defer srv.Close()
	res, err := Run(t.Context(), Config{URL: srv.URL, Concurrency: 1, Requests: 6, Duration: time.Minute, Reject: []byte(`"errors"`)})
	if err != nil {
		t.Fatal(err)
	}
	if served != 6 || res.Requests != 3 || res.Errors != 3 || res.FirstError == "" {
		t.Errorf("served %d, result %+v; want 6 served, 3 successes, 3 rejected", served, res)
	}
}
