package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
)

// slowUpstream is an upstream of n attempts and of call orders by any id
// that answers every request after latency: under testing/synctest the
// time a query takes, divided by latency, is the number of upstream round
// trips it waited for one after the other.
type slowUpstream struct {
	n       int
	latency time.Duration
}

func (u slowUpstream) ListCalls(ctx context.Context, opts revox.ListCallsOptions) ([]revox.CallAttempt, error) {
	time.Sleep(u.latency)
	var page []revox.CallAttempt
	for i := opts.Page * opts.PageSize; i < min((opts.Page+1)*opts.PageSize, u.n); i++ {
		page = append(page, revox.CallAttempt{ID: fmt.Sprintf("a%d", i), Status: revox.AttemptCompleted, Transcript: revox.NewTranscript(nil)})
	}
	return page, nil
}

func (u slowUpstream) GetCall(ctx context.Context, id string, _ revox.GetCallOptions) (*revox.CallOrder, error) {
	time.Sleep(u.latency)
	return &revox.CallOrder{ID: id}, nil
}

func TestQueryShapesRoundTripsInSequence(t *testing.T) {
	t.Parallel()
	const latency = 100 * time.Millisecond
	f, _ := paging.NewFilter(nil)
	for _, tc := range []struct {
		name  string
		query string
		// rounds of the first query of a gateway and of the same asked again.
		first, again int
	}{
		{"page: 3, pageSize: 20", `{ calls(page: 3, pageSize: 20) { nodes { id } } }`, 1, 1},
		{"page: 3, pageSize: 20 with hasNextPage", `{ calls(page: 3, pageSize: 20) { nodes { id } pageInfo { hasNextPage } } }`, 1, 1},
		{"first: 20", `{ calls(first: 20) { nodes { id } pageInfo { hasNextPage endCursor } } }`, 1, 1},
		{"a window crossing two upstream pages", fmt.Sprintf(`{ calls(first: 20, after: %q) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }`, paging.EncodeCursor(89, f)), 1, 1},
		{"three call(id:) aliases", `{ a: call(id: "x") { id } b: call(id: "y") { id } c: call(id: "z") { id } }`, 1, 1},
		{"last: 20 before a cursor", fmt.Sprintf(`{ calls(last: 20, before: %q) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }`, paging.EncodeCursor(500, f)), 1, 1},
		{"first: 20 past the end with hasPreviousPage", fmt.Sprintf(`{ calls(first: 20, after: %q) { nodes { id } pageInfo { hasPreviousPage } } }`, paging.EncodeCursor(5000, f)), 2, 2},
		// The end of a list nobody asked about for a minute is searched for
		// (4 round trips for 1,010 attempts); then it is remembered.
		{"last: 20 at the end of the list", `{ calls(last: 20) { nodes { id } pageInfo { hasPreviousPage } } }`, 4, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				gw := gateway.New(gateway.Config{Upstream: slowUpstream{n: 1010, latency: latency}, Logger: quietLogger()})
				ask := func() time.Duration {
					body, _ := json.Marshal(map[string]string{"query": tc.query})
					req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					start := time.Now()
					gw.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
						t.Fatalf("%d %s", rec.Code, rec.Body)
					}
					return time.Since(start)
				}
				for i, want := range []int{tc.first, tc.again} {
					if got := ask(); got != time.Duration(want)*latency {
						t.Fatalf("query %d took %v: %v round trips, want %d", i+1, got, float64(got)/float64(latency), want)
					}
				}
			})
		})
	}
}
