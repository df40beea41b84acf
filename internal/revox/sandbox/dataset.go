package sandbox

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/revox-graphql/gateway/internal/revox"
)

// baseTime is the dataset's "now". It is fixed, never time.Now(), so that the
// same seed gives the same bytes on every run and machine.
var baseTime = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// defaultSeed is the dataset used when Options.Seed is 0.
const defaultSeed uint64 = 0x5eed_2026_1101

// pcgStream is the second PCG word; it is constant so that the seed alone
// selects the dataset.
const pcgStream uint64 = 0x7265766f78 // "revox"

// order is a generated call order with its response body ready to send.
type order struct {
	id       string
	status   revox.OrderStatus
	created  time.Time
	attempts []*attempt // newest first
	body     []byte     // {"call": ...}
	// length is the Content-Length header value, built once because it
	// would be the only allocation of serving an order.
	length []string
}

// attempt is a generated call attempt, encoded once and shared by the list
// and by its order.
type attempt struct {
	id      string
	started time.Time // the instant clients decode from started_at
	bit     uint8     // statusBit of the parent order
	json    []byte
}

// attemptKind is what happened on one dial.
type attemptKind uint8

const (
	kindHuman        attemptKind = iota // a person answered and talked to the agent
	kindVoicemail                       // voicemail answered, the agent left a message
	kindIVR                             // a phone menu answered, the agent could not navigate it
	kindScreening                       // iOS call screening answered, the callee declined
	kindRangOut                         // rang until timeout; the platform marks the result unknown
	kindNoAnswer                        // SIP no-answer, no result
	kindBusy                            // SIP busy
	kindUnavailable                     // SIP temporarily unavailable
	kindTooManyCalls                    // our side's concurrency limit refused the dial
	kindHardError                       // a dial error that ends the order
	kindQueued                          // waiting for a free line
	kindRinging                         // dialling right now
	kindOngoing                         // a person is talking to the agent right now

	// Values the documentation does not list, because the real API adds enum
	// members without notice. Each is given to exactly one attempt, the first
	// that fits, so any dataset of a few dozen orders holds all three.
	kindFax          // result "fax"
	kindCongestion   // dial_error "circuit_congestion"
	kindTransferring // status "transferring"
)

// choice is one weighted value of a picker.
type choice[T any] struct {
	v T
	w int
}

// picker draws weighted values, but returns each value once, in declaration
// order, before drawing at random. That guarantees every enum value appears
// as soon as a category has been drawn as many times as it has values,
// whatever the seed, without distorting the distribution afterwards.
type picker[T any] struct {
	choices []choice[T]
	total   int
	next    int
}

func newPicker[T any](choices ...choice[T]) *picker[T] {
	p := &picker[T]{choices: choices}
	for _, c := range choices {
		p.total += c.w
	}
	return p
}

func (p *picker[T]) pick(r *rand.Rand) T {
	if p.next < len(p.choices) {
		p.next++
		return p.choices[p.next-1].v
	}
	n := r.IntN(p.total)
	for _, c := range p.choices {
		if n < c.w {
			return c.v
		}
		n -= c.w
	}
	panic("sandbox: picker weights")
}

// generator holds the random source and the pickers of one dataset. Every
// draw goes through g.rng in program order, so the output depends on the
// seed only.
type generator struct {
	rng        *rand.Rand
	ids        map[string]bool
	businesses []*business

	statuses   *picker[revox.OrderStatus]
	countries  *picker[*country]
	retries    *picker[attemptKind]
	hardErrors *picker[string]
	live       *picker[attemptKind] // the newest attempt of a calling order
	humanEnds  *picker[humanEnd]
	llms       *picker[llmModelJSON]
	stampForms *picker[stampForm]
	unsetForms *picker[unsetForm]
	extras     *picker[bool] // unknown fields on an answered attempt
	omitKey    *picker[bool] // leave "transcript" out of an unanswered attempt
	stringArgs *picker[bool] // tool_arguments as a JSON-encoded string
	toolErrors *picker[bool] // a tool call fails and is retried
	floatCount *picker[bool] // calls_count as 2.0

	faxDone, congestionDone, transferringDone bool
}

func newGenerator(seed uint64) *generator {
	g := &generator{
		rng:        rand.New(rand.NewPCG(seed, pcgStream)),
		ids:        make(map[string]bool),
		businesses: newBusinesses(),
		statuses: newPicker(
			choice[revox.OrderStatus]{revox.OrderCompleted, 44},
			choice[revox.OrderStatus]{revox.OrderCalling, 7},
			choice[revox.OrderStatus]{revox.OrderScheduled, 9},
			choice[revox.OrderStatus]{revox.OrderQueuedForCalling, 6},
			choice[revox.OrderStatus]{revox.OrderCancelled, 9},
			choice[revox.OrderStatus]{revox.OrderErrored, 7},
			choice[revox.OrderStatus]{revox.OrderInitializing, 2},
			choice[revox.OrderStatus]{revox.OrderPostProcessing, 5},
			choice[revox.OrderStatus]{revox.OrderNotLaunched, 2},
			choice[revox.OrderStatus]{revox.OrderPaused, 5},
		),
		countries: newPicker(
			choice[*country]{countryUS, 30},
			choice[*country]{countryFR, 20},
			choice[*country]{countryGB, 15},
			choice[*country]{countryDE, 10},
			choice[*country]{countryCA, 7},
			choice[*country]{countryES, 7},
			choice[*country]{countryAU, 6},
			choice[*country]{countryBR, 5},
		),
		retries: newPicker(
			choice[attemptKind]{kindVoicemail, 30},
			choice[attemptKind]{kindNoAnswer, 22},
			choice[attemptKind]{kindBusy, 12},
			choice[attemptKind]{kindRangOut, 7},
			choice[attemptKind]{kindUnavailable, 8},
			choice[attemptKind]{kindTooManyCalls, 4},
			choice[attemptKind]{kindIVR, 9},
			choice[attemptKind]{kindScreening, 8},
		),
		hardErrors: newPicker(
			choice[string]{string(revox.DialNumberNonAttributed), 4},
			choice[string]{string(revox.DialNoInternationalPermit), 2},
			choice[string]{string(revox.DialPreconditionFailed), 2},
			choice[string]{string(revox.DialNonClassifiedError), 3},
		),
		live: newPicker(
			choice[attemptKind]{kindRinging, 45},
			choice[attemptKind]{kindOngoing, 55},
		),
		humanEnds: newPicker(
			choice[humanEnd]{endToolEndCall, 55},
			choice[humanEnd]{endTransfer, 8},
			choice[humanEnd]{endUser, 31},
			choice[humanEnd]{endSystem, 6},
		),
		llms: newPicker(
			choice[llmModelJSON]{llmModelJSON{Type: "dedicated-instance", Name: "gpt-4.1"}, 45},
			choice[llmModelJSON]{llmModelJSON{Type: "openrouter", OpenrouterModelID: "anthropic/claude-sonnet-4.5", OpenrouterProvider: "anthropic"}, 15},
			choice[llmModelJSON]{llmModelJSON{Type: "realtime", Provider: "openai", RealtimeModelID: "gpt-realtime", RealtimeVoiceID: "marin"}, 15},
			choice[llmModelJSON]{llmModelJSON{Type: "openrouter", OpenrouterModelID: "google/gemini-2.5-flash", OpenrouterProvider: "google-vertex"}, 10},
			choice[llmModelJSON]{llmModelJSON{Type: "dedicated-instance", Name: "ministral-3-8b-instruct"}, 8},
			choice[llmModelJSON]{llmModelJSON{Type: "realtime", Provider: "google", RealtimeModelID: "gemini-live-2.5-flash"}, 7},
		),
		stampForms: newPicker(
			choice[stampForm]{formRFC3339Millis, 70},
			choice[stampForm]{formOffset, 10},
			choice[stampForm]{formEpochMillis, 12},
			choice[stampForm]{formEpochSeconds, 8},
		),
		unsetForms: newPicker(
			choice[unsetForm]{unsetNull, 92},
			choice[unsetForm]{unsetEmptyObject, 8},
		),
		extras:     newPicker(choice[bool]{true, 1}, choice[bool]{false, 9}),
		omitKey:    newPicker(choice[bool]{true, 3}, choice[bool]{false, 7}),
		stringArgs: newPicker(choice[bool]{true, 1}, choice[bool]{false, 3}),
		toolErrors: newPicker(choice[bool]{true, 1}, choice[bool]{false, 6}),
		floatCount: newPicker(choice[bool]{true, 1}, choice[bool]{false, 3}),
	}
	for _, b := range g.businesses {
		b.id = g.uuid()
	}
	return g
}

// generate builds n orders and returns them newest first, each with its
// attempts encoded, plus every attempt in list order (newest start first).
func generate(seed uint64, n int) ([]*order, []*attempt) {
	g := newGenerator(seed)
	orders := make([]*order, n)
	for i := range orders {
		orders[i] = g.order()
	}
	slices.SortStableFunc(orders, func(a, b *order) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	var all []*attempt
	for _, o := range orders {
		all = append(all, o.attempts...)
	}
	slices.SortStableFunc(all, func(a, b *attempt) int {
		if c := b.started.Compare(a.started); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return orders, all
}

// uuid returns a fresh version-4 UUID drawn from the dataset's random source;
// the real API's ids are opaque strings, and UUIDs are the common choice.
func (g *generator) uuid() string {
	for {
		hi, lo := g.rng.Uint64(), g.rng.Uint64()
		hi = hi&^0xf000 | 0x4000
		lo = lo&^(0xc<<60) | 0x8<<60
		id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
		if !g.ids[id] {
			g.ids[id] = true
			return id
		}
	}
}

// between returns a random duration in [lo, hi] with millisecond resolution,
// the precision of the RFC 3339 form the sandbox emits.
func (g *generator) between(lo, hi time.Duration) time.Duration {
	span := int64((hi - lo) / time.Millisecond)
	return lo + time.Duration(g.rng.Int64N(span+1))*time.Millisecond
}

// stamp encodes a set timestamp in a randomly chosen form and returns the
// instant a client will read back.
func (g *generator) stamp(t time.Time) (time.Time, json.RawMessage) {
	return encodeStamp(t, g.stampForms.pick(g.rng))
}

func (g *generator) unset() json.RawMessage { return encodeUnset(g.unsetForms.pick(g.rng)) }

// orderCtx is what every attempt of one order shares.
type orderCtx struct {
	first, last string
	phone       string // the callee (or, inbound, the caller)
	trunk       string // the business number
	biz         *business
	reference   string // the business's own reference for the customer or parcel
	inbound     bool   // the callee rang the business back
}

// order generates one call order: its status first, then the attempts that
// status implies, then a timeline that ends at or before baseTime.
func (g *generator) order() *order {
	r := g.rng
	status := g.statuses.pick(r)
	c := g.countries.pick(r)
	biz := g.businesses[r.IntN(len(g.businesses))]
	o := &orderCtx{
		first: c.firstNames[r.IntN(len(c.firstNames))],
		last:  c.lastNames[r.IntN(len(c.lastNames))],
		phone: c.mobile(r),
		trunk: c.trunks[r.IntN(len(c.trunks))],
		biz:   biz,
	}
	switch biz.scenario {
	case scenarioDelivery:
		o.reference = fmt.Sprintf("%s-%06d", c.code, r.IntN(1_000_000))
	default:
		o.reference = fmt.Sprintf("C%05d", r.IntN(100_000))
	}
	inbound := (status == revox.OrderCompleted || status == revox.OrderCalling || status == revox.OrderPostProcessing) && r.IntN(100) < 15
	o.inbound = inbound
	retry, maxAttempts := g.retryConfig(c)
	kinds := g.plan(status, inbound, maxAttempts)

	w := orderJSON{
		ID:                   g.uuid(),
		Direction:            string(revox.DirectionOutbound),
		Status:               string(status),
		FromPhoneNumber:      o.trunk,
		ToPhoneNumber:        o.phone,
		IsCompleted:          status == revox.OrderCompleted,
		IsCancelled:          status == revox.OrderCancelled,
		FirstSentenceDelayMs: 400,
		CallRetryConfig:      retry,
		LlmModel:             g.llms.pick(r),
		Metadata:             g.metadata(o, c),
	}
	if inbound {
		w.Direction = string(revox.DirectionInbound)
		w.FromPhoneNumber, w.ToPhoneNumber = o.phone, o.trunk
	}
	if r.IntN(10) > 0 {
		w.Assistant = &assistantJSON{ID: biz.id, Name: biz.assistant, BackgroundSound: biz.sound}
	}

	// Timeline: the newest attempt's start depends on the status, earlier
	// attempts go back by a retry delay of hours to a day or so.
	// Outbound calls that are not live are kept within office hours on
	// weekdays, as calling windows would.
	starts := make([]time.Time, len(kinds))
	if len(kinds) > 0 {
		office := !inbound && liveSince(status) == 0
		last := len(kinds) - 1
		starts[last] = baseTime.Add(-g.lastStartAgo(status, kinds[last]))
		for i := last; i >= 0; i-- {
			if i < last {
				starts[i] = starts[i+1].Add(-g.between(2*time.Hour, 30*time.Hour))
			}
			if office {
				starts[i] = g.officeHours(starts[i], c.utcOffset)
			}
		}
	}

	var created time.Time
	var scheduled, next json.RawMessage
	switch {
	case len(kinds) == 0:
		created, scheduled, next = g.pendingTimes(status)
	// Gaps of at least a second keep created_at and scheduled_at before the
	// first start even when a form drops the start's milliseconds.
	case inbound:
		created = starts[0].Add(-g.between(time.Second, 3*time.Second))
	case r.IntN(100) < 30:
		at := starts[0].Add(-g.between(time.Second, 45*time.Second))
		created = at.Add(-g.between(20*time.Minute, 72*time.Hour))
		_, scheduled = g.stamp(at)
	default:
		created = starts[0].Add(-g.between(time.Second, 90*time.Second))
	}
	if next == nil {
		switch status {
		case revox.OrderScheduled:
			_, next = g.stamp(baseTime.Add(g.between(20*time.Minute, 48*time.Hour)))
		case revox.OrderQueuedForCalling:
			_, next = g.stamp(baseTime.Add(g.between(2*time.Second, 3*time.Minute)))
		default:
			next = g.unset()
		}
	}
	if scheduled == nil {
		scheduled = g.unset()
	}
	created, w.CreatedAt = g.stamp(created)
	w.NextCallAt, w.ScheduledAt = next, scheduled

	// Attempts are generated oldest first, like the calls they stand for,
	// and sent newest first.
	bit := statusBit(status)
	attempts := make([]*attempt, len(kinds))
	var outcome string
	for i, k := range kinds {
		a, oc := g.attempt(o, k, starts[i], status)
		a.bit = bit
		attempts[len(kinds)-1-i] = a
		if oc != "" {
			outcome = oc
		}
	}
	w.Outcome = g.outcome(status, outcome)
	count := strconv.Itoa(len(attempts))
	if g.floatCount.pick(r) {
		count += ".0"
	}
	w.CallsCount = json.RawMessage(count)
	w.LastCallAttempt = json.RawMessage("null")
	list := []byte("[")
	for i, a := range attempts {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, a.json...)
	}
	w.CallAttempts = append(list, ']')
	if len(attempts) > 0 {
		w.LastCallAttempt = attempts[0].json
	}
	body := marshal(struct {
		Call orderJSON `json:"call"`
	}{w})
	return &order{id: w.ID, status: status, created: created, attempts: attempts, body: body, length: []string{strconv.Itoa(len(body))}}
}

// Documented call orders of the default dataset, named in the README's
// examples. Their ids are fixed whatever the generator draws, so that the
// examples keep answering when the dataset changes; each goes to the newest
// order that fits its description.
const (
	// DemoOrderID is a completed order with at least two attempts whose
	// newest was a conversation with a person, with tool calls, one of
	// which failed.
	DemoOrderID = "d0b3be74-5fef-42eb-93bb-ddf116f79ba7"
	// DemoRetryOrderID is an order waiting for its next attempt (it has a
	// next_call_at) after an answered attempt with a transcript.
	DemoRetryOrderID = "5b2c8e1f-3a47-4d9e-b6c0-9f1e2d3a4b5c"
)

// nameDemoOrders gives the documented ids to the orders that fit them.
// Order ids appear only in the order's own body, and a new id has the
// length of the old one, so the body's Content-Length stays right.
func nameDemoOrders(orders []*order) {
	type turns struct {
		Transcript []struct {
			Role        string `json:"role"`
			ToolIsError bool   `json:"tool_is_error"`
		} `json:"transcript"`
	}
	roles := func(a *attempt) map[string]int {
		var t turns
		_ = json.Unmarshal(a.json, &t)
		n := map[string]int{}
		for _, turn := range t.Transcript {
			n[turn.Role]++
			if turn.ToolIsError {
				n["tool error"]++
			}
		}
		return n
	}
	fits := map[string]func(*order) bool{
		DemoOrderID: func(o *order) bool {
			if o.status != revox.OrderCompleted || len(o.attempts) < 2 {
				return false
			}
			r := roles(o.attempts[0])
			return r["user"] > 0 && r["tool error"] > 0
		},
		DemoRetryOrderID: func(o *order) bool {
			if o.status != revox.OrderScheduled || !bytes.Contains(o.body, []byte(`"next_call_at":`)) ||
				bytes.Contains(o.body, []byte(`"next_call_at":null`)) || bytes.Contains(o.body, []byte(`"next_call_at":{}`)) {
				return false
			}
			return slices.ContainsFunc(o.attempts, func(a *attempt) bool { return len(roles(a)) > 0 })
		},
	}
	for _, id := range []string{DemoOrderID, DemoRetryOrderID} {
		for _, o := range orders {
			if fits[id](o) && o.id != DemoOrderID && len(o.id) == len(id) {
				o.body = bytes.Replace(o.body, []byte(`"id":"`+o.id+`"`), []byte(`"id":"`+id+`"`), 1)
				o.id = id
				break
			}
		}
	}
}
