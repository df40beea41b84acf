// Package sandbox is an embedded, Revox-compatible upstream for the call
// resource: GET /call and GET /call/{id} over a deterministic, generated
// dataset, and POST /call and POST /call/{id}/cancel, whose orders come alive
// on the sandbox's clock (see writes.go). It lets the gateway run, be tested end to end and be load-tested
// without a Revox account, and it serves the awkward parts of the real API on
// purpose (timestamps in several forms, enum values the documentation does not
// list, unknown fields) so that clients are exercised against them.
//
// Every response body is built from JSON encoded once in New, so the handler
// does almost no work per request and can serve as the baseline of load
// benchmarks.
package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultAPIKey is the Bearer key the sandbox accepts when Options.APIKeys is
// empty. It has the "sk_" shape of real Revox keys so that key-handling code
// sees a realistic value.
const DefaultAPIKey = "sk_sandbox_demo"

// DefaultOrders is the number of call orders generated when Options.Orders is 0.
const DefaultOrders = 240

// MaxPageSize is the largest page_size GET /call accepts. The documentation
// allows up to 2^53-1; the sandbox refuses more so that a typo in a load test
// cannot make it build a huge response.
const MaxPageSize = 1000

// Options configures a Server. The zero value is a usable sandbox.
type Options struct {
	// APIKeys are the accepted Bearer keys; empty means []string{DefaultAPIKey}.
	APIKeys []string
	// FirstPage is the index of the first page of GET /call, the same value the
	// client is given with revox.WithFirstPage: the documentation says both
	// "starting at 0" and "minimum 1", so both must be testable. Default 0.
	FirstPage int
	// Orders is the number of call orders to generate; 0 means DefaultOrders.
	Orders int
	// Seed selects the dataset; 0 means a fixed default. The same seed always
	// produces a byte-identical dataset.
	Seed uint64
	// Now is the clock of orders placed with POST /call; nil means time.Now.
	Now func() time.Time
	// TimeScale speeds up the life of placed orders (queueing, ringing, each
	// turn of the conversation): 1 or 0 is real time, 60 makes a minute pass
	// in a second. Timestamps stay on the clock; only durations shrink. The
	// server reads it from SANDBOX_TIME_SCALE.
	TimeScale float64
	// MaxPlacedOrders caps the orders POST /call keeps; 0 means
	// DefaultMaxPlacedOrders. See writes.go for what happens at the cap.
	MaxPlacedOrders int
}

// Server is the sandbox upstream. It implements http.Handler and is safe for
// concurrent use. Its generated dataset never changes after New; orders
// placed with POST /call and cancellations live beside it (writes.go).
type Server struct {
	keys      [][]byte
	firstPage int

	orders   []*order   // newest first
	attempts []*attempt // list order: newest start first
	byID     map[string]*order
	all      *pageView // every attempt, newest first
	filters  [filterMasks]atomic.Pointer[pageView]

	requests atomic.Int64

	writes writeState
}

// New generates the dataset described by opts and returns a Server for it.
func New(opts Options) *Server {
	keys := opts.APIKeys
	if len(keys) == 0 {
		keys = []string{DefaultAPIKey}
	}
	n := opts.Orders
	if n <= 0 {
		n = DefaultOrders
	}
	seed := opts.Seed
	if seed == 0 {
		seed = defaultSeed
	}
	s := &Server{firstPage: opts.FirstPage}
	s.writes.init(seed, opts)
	for _, k := range keys {
		s.keys = append(s.keys, []byte(k))
	}
	s.orders, s.attempts = generate(seed, n)
	if seed == defaultSeed {
		nameDemoOrders(s.orders)
	}
	s.byID = make(map[string]*order, len(s.orders))
	for _, o := range s.orders {
		s.byID[o.id] = o
	}
	s.all = buildView(s.attempts, 0)
	s.filters[0].Store(s.all)
	return s
}

// Requests returns the number of requests received since New or the last
// ResetRequests, including those answered with an error: tests use it to
// prove that a gateway batches or caches upstream calls.
func (s *Server) Requests() int64 { return s.requests.Load() }

// ResetRequests sets the request counter back to zero, so that one server can
// be shared by steps that each assert their own number of upstream calls.
func (s *Server) ResetRequests() { s.requests.Store(0) }

// OrderIDs returns the ids of every call order, newest order first. GET /call
// items carry no order id, so tests and demos need this to reach GET /call/{id}.
func (s *Server) OrderIDs() []string {
	ids := make([]string, len(s.orders))
	for i, o := range s.orders {
		ids[i] = o.id
	}
	return ids
}

// Attempts returns the number of call attempts in the dataset, i.e. the number
// of items GET /call lists without a filter.
func (s *Server) Attempts() int { return len(s.all.bounds) - 1 }

// BaseTime returns the instant the dataset treats as "now": every attempt
// starts before it, and only next_call_at and scheduled_at of pending orders
// lie after it. It is fixed so that the dataset never depends on the clock.
func (s *Server) BaseTime() time.Time { return baseTime }

// Shared header values: assigning a package-level slice avoids one allocation
// per response, and net/http only reads it.
var (
	jsonContentType = []string{"application/json"}
	allowGetHead    = []string{"GET, HEAD"}
	allowList       = []string{"GET, HEAD, POST"}
	allowPost       = []string{"POST"}
	bearerChallenge = []string{`Bearer realm="revox-sandbox"`}
)

// ServeHTTP answers GET /call, GET /call/{id}, POST /call and
// POST /call/{id}/cancel. The key is checked before
// the route so that an unauthenticated caller learns nothing about which
// paths exist, as production APIs usually do.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if !s.authorized(r.Header.Get("Authorization")) {
		w.Header()["Www-Authenticate"] = bearerChallenge
		writeError(w, r, http.StatusUnauthorized, "missing or invalid API key: send Authorization: Bearer <key>")
		return
	}
	path := r.URL.Path
	var id string
	allow := allowList
	switch {
	case path == "/call":
	case strings.HasPrefix(path, "/call/"):
		id = path[len("/call/"):]
		allow = allowGetHead
		if cancelled, ok := strings.CutSuffix(id, "/cancel"); ok && cancelled != "" && strings.IndexByte(cancelled, '/') < 0 {
			if r.Method == http.MethodPost {
				s.cancelCall(w, r, cancelled)
				return
			}
			w.Header()["Allow"] = allowPost
			writeError(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+path)
			return
		}
		if id == "" || strings.IndexByte(id, '/') >= 0 {
			writeError(w, r, http.StatusNotFound, "no route for "+path)
			return
		}
	default:
		writeError(w, r, http.StatusNotFound, "no route for "+path)
		return
	}
	if r.Method == http.MethodPost && id == "" {
		s.createCall(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header()["Allow"] = allow
		writeError(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+path)
		return
	}
	if id == "" {
		s.listCalls(w, r)
		return
	}
	s.getCall(w, r, id)
}

// authorized compares in constant time: the sandbox may be exposed on a
// network, and a timing oracle on the key would be an easy mistake to copy.
func (s *Server) authorized(header string) bool {
	const scheme = "bearer "
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return false
	}
	got := []byte(strings.TrimSpace(header[len(scheme):]))
	ok := 0
	for _, k := range s.keys {
		ok |= subtle.ConstantTimeCompare(got, k)
	}
	return ok == 1
}

// Fixed pieces of the GET /call body around the pre-encoded items.
var (
	listPrefix = []byte(`{"calls":[`)
	listSuffix = []byte(`]}`)
)

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	q, msg := parseListQuery(r.URL.RawQuery, s.firstPage)
	if msg != "" {
		writeError(w, r, http.StatusBadRequest, msg)
		return
	}
	view := s.view(q.mask)
	if s.writes.placed.Load() > 0 || s.writes.overlaid.Load() > 0 {
		s.listWithPlaced(w, r, q, view)
		return
	}
	items := view.page(q.page-s.firstPage, q.pageSize)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(listPrefix) + len(items) + len(listSuffix))}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(listPrefix)
	_, _ = w.Write(items)
	_, _ = w.Write(listSuffix)
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request, id string) {
	o, ok := s.byID[id]
	if !ok && s.writes.placed.Load() > 0 && s.getPlaced(w, r, id) {
		return
	}
	if ok && s.writes.overlaid.Load() > 0 {
		if p := s.cancelledGenerated(id); p != nil {
			o = p
		}
	}
	if !ok {
		writeError(w, r, http.StatusNotFound, "call not found: "+strconv.Quote(id))
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = o.length
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(o.body)
}

// view returns the attempts matching a status filter mask, building and
// caching the view on first use. Two goroutines may build the same view at
// once; both results are identical, so the race is harmless.
func (s *Server) view(mask uint8) *pageView {
	if v := s.filters[mask].Load(); v != nil {
		return v
	}
	v := buildView(s.attempts, mask)
	s.filters[mask].Store(v)
	return v
}

// writeError answers with the {"message": ...} body the official SDK reads
// its error text from.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
