package sandbox

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/revox-graphql/gateway/internal/revox"
)

// The generated dataset is encoded once and never changes; cancelling one of
// its orders that is still in flight is recorded in an overlay instead: the
// order re-encoded as cancelled, and its attempts with their new bytes and
// filter bit. Reads consult the overlay only once it is non-empty, so the
// hot path of an untouched sandbox stays as it was.

// generatedOverlay holds the cancelled generated orders; guarded by
// writeState.mu.
type generatedOverlay struct {
	orders   map[string]*order   // by order id: the cancelled re-encoding
	attempts map[string]*attempt // by attempt id: the re-encoded attempts
}

// cancellable reports whether a generated order in status s is still in
// flight: one that has finished (or is post-processing its last call) is
// answered 409 like a finished placed order.
func cancellable(s revox.OrderStatus) bool {
	switch s {
	case revox.OrderCompleted, revox.OrderCancelled, revox.OrderErrored, revox.OrderPostProcessing:
		return false
	}
	return true
}

// cancelGenerated records the cancellation of o and returns the order as it
// then is; live attempts end at the dataset's "now" (baseTime), since
// its timeline is frozen there whatever the sandbox clock says. ws.mu must be
// held for writing.
func (ws *writeState) cancelGenerated(o *order, now time.Time) *order {
	var v struct {
		Call orderJSON `json:"call"`
	}
	var attempts []attemptJSON
	if json.Unmarshal(o.body, &v) != nil || json.Unmarshal(v.Call.CallAttempts, &attempts) != nil {
		panic("sandbox: the generated order " + o.id + " does not decode")
	}
	w := &v.Call
	w.Status = string(revox.OrderCancelled)
	w.IsCancelled, w.IsCompleted = true, false
	w.NextCallAt = jsonNull
	w.Outcome = ptr("none")
	bit := statusBit(revox.OrderCancelled)
	patched := &order{id: o.id, status: revox.OrderCancelled, created: o.created, attempts: make([]*attempt, len(o.attempts))}
	list := []byte("[")
	for i, a := range attempts {
		switch a.Status {
		case string(revox.AttemptQueued), string(revox.AttemptRinging), string(revox.AttemptOngoing), "transferring":
			// The platform drops the dial or hangs up: the attempt ends now.
			a.Status = string(revox.AttemptCompleted)
			a.EndedAt = stamp(now)
			a.EndedBy = ptr(string(revox.EndedBySystem))
		}
		p := &attempt{id: a.ID, started: o.attempts[i].started, bit: bit, json: marshal(a)}
		patched.attempts[i] = p
		ws.overlay.attempts[p.id] = p
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, p.json...)
	}
	w.CallAttempts = append(list, ']')
	if len(patched.attempts) > 0 {
		w.LastCallAttempt = patched.attempts[0].json
	}
	patched.body = marshal(v)
	patched.length = []string{strconv.Itoa(len(patched.body))}
	ws.overlay.orders[o.id] = patched
	ws.overlaid.Store(int64(len(ws.overlay.orders)))
	return patched
}

// generatedAttempts calls yield with the dataset's attempts as the overlay
// makes them, in list order, those matching mask only (0: all). ws.mu must
// be held for reading.
func (s *Server) generatedAttempts(mask uint8, yield func(*attempt)) {
	for _, a := range s.attempts {
		if p := s.writes.overlay.attempts[a.id]; p != nil {
			a = p
		}
		if mask == 0 || a.bit&mask != 0 {
			yield(a)
		}
	}
}
