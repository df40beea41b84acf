package sandbox

import (
	"net/http"
	"strconv"
)

// StatsPath is where the handler returned by StatsHandler answers with the
// request counter.
const StatsPath = "/_sandbox/stats"

// StatsHandler returns s with one more route: GET StatsPath answers
// {"requests": N}, the value of Requests. It lets a load test that runs the
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
		body := []byte(`{"requests":` + strconv.FormatInt(s.Requests(), 10) + `}`)
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
