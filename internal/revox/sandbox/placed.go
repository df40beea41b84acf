package sandbox

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/revox-graphql/gateway/internal/revox"
)

// Nominal durations of a placed order's life, divided by Options.TimeScale.
const (
	queueFor    = 2 * time.Second         // queued_for_calling before the line is free
	ringFor     = 6 * time.Second         // ringing before the callee answers
	turnBase    = 1500 * time.Millisecond // every turn takes this long ...
	turnPerChar = 50 * time.Millisecond   // ... plus this per character said
	turnMax     = 12 * time.Second
	hangUpFor   = time.Second // from the last turn to the end of the call
)

// placedOrder is an order made with POST /call. Its whole future is decided
// when it is placed (the instants of every phase and the full conversation),
// so its state at any instant is a pure function of the clock and of
// cancelledAt: no goroutine or timer per order, and a read never mutates.
type placedOrder struct {
	id, attemptID string
	seq           uint64
	phone, from   string
	assistant     assistantJSON
	metadata      map[string]string
	scheduledAt   time.Time // zero when the request had none
	concurrency   string    // the concurrency key, "" for none

	createdAt time.Time
	startAt   time.Time // queued from here: max(createdAt, scheduledAt)
	ringAt    time.Time // dialling from here
	answerAt  time.Time // talking from here
	turnAt    []time.Time
	endAt     time.Time
	conv      conversation

	// cancelledAt is set once, under writeState.mu; zero means never.
	cancelledAt time.Time

	// Once an order is over its encodings never change: they are kept, so
	// that listing finished orders costs a copy rather than an encoding.
	finalAttempt, finalOrder atomic.Pointer[[]byte]
}

// phase is where a placed order stands at one instant.
type phase uint8

const (
	phaseScheduled phase = iota // waiting for scheduled_at: no attempt yet
	phaseQueued                 // order queued_for_calling, attempt queued
	phaseRinging                // order calling, attempt ringing
	phaseOngoing                // order calling, attempt ongoing, transcript growing
	phaseEnded                  // order completed, attempt completed
)

// placedState is a placed order as seen at one instant.
type placedState struct {
	phase     phase
	at        time.Time // the instant the phase is taken at: now, or the cancellation
	cancelled bool
	status    revox.OrderStatus
}

func (o *placedOrder) state(now time.Time) placedState {
	st := placedState{at: now}
	if !o.cancelledAt.IsZero() && !now.Before(o.cancelledAt) {
		st.at, st.cancelled = o.cancelledAt, true
	}
	switch t := st.at; {
	case t.Before(o.startAt):
		st.phase, st.status = phaseScheduled, revox.OrderScheduled
	case t.Before(o.ringAt):
		st.phase, st.status = phaseQueued, revox.OrderQueuedForCalling
	case t.Before(o.answerAt):
		st.phase, st.status = phaseRinging, revox.OrderCalling
	case t.Before(o.endAt):
		st.phase, st.status = phaseOngoing, revox.OrderCalling
	default:
		st.phase, st.status = phaseEnded, revox.OrderCompleted
	}
	if st.cancelled {
		st.status = revox.OrderCancelled
	}
	return st
}

// over reports whether nothing will change any more.
func (st placedState) over() bool { return st.cancelled || st.phase == phaseEnded }

// hasAttempt reports whether the order has dialled, or queued to, at st.
func (st placedState) hasAttempt() bool { return st.phase >= phaseQueued }

// plan fixes the order's timeline and conversation. scale > 0. slot, when
// not nil, moves the dialling to the earliest instant from earliest at which
// a line of the order's concurrency key is free for length.
func (o *placedOrder) plan(g *generator, oc *orderCtx, scale float64, slot func(earliest time.Time, length time.Duration) time.Time) {
	d := func(nominal time.Duration) time.Duration { return time.Duration(float64(nominal) / scale) }
	o.startAt = o.createdAt
	if o.scheduledAt.After(o.createdAt) {
		o.startAt = o.scheduledAt
	}
	o.conv = g.converse(oc, o.startAt, g.humanEnds.pick(g.rng))
	offsets := make([]time.Duration, len(o.conv.turns)) // from the answer
	var talk time.Duration
	for i, t := range o.conv.turns {
		talk += d(min(turnBase+time.Duration(len(t.Content))*turnPerChar, turnMax))
		offsets[i] = talk
	}
	o.ringAt = o.startAt.Add(d(queueFor))
	if slot != nil {
		o.ringAt = slot(o.ringAt, d(ringFor)+talk+d(hangUpFor))
	}
	o.answerAt = o.ringAt.Add(d(ringFor))
	o.turnAt = make([]time.Time, len(offsets))
	for i, off := range offsets {
		o.turnAt[i] = o.answerAt.Add(off)
	}
	o.endAt = o.answerAt.Add(talk + d(hangUpFor))
}

func stamp(t time.Time) json.RawMessage {
	_, raw := encodeStamp(t, formRFC3339Millis)
	return raw
}

var jsonNull = json.RawMessage("null")

// attemptJSON encodes the order's attempt at st; st.hasAttempt() must hold.
func (o *placedOrder) attemptJSON(st placedState) []byte {
	return cached(&o.finalAttempt, st, func() []byte { return o.encodeAttempt(st) })
}

// orderBody encodes {"call": order} at st.
func (o *placedOrder) orderBody(st placedState) []byte {
	return cached(&o.finalOrder, st, func() []byte { return o.encodeOrder(st) })
}

// cached returns encode(), kept in slot once st is over. Two readers may
// both encode; the results are identical.
func cached(slot *atomic.Pointer[[]byte], st placedState, encode func() []byte) []byte {
	if !st.over() {
		return encode()
	}
	if b := slot.Load(); b != nil {
		return *b
	}
	b := encode()
	slot.Store(&b)
	return b
}

func (o *placedOrder) encodeAttempt(st placedState) []byte {
	w := attemptJSON{
		ID:               o.attemptID,
		PhoneNumber:      o.phone,
		Status:           string(revox.AttemptQueued),
		StartedAt:        jsonNull,
		AnsweredAt:       jsonNull,
		EndedAt:          jsonNull,
		StructuredOutput: jsonNull,
		Transcript:       jsonNull,
	}
	if st.phase >= phaseRinging {
		w.StartedAt = stamp(o.ringAt)
		w.Status = string(revox.AttemptRinging)
		w.Transcript = nil // the key is left out while ringing, as in the dataset
	}
	if st.phase >= phaseOngoing {
		w.Status = string(revox.AttemptOngoing)
		w.AnsweredAt = stamp(o.answerAt)
		w.Result = ptr(string(revox.ResultHuman))
		n := 0
		for n < len(o.turnAt) && !st.at.Before(o.turnAt[n]) {
			n++
		}
		w.Transcript = marshal(o.conv.turns[:n])
	}
	switch {
	case st.phase == phaseEnded:
		w.Status = string(revox.AttemptCompleted)
		w.EndedAt = stamp(o.endAt)
		w.RecordingURL = ptr("https://recordings.revox-sandbox.invalid/" + o.attemptID + ".mp3")
		if o.conv.structured != nil {
			w.StructuredOutput = marshal(o.conv.structured)
		}
		w.EndedBy, w.EndReason = ptr(o.conv.endedBy), o.conv.endReason
	case st.cancelled:
		// The platform hangs up (or drops the queued dial) when the order is
		// cancelled: the attempt ends there, what was said is kept.
		w.Status = string(revox.AttemptCompleted)
		w.EndedAt = stamp(st.at)
		w.EndedBy = ptr(string(revox.EndedBySystem))
		if st.phase == phaseOngoing {
			w.RecordingURL = ptr("https://recordings.revox-sandbox.invalid/" + o.attemptID + ".mp3")
		}
	}
	return marshal(w)
}

func (o *placedOrder) encodeOrder(st placedState) []byte {
	w := orderJSON{
		ID:                   o.id,
		Direction:            string(revox.DirectionOutbound),
		Status:               string(st.status),
		FromPhoneNumber:      o.from,
		ToPhoneNumber:        o.phone,
		IsCompleted:          st.status == revox.OrderCompleted,
		IsCancelled:          st.cancelled,
		CallsCount:           json.RawMessage("0"),
		NextCallAt:           jsonNull,
		ScheduledAt:          jsonNull,
		CreatedAt:            stamp(o.createdAt),
		FirstSentenceDelayMs: 400,
		Metadata:             o.metadata,
		CallRetryConfig: &retryConfigJSON{
			CallingWindows:   []callingWindowJSON{{StartTime: "10:00", EndTime: "18:00", RetryDelaySeconds: 7200}},
			MaxRetryAttempts: 3,
		},
		LlmModel:        llmModelJSON{Type: "dedicated-instance", Name: "gpt-4.1"},
		Assistant:       &o.assistant,
		LastCallAttempt: jsonNull,
		CallAttempts:    json.RawMessage("[]"),
	}
	if !o.scheduledAt.IsZero() {
		w.ScheduledAt = stamp(o.scheduledAt)
	}
	switch {
	case st.cancelled:
		w.Outcome = ptr("none")
	case st.phase == phaseScheduled:
		w.NextCallAt = stamp(o.startAt)
	case st.phase == phaseQueued:
		w.NextCallAt = stamp(o.ringAt)
	case st.phase == phaseEnded:
		w.Outcome = ptr(o.conv.outcome)
	}
	if st.hasAttempt() {
		a := o.attemptJSON(st)
		w.CallsCount = json.RawMessage("1")
		w.LastCallAttempt = a
		w.CallAttempts = append(append([]byte("["), a...), ']')
	}
	return marshal(struct {
		Call orderJSON `json:"call"`
	}{w})
}

// callee returns the context the dialogue generator needs: the callee's name
// comes from the request's variables when it has one, else from the
// dataset's names for the number's country.
func callee(r *rand.Rand, phone, from string, biz *business, vars ...map[string]string) *orderCtx {
	c := countryOf(phone)
	oc := &orderCtx{
		first: c.firstNames[r.IntN(len(c.firstNames))],
		last:  c.lastNames[r.IntN(len(c.lastNames))],
		phone: phone,
		trunk: from,
		biz:   biz,
	}
	oc.reference = "C" + strconv.Itoa(10000+r.IntN(90000))
	for _, m := range vars {
		for _, k := range []string{"first_name", "name", "customer_name"} {
			if v := strings.TrimSpace(m[k]); v != "" {
				first, last, _ := strings.Cut(v, " ")
				oc.first = first
				if last != "" {
					oc.last = last
				}
				return oc
			}
		}
	}
	return oc
}

// countryOf picks the dataset country of a number by its calling code, the
// US for codes the dataset does not use.
func countryOf(phone string) *country {
	for _, c := range []struct {
		prefix string
		c      *country
	}{{"+33", countryFR}, {"+44", countryGB}, {"+49", countryDE}, {"+34", countryES}, {"+61", countryAU}, {"+55", countryBR}} {
		if strings.HasPrefix(phone, c.prefix) {
			return c.c
		}
	}
	return countryUS
}

// placedUUID returns a version-4 UUID from r.
func placedUUID(r *rand.Rand) string {
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	const hex = "0123456789abcdef"
	var b [36]byte
	n := 0
	for _, v := range [2]uint64{hi, lo} {
		for shift := 60; shift >= 0; shift -= 4 {
			if n == 8 || n == 13 || n == 18 || n == 23 {
				b[n] = '-'
				n++
			}
			b[n] = hex[v>>uint(shift)&0xf]
			n++
		}
	}
	return string(b[:])
}
