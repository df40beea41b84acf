package sandbox

// The write path: POST /call places an order, POST /call/{id}/cancel cancels
// one. Each Server (so each tenant of Tenants) keeps its own placed orders.
//
// Contract (where the API documentation is silent, the choice is the
// sandbox's and is pinned by writes_test.go):
//
//	POST /call                 200 {"call": CallOrder}, the order as placed
//	                           400 {"message", "field"} invalid body (field
//	                               names the first bad one, e.g. "phone_number",
//	                               "metadata.age", "concurrency.max")
//	                           413 {"message"} body over MaxWriteBody
//	                           429 {"message"} + Retry-After when the tenant
//	                               has MaxPlacedOrders orders still in flight
//	POST /call/{id}/cancel     200 {"call": CallOrder}, the order as cancelled
//	                           404 {"message"} unknown id
//	                           409 {"message", "status"} already cancelled or
//	                               over (completed, errored, post_processing);
//	                               status is the order's status.
//
// Generated orders still in flight (scheduled, queued, calling, paused, ...)
// can be cancelled too: see overlay.go.
//
// A placed order lives on the sandbox clock: scheduled until scheduled_at,
// then queued_for_calling (attempt queued), calling (attempt ringing, then
// ongoing with a transcript that grows turn by turn), then completed. Its
// attempt heads GET /call (newest placed first) and filters by the order's
// status like the dataset's. Orders sharing a concurrency key stay queued
// while max calls of that key are on the line. Calling windows are not
// simulated: skip_calling_window is validated and has no effect.

import (
	"cmp"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxPlacedOrders is the cap on placed orders per tenant.
const DefaultMaxPlacedOrders = 500

// placedStream is the PCG stream of placed ids, apart from the dataset's.
const placedStream uint64 = 0x706c61636564 // "placed"

// WriteStats counts the write path of one Server since New.
type WriteStats struct {
	// CreateRequests counts POST /call requests that passed the key check,
	// whatever their answer. OrdersCreated counts the orders they placed.
	CreateRequests, OrdersCreated int64
	// CancelRequests counts POST /call/{id}/cancel requests; OrdersCancelled
	// the orders they cancelled.
	CancelRequests, OrdersCancelled int64
}

// writeState is the mutable part of a Server.
type writeState struct {
	now        func() time.Time
	scale      float64
	max        int
	seed       uint64
	assistants map[string]*business
	catalogue  []*business // the same, in the dataset's order

	// placed is len(orders), readable without the lock so that GET paths
	// stay lock-free until the first order is placed.
	placed atomic.Int64

	// overlaid is len(overlay.orders), for the same reason.
	overlaid atomic.Int64

	mu      sync.RWMutex
	overlay generatedOverlay
	orders  []*placedOrder // oldest placed first
	byID    map[string]*placedOrder
	ids     *rand.Rand
	seq     uint64
	faults  []WriteFault

	createRequests, ordersCreated, cancelRequests, ordersCancelled atomic.Int64
}

func (ws *writeState) init(seed uint64, opts Options) {
	ws.now = opts.Now
	if ws.now == nil {
		ws.now = time.Now
	}
	ws.scale = opts.TimeScale
	if ws.scale <= 0 {
		ws.scale = 1
	}
	ws.max = opts.MaxPlacedOrders
	if ws.max <= 0 {
		ws.max = DefaultMaxPlacedOrders
	}
	ws.seed = seed
	// The dataset's generator draws the assistant ids first, so a fresh one
	// with the same seed yields the same assistants.
	ws.assistants = make(map[string]*business)
	ws.catalogue = newGenerator(seed).businesses
	for _, b := range ws.catalogue {
		ws.assistants[b.id] = b
	}
	ws.byID = make(map[string]*placedOrder)
	ws.overlay = generatedOverlay{orders: make(map[string]*order), attempts: make(map[string]*attempt)}
	ws.ids = rand.New(rand.NewPCG(seed, placedStream))
}

// AssistantIDs returns the ids POST /call accepts as assistant_id: the
// assistants of the dataset, sorted.
func (s *Server) AssistantIDs() []string {
	ids := make([]string, 0, len(s.writes.assistants))
	for id := range s.writes.assistants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// PlacedOrderIDs returns the ids of the orders placed with POST /call and
// still held, newest first.
func (s *Server) PlacedOrderIDs() []string {
	ws := &s.writes
	ws.mu.RLock()
	defer ws.mu.RUnlock()
	ids := make([]string, len(ws.orders))
	for i, o := range ws.orders {
		ids[len(ids)-1-i] = o.id
	}
	return ids
}

// WriteStats returns the write counters.
func (s *Server) WriteStats() WriteStats {
	ws := &s.writes
	return WriteStats{
		CreateRequests:  ws.createRequests.Load(),
		OrdersCreated:   ws.ordersCreated.Load(),
		CancelRequests:  ws.cancelRequests.Load(),
		OrdersCancelled: ws.ordersCancelled.Load(),
	}
}

// WriteStats sums the write counters of every tenant.
func (t *Tenants) WriteStats() WriteStats {
	var sum WriteStats
	for _, s := range t.byKey {
		w := s.WriteStats()
		sum.CreateRequests += w.CreateRequests
		sum.OrdersCreated += w.OrdersCreated
		sum.CancelRequests += w.CancelRequests
		sum.OrdersCancelled += w.OrdersCancelled
	}
	return sum
}

func (s *Server) createCall(w http.ResponseWriter, r *http.Request) {
	ws := &s.writes
	ws.createRequests.Add(1)
	fault, faulty := ws.nextFault()
	if rateLimited(w, r, fault, faulty) {
		return
	}
	req, ferr := parseCreate(w, r)
	if ferr == nil && req.assistantID != "" && ws.assistants[req.assistantID] == nil {
		ferr = badField("assistant_id", "no assistant "+strconv.Quote(req.assistantID)+" in this account")
	}
	if ferr != nil {
		answer(w, r, fault, faulty, func() { writeFieldError(w, r, ferr) })
		return
	}
	o, st, full := ws.place(req)
	if full {
		answer(w, r, fault, faulty, func() {
			w.Header().Set("Retry-After", "60")
			writeError(w, r, http.StatusTooManyRequests, "too many call orders in flight: "+strconv.Itoa(ws.max)+" placed orders are still running")
		})
		return
	}
	ws.ordersCreated.Add(1)
	answer(w, r, fault, faulty, func() { writeJSON(w, r, http.StatusOK, o.orderBody(st)) })
}

// place records a new order, evicting the oldest finished one at the cap.
// full reports that every held order is still in flight.
func (ws *writeState) place(req *createRequest) (o *placedOrder, st placedState, full bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	now := ws.now()
	if len(ws.orders) >= ws.max && !ws.evictOne(now) {
		return nil, st, true
	}
	ws.seq++
	o = &placedOrder{seq: ws.seq, phone: req.phone, metadata: req.metadata, scheduledAt: req.scheduledAt, createdAt: now}
	for o.id == "" || ws.byID[o.id] != nil {
		o.id = placedUUID(ws.ids)
	}
	o.attemptID = placedUUID(ws.ids)
	biz := ws.assistants[req.assistantID]
	if biz == nil {
		// An inline assistant: the dialogue borrows a dataset business,
		// chosen by the prompt so that one prompt always sounds the same.
		h := fnv.New64a()
		_, _ = h.Write(req.inlineAssistant["prompt"])
		b := *ws.catalogue[h.Sum64()%uint64(len(ws.catalogue))]
		b.id, b.assistant = placedUUID(ws.ids), "Inline assistant"
		biz = &b
	}
	o.assistant = assistantJSON{ID: biz.id, Name: biz.assistant, BackgroundSound: biz.sound}
	rng := rand.New(rand.NewPCG(ws.seed^ws.seq, placedStream))
	o.from = req.from
	if o.from == "" {
		c := countryOf(req.phone)
		o.from = c.trunks[rng.IntN(len(c.trunks))]
	}
	g := newGenerator(ws.seed ^ ws.seq<<32)
	o.concurrency = req.concurrencyKey
	o.plan(g, callee(rng, o.phone, o.from, biz, req.promptVariables, req.metadata), ws.scale, ws.slot(req.concurrencyKey, req.concurrencyMax))
	ws.orders = append(ws.orders, o)
	ws.byID[o.id] = o
	ws.placed.Store(int64(len(ws.orders)))
	return o, o.state(now), false
}

// slot returns the planner of a concurrency key: an order waits, queued,
// until fewer than limit orders of its key are on the line for its whole call.
// Lines are reserved when an order is placed; a later cancellation frees its
// line for orders placed after it, not for those already waiting. ws.mu
// must be held.
func (ws *writeState) slot(key string, limit int64) func(time.Time, time.Duration) time.Time {
	if key == "" {
		return nil
	}
	var busy []span
	for _, o := range ws.orders {
		if o.concurrency != key {
			continue
		}
		s := span{o.ringAt, o.endAt}
		if !o.cancelledAt.IsZero() && o.cancelledAt.Before(s.to) {
			s.to = o.cancelledAt
		}
		if s.to.After(s.from) {
			busy = append(busy, s)
		}
	}
	return func(earliest time.Time, length time.Duration) time.Time {
		// The earliest fit starts at earliest or when a line frees up.
		candidates := []time.Time{earliest}
		for _, b := range busy {
			if b.to.After(earliest) {
				candidates = append(candidates, b.to)
			}
		}
		slices.SortFunc(candidates, time.Time.Compare)
		for _, at := range candidates {
			if overlap(busy, span{at, at.Add(length)}) < limit {
				return at
			}
		}
		return candidates[len(candidates)-1] // every line is free after the last end
	}
}

// span is a time range [from, to).
type span struct{ from, to time.Time }

// overlap returns the largest number of busy spans in progress at once
// during s: the count can only rise at s.from or where a busy span starts.
func overlap(busy []span, s span) int64 {
	var most int64
	at := func(t time.Time) {
		var n int64
		for _, b := range busy {
			if !t.Before(b.from) && t.Before(b.to) {
				n++
			}
		}
		most = max(most, n)
	}
	at(s.from)
	for _, b := range busy {
		if b.from.After(s.from) && b.from.Before(s.to) {
			at(b.from)
		}
	}
	return most
}

// evictOne drops the oldest order that is over (completed or cancelled).
func (ws *writeState) evictOne(now time.Time) bool {
	for i, o := range ws.orders {
		if st := o.state(now); st.cancelled || st.phase == phaseEnded {
			delete(ws.byID, o.id)
			ws.orders = slices.Delete(ws.orders, i, i+1)
			return true
		}
	}
	return false
}

func (s *Server) cancelCall(w http.ResponseWriter, r *http.Request, id string) {
	ws := &s.writes
	ws.cancelRequests.Add(1)
	fault, faulty := ws.nextFault()
	if rateLimited(w, r, fault, faulty) {
		return
	}
	if o, ok := s.byID[id]; ok {
		ws.mu.Lock()
		current, done := o, (*order)(nil)
		if p := ws.overlay.orders[id]; p != nil {
			current = p
		} else if cancellable(o.status) {
			done = ws.cancelGenerated(o, baseTime)
		}
		ws.mu.Unlock()
		if done == nil {
			answer(w, r, fault, faulty, func() {
				writeConflict(w, r, string(current.status), "call order cannot be cancelled: it is already "+string(current.status))
			})
			return
		}
		ws.ordersCancelled.Add(1)
		answer(w, r, fault, faulty, func() { writeJSON(w, r, http.StatusOK, done.body) })
		return
	}
	ws.mu.Lock()
	o := ws.byID[id]
	var st placedState
	cancelled := false
	if o != nil {
		now := ws.now()
		st = o.state(now)
		if !st.cancelled && st.phase != phaseEnded {
			o.cancelledAt = now
			st = o.state(now)
			cancelled = true
		}
	}
	ws.mu.Unlock()
	switch {
	case o == nil:
		answer(w, r, fault, faulty, func() { writeError(w, r, http.StatusNotFound, "call not found: "+strconv.Quote(id)) })
	case !cancelled:
		answer(w, r, fault, faulty, func() {
			writeConflict(w, r, string(st.status), "call order cannot be cancelled: it is already "+string(st.status))
		})
	default:
		ws.ordersCancelled.Add(1)
		answer(w, r, fault, faulty, func() { writeJSON(w, r, http.StatusOK, o.orderBody(st)) })
	}
}

// cancelledGenerated returns the overlay of a cancelled generated order, nil
// when it was not cancelled.
func (s *Server) cancelledGenerated(id string) *order {
	ws := &s.writes
	ws.mu.RLock()
	defer ws.mu.RUnlock()
	return ws.overlay.orders[id]
}

// getPlaced answers GET /call/{id} for a placed order; false if id is not one.
func (s *Server) getPlaced(w http.ResponseWriter, r *http.Request, id string) bool {
	ws := &s.writes
	ws.mu.RLock()
	o := ws.byID[id]
	var body []byte
	if o != nil {
		body = o.orderBody(o.state(ws.now()))
	}
	ws.mu.RUnlock()
	if o == nil {
		return false
	}
	writeJSON(w, r, http.StatusOK, body)
	return true
}

// listWithPlaced serves GET /call once orders were placed or cancelled:
// placed attempts first, newest start first, then the dataset's as the
// overlay makes them.
func (s *Server) listWithPlaced(w http.ResponseWriter, r *http.Request, q listQuery, view *pageView) {
	ws := &s.writes
	ws.mu.RLock()
	now := ws.now()
	type item struct {
		o  *placedOrder
		st placedState
	}
	var items []item
	for _, o := range ws.orders {
		st := o.state(now)
		if st.hasAttempt() && (q.mask == 0 || statusBit(st.status)&q.mask != 0) {
			items = append(items, item{o, st})
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := b.o.startAt.Compare(a.o.startAt); c != 0 {
			return c
		}
		return cmp.Compare(b.o.seq, a.o.seq)
	})
	var generated []*attempt
	if ws.overlaid.Load() > 0 {
		s.generatedAttempts(q.mask, func(a *attempt) { generated = append(generated, a) })
	}
	p, n := len(items), len(view.bounds)-1
	if generated != nil {
		n = len(generated)
	}
	idx, size := q.page-s.firstPage, q.pageSize
	// The answer is written piece by piece: the dataset's part is a slice of
	// its pre-encoded view, never copied.
	pieces := [][]byte{listPrefix}
	add := func(b []byte) {
		if len(pieces) > 1 {
			pieces = append(pieces, comma)
		}
		pieces = append(pieces, b)
	}
	if idx <= (p+n)/size {
		from := idx * size
		to := min(from+size, p+n)
		for i := from; i < min(to, p); i++ {
			add(items[i].o.attemptJSON(items[i].st))
		}
		if a, b := max(from, p)-p, to-p; b > a {
			if generated == nil {
				add(view.data[view.bounds[a] : view.bounds[b]-1])
			} else {
				for _, g := range generated[a:b] {
					add(g.json)
				}
			}
		}
	}
	ws.mu.RUnlock()
	pieces = append(pieces, listSuffix)
	length := 0
	for _, b := range pieces {
		length += len(b)
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(length)}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	for _, b := range pieces {
		_, _ = w.Write(b)
	}
}

var comma = []byte(",")

func writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func writeFieldError(w http.ResponseWriter, r *http.Request, e *fieldError) {
	v := struct {
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	}{e.msg, e.field}
	writeJSON(w, r, e.status, marshal(v))
}

func writeConflict(w http.ResponseWriter, r *http.Request, status, msg string) {
	v := struct {
		Message string `json:"message"`
		Status  string `json:"status"`
	}{msg, status}
	writeJSON(w, r, http.StatusConflict, marshal(v))
}
