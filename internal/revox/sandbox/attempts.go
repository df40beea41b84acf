package sandbox

import (
	"encoding/json"
	"time"

	"github.com/revox-graphql/gateway/internal/revox"
)

// plan returns the kinds of an order's attempts, oldest first, consistent
// with its status: finished orders end on an answered call or a final error,
// live ones on a queued, ringing or ongoing attempt, pending ones on a failed
// attempt awaiting its retry. Orders that never dialled have none.
func (g *generator) plan(status revox.OrderStatus, inbound bool, maxAttempts int) []attemptKind {
	r := g.rng
	retries := func(n int) []attemptKind {
		ks := make([]attemptKind, n, n+1)
		for i := range ks {
			ks[i] = g.retries.pick(r)
		}
		return ks
	}
	// count is 1, 2 or 3 attempts in a 50/32/18 mix, within the retry limit.
	count := func() int {
		n := 1
		switch x := r.IntN(100); {
		case x >= 82:
			n = 3
		case x >= 50:
			n = 2
		}
		return min(n, maxAttempts)
	}
	switch status {
	case revox.OrderCompleted:
		if inbound {
			return []attemptKind{kindHuman}
		}
		var ks []attemptKind
		if maxAttempts <= 3 && r.IntN(100) < 20 {
			ks = retries(maxAttempts) // retries exhausted without reaching anyone
		} else {
			ks = append(retries(count()-1), kindHuman)
		}
		if !g.faxDone && len(ks) >= 2 {
			g.faxDone = true
			ks[0] = kindFax
		}
		return ks
	case revox.OrderCalling:
		if inbound {
			return []attemptKind{kindOngoing}
		}
		live := g.live.pick(r)
		if !g.transferringDone && live == kindOngoing {
			g.transferringDone = true
			live = kindTransferring
		}
		return append(retries(count()-1), live)
	case revox.OrderPostProcessing:
		if inbound {
			return []attemptKind{kindHuman}
		}
		return append(retries(count()-1), kindHuman)
	case revox.OrderQueuedForCalling:
		return append(retries(r.IntN(min(3, maxAttempts))), kindQueued)
	case revox.OrderInitializing:
		if r.IntN(100) < 40 {
			return nil
		}
		return []attemptKind{kindQueued}
	case revox.OrderScheduled:
		if r.IntN(100) < 10 {
			return nil
		}
		ks := retries(1 + r.IntN(max(1, min(2, maxAttempts-1))))
		if !g.congestionDone {
			g.congestionDone = true
			ks[len(ks)-1] = kindCongestion
		}
		return ks
	case revox.OrderPaused, revox.OrderCancelled:
		return retries(1 + r.IntN(2))
	case revox.OrderErrored:
		n := 0
		if r.IntN(4) == 0 && maxAttempts > 1 {
			n = 1
		}
		return append(retries(n), kindHardError)
	default: // not_launched: never dialled
		return nil
	}
}

// liveSince is the latest an order in this status dialled, as a duration
// before baseTime, or 0 for statuses whose attempts can be anywhere in the
// past: live orders must keep their attempts near "now".
func liveSince(status revox.OrderStatus) time.Duration {
	switch status {
	case revox.OrderCalling, revox.OrderPostProcessing, revox.OrderQueuedForCalling, revox.OrderInitializing:
		return 10 * time.Minute
	}
	return 0
}

// officeHours moves t earlier, when needed, to a weekday between 09:00 and
// 19:00 at the given UTC offset. It only ever moves back in time, so an
// attempt that started before baseTime still does.
func (g *generator) officeHours(t time.Time, utcOffset int) time.Time {
	loc := time.FixedZone("", utcOffset*3600)
	l := t.In(loc)
	weekend := l.Weekday() == time.Saturday || l.Weekday() == time.Sunday
	if h := l.Hour(); h >= 9 && h < 19 && !weekend {
		return t
	}
	day := l
	if l.Hour() < 9 {
		day = day.AddDate(0, 0, -1)
	}
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, -1)
	}
	opening := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, loc)
	return opening.Add(g.between(0, 10*time.Hour-time.Millisecond)).UTC()
}

// lastStartAgo is how long before baseTime the newest attempt started.
func (g *generator) lastStartAgo(status revox.OrderStatus, k attemptKind) time.Duration {
	switch status {
	case revox.OrderCalling:
		if k == kindRinging {
			return g.between(3*time.Second, 35*time.Second)
		}
		return g.between(45*time.Second, 7*time.Minute)
	case revox.OrderPostProcessing:
		// The longest dialogue lasts under four minutes, so it has ended.
		return g.between(5*time.Minute, 9*time.Minute)
	case revox.OrderQueuedForCalling:
		return g.between(2*time.Second, 3*time.Minute)
	case revox.OrderInitializing:
		return g.between(time.Second, 50*time.Second)
	case revox.OrderScheduled:
		return g.between(40*time.Minute, 48*time.Hour)
	case revox.OrderPaused:
		return g.between(3*time.Hour, 9*24*time.Hour)
	default:
		return g.between(25*time.Minute, 58*24*time.Hour)
	}
}

// pendingTimes returns created_at, scheduled_at and next_call_at of an order
// that has not dialled yet.
func (g *generator) pendingTimes(status revox.OrderStatus) (time.Time, json.RawMessage, json.RawMessage) {
	switch status {
	case revox.OrderScheduled:
		_, at := g.stamp(baseTime.Add(g.between(time.Hour, 72*time.Hour)))
		return baseTime.Add(-g.between(time.Hour, 6*24*time.Hour)), at, at
	case revox.OrderInitializing:
		return baseTime.Add(-g.between(time.Second, 40*time.Second)), g.unset(), g.unset()
	default: // not_launched
		created := baseTime.Add(-g.between(24*time.Hour, 45*24*time.Hour))
		if g.rng.IntN(2) == 0 {
			return created, g.unset(), g.unset()
		}
		_, at := g.stamp(created.Add(g.between(time.Hour, 48*time.Hour)))
		return created, at, g.unset()
	}
}

// outcome is null while an order is still in flight, "none" when it ended
// without anyone reached, else what the last conversation led to.
func (g *generator) outcome(status revox.OrderStatus, fromCall string) *string {
	switch status {
	case revox.OrderCompleted, revox.OrderCancelled, revox.OrderErrored:
		if fromCall == "" {
			return ptr("none")
		}
		return ptr(fromCall)
	default:
		// In flight, or post_processing, whose job is to compute it.
		return nil
	}
}

// retryConfig returns the order's call_retry_config and the number of
// attempts it allows (3, the documented default, when the config is null).
func (g *generator) retryConfig(c *country) (*retryConfigJSON, int) {
	r := g.rng
	if r.IntN(100) < 12 {
		return nil, 3
	}
	rc := &retryConfigJSON{MaxRetryAttempts: 3}
	switch x := r.IntN(100); {
	case x < 15:
		rc.MaxRetryAttempts = 2
	case x >= 88:
		rc.MaxRetryAttempts = 5
	}
	switch x := r.IntN(100); {
	case x < 68:
		rc.CallingWindows = []callingWindowJSON{{StartTime: "10:00", EndTime: "18:00", RetryDelaySeconds: 7200}}
	case x < 85:
		// The "H:mma" form the documentation also allows.
		rc.CallingWindows = []callingWindowJSON{
			{StartTime: "9:00am", EndTime: "12:00pm", RetryDelaySeconds: 3600},
			{StartTime: "2:00pm", EndTime: "6:30pm", RetryDelaySeconds: 5400},
		}
	}
	if r.IntN(100) < 60 {
		rc.Timezone = ptr(c.timezones[r.IntN(len(c.timezones))])
	}
	if r.IntN(100) < 40 {
		rc.AllowedDays = []string{"monday", "tuesday", "wednesday", "thursday", "friday"}
	}
	if r.IntN(100) < 30 {
		rc.CallTwiceInARow = ptr(r.IntN(4) == 0)
	}
	return rc, rc.MaxRetryAttempts
}

func (g *generator) metadata(o *orderCtx, c *country) map[string]string {
	r := g.rng
	if r.IntN(100) < 20 {
		return nil
	}
	m := map[string]string{
		"customer_name": o.first + " " + o.last,
		"country":       c.code,
	}
	switch o.biz.scenario {
	case scenarioDelivery:
		m["order_number"] = o.reference
	default:
		m["crm_id"] = o.reference
	}
	if r.IntN(2) == 0 {
		m["campaign"] = oneOf(r, "autumn-recall-2026", "q4-retention", "november-followups", "onboarding")
	}
	return m
}

// attempt generates and encodes one attempt of kind k started at start. It
// returns the order outcome the attempt's conversation led to, if any.
func (g *generator) attempt(o *orderCtx, k attemptKind, start time.Time, status revox.OrderStatus) (*attempt, string) {
	r := g.rng
	w := attemptJSON{
		ID:               g.uuid(),
		PhoneNumber:      o.phone,
		Status:           string(revox.AttemptCompleted),
		AnsweredAt:       g.unset(),
		EndedAt:          g.unset(),
		StructuredOutput: json.RawMessage("null"),
	}
	started, raw := g.stamp(start)
	w.StartedAt = raw
	// answer and end set answered_at and ended_at d after the previous
	// instant clients see, so that started < answered < ended holds after
	// forms that drop the milliseconds.
	last := started
	answer := func(d time.Duration) {
		last, w.AnsweredAt = g.stamp(last.Add(d))
	}
	end := func(d time.Duration) {
		last, w.EndedAt = g.stamp(last.Add(d))
	}
	recording := func() {
		w.RecordingURL = ptr("https://recordings.revox-sandbox.invalid/" + w.ID + ".mp3")
	}
	transcript := func(turns []turnJSON) { w.Transcript = marshal(turns) }
	unanswered := func(dialError string) {
		w.DialError = ptr(dialError)
		if !g.omitKey.pick(r) {
			w.Transcript = json.RawMessage("null")
		}
	}
	var outcome string

	switch k {
	case kindHuman:
		ending := g.humanEnds.pick(r)
		c := g.converse(o, start, ending)
		w.Result = ptr(string(revox.ResultHuman))
		answer(g.between(4*time.Second, 25*time.Second))
		talk := time.Duration(0)
		for range c.turns {
			talk += g.between(5*time.Second, 14*time.Second)
		}
		end(talk)
		recording()
		transcript(c.turns)
		if c.structured != nil && status != revox.OrderPostProcessing {
			w.StructuredOutput = marshal(c.structured)
		}
		w.EndedBy, w.EndReason = ptr(c.endedBy), c.endReason
		outcome = c.outcome
		if g.extras.pick(r) {
			w.HandledByAI, w.HandledByHuman = ptr(true), ptr(false)
			w.AssistantsUsed = []string{"node_greeting", "node_" + [...]string{"booking", "delivery", "survey"}[o.biz.scenario], "node_goodbye"}
		}
	case kindVoicemail:
		w.Result = ptr(string(revox.ResultVoicemail))
		answer(g.between(15*time.Second, 30*time.Second))
		end(g.between(20*time.Second, 45*time.Second))
		recording()
		transcript(o.voicemailTurns())
		w.EndedBy, w.EndReason = ptr(string(revox.EndedByAgent)), ptr("voicemail")
	case kindIVR:
		w.Result = ptr(string(revox.ResultIVR))
		answer(g.between(2*time.Second, 8*time.Second))
		end(g.between(10*time.Second, 40*time.Second))
		recording()
		transcript(o.ivrTurns())
		w.EndedBy, w.EndReason = ptr(string(revox.EndedByAgent)), ptr("ivr_no_navigate")
	case kindScreening:
		w.Result = ptr(string(revox.ResultIOSScreeningFilter))
		answer(g.between(2*time.Second, 6*time.Second))
		end(g.between(8*time.Second, 20*time.Second))
		recording()
		transcript(o.screeningTurns())
		w.EndedBy = ptr(string(revox.EndedByUser))
	case kindRangOut:
		w.Result = ptr(string(revox.ResultUnknown))
		end(g.between(30*time.Second, 60*time.Second))
		unanswered(string(revox.DialNoAnswer))
	case kindNoAnswer:
		end(g.between(30*time.Second, 60*time.Second))
		unanswered(string(revox.DialNoAnswer))
	case kindBusy:
		end(g.between(2*time.Second, 6*time.Second))
		unanswered(string(revox.DialBusy))
	case kindUnavailable:
		w.Status = string(revox.AttemptError)
		end(g.between(2*time.Second, 8*time.Second))
		unanswered(string(revox.DialTemporarilyUnavailable))
	case kindTooManyCalls:
		w.Status = string(revox.AttemptError)
		end(g.between(2*time.Second, 3*time.Second))
		unanswered(string(revox.DialTooManyCalls))
	case kindHardError:
		w.Status = string(revox.AttemptError)
		end(g.between(2*time.Second, 4*time.Second))
		unanswered(g.hardErrors.pick(r))
	case kindCongestion:
		w.Status = string(revox.AttemptError)
		end(g.between(2*time.Second, 4*time.Second))
		unanswered("circuit_congestion")
	case kindFax:
		w.Result = ptr("fax")
		answer(g.between(3*time.Second, 8*time.Second))
		end(g.between(5*time.Second, 15*time.Second))
		w.Transcript = json.RawMessage("null")
		w.EndedBy = ptr(string(revox.EndedBySystem))
	case kindQueued:
		w.Status = string(revox.AttemptQueued)
		w.Transcript = json.RawMessage("null")
	case kindRinging:
		w.Status = string(revox.AttemptRinging)
	case kindOngoing:
		w.Status = string(revox.AttemptOngoing)
		w.Result = ptr(string(revox.ResultHuman))
		answer(g.between(4*time.Second, 25*time.Second))
		transcript(g.partial(o, start))
	case kindTransferring:
		w.Status = "transferring"
		w.Result = ptr(string(revox.ResultHuman))
		answer(g.between(4*time.Second, 25*time.Second))
		transcript(g.transferring(o, start))
	}
	return &attempt{id: w.ID, started: started, json: marshal(w)}, outcome
}
