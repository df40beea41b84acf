package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
)

// StatsPath is where the handler returned by StatsHandler answers with the
// request counter.
const StatsPath = "/_sandbox/stats"

// StatsHandler returns s with one more route: GET StatsPath answers
// {"requests": N, ...}: the value of Requests and the write counters of
// WriteStats (create_requests, orders_created, cancel_requests,
// orders_cancelled). It lets a load test that runs the
// sandbox as its own process count the upstream requests a gateway makes.
// Reading the counter needs the same Bearer key as the API and is not
// counted itself; every other request goes to s unchanged.
func (s *Server) StatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != StatsPath {
			s.ServeHTTP(w, r)
			return
		}
		if !s.authorized(r.Header.Get("Authorization")) {
			w.Header()["Www-Authenticate"] = bearerChallenge
			writeError(w, r, http.StatusUnauthorized, "missing or invalid API key: send Authorization: Bearer <key>")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header()["Allow"] = allowGetHead
			writeError(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+StatsPath)
			return
		}
		ws := s.WriteStats()
		body := fmt.Appendf(nil, `{"requests":%d,"create_requests":%d,"orders_created":%d,"cancel_requests":%d,"orders_cancelled":%d}`,
			s.Requests(), ws.CreateRequests, ws.OrdersCreated, ws.CancelRequests, ws.OrdersCancelled)
		h := w.Header()
		h["Content-Type"] = jsonContentType
		h["Cache-Control"] = []string{"no-store"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}
