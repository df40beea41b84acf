package sandbox

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// scenario is what a business calls about; it decides the dialogue, the
// tools the agent uses and the shape of the structured output.
type scenario uint8

const (
	scenarioAppointment scenario = iota
	scenarioDelivery
	scenarioSurvey
)

// humanEnd is how a call answered by a person ends.
type humanEnd uint8

const (
	endToolEndCall humanEnd = iota // the agent called its end_call tool
	endTransfer                    // the agent transferred the call
	endUser                        // the callee hung up
	endSystem                      // the platform cut the call (max duration)
)

// conversation is the outcome of one answered call.
type conversation struct {
	turns      []turnJSON
	structured map[string]any // nil: no structured output
	outcome    string         // the order outcome this call leads to
	endedBy    string
	endReason  *string
}

// script is a complete dialogue before its ending is decided. The last turn
// is always the agent's goodbye, which endings drop or replace.
type script struct {
	turns      []turnJSON
	structured map[string]any
	// cut is the structured output of a call cut short: every field known
	// only at the end of the call is null.
	cut     map[string]any
	outcome string
}

func (s *script) assistant(format string, a ...any) {
	s.turns = append(s.turns, turnJSON{Role: "assistant", Content: fmt.Sprintf(format, a...)})
}

func (s *script) user(format string, a ...any) {
	s.turns = append(s.turns, turnJSON{Role: "user", Content: fmt.Sprintf(format, a...)})
}

// tool appends a tool turn. Its arguments are sent as a JSON object or, for
// some turns, as a JSON-encoded string: the SDK types them as
// "object | string" and both occur.
func (g *generator) tool(s *script, name string, args map[string]any, result string, failed bool) {
	raw := marshal(args)
	if g.stringArgs.pick(g.rng) {
		raw = marshal(string(raw))
	}
	t := turnJSON{Role: "tool", Content: result, ToolName: name, ToolArguments: raw}
	switch {
	case failed:
		t.ToolIsError = ptr(true)
	case g.rng.IntN(2) == 0:
		t.ToolIsError = ptr(false)
	}
	s.turns = append(s.turns, t)
}

func oneOf(r *rand.Rand, options ...string) string { return options[r.IntN(len(options))] }

func ordinal(d int) string {
	suffix := "th"
	switch {
	case d%100 >= 11 && d%100 <= 13:
	case d%10 == 1:
		suffix = "st"
	case d%10 == 2:
		suffix = "nd"
	case d%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", d, suffix)
}

// dayAfter returns a business day a few days after t, as a date the callee
// would name.
func dayAfter(r *rand.Rand, t time.Time, minDays, maxDays int) time.Time {
	d := t.AddDate(0, 0, minDays+r.IntN(maxDays-minDays+1))
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

const dateLayout = "2006-01-02"

// converse writes the dialogue of one answered call started at when.
func (g *generator) converse(o *orderCtx, when time.Time, end humanEnd) conversation {
	var s script
	switch o.biz.scenario {
	case scenarioAppointment:
		s = g.appointment(o, when)
	case scenarioDelivery:
		s = g.delivery(o, when)
	default:
		s = g.survey(o, when)
	}
	c := conversation{turns: s.turns, structured: s.structured, outcome: s.outcome}
	switch end {
	case endToolEndCall:
		g.tool(&s, "end_call", map[string]any{"reason": "conversation_complete"}, "Call ended.", false)
		c.turns, c.endedBy, c.endReason = s.turns, "agent", ptr("tool_end_call")
	case endTransfer:
		s.turns = s.turns[:len(s.turns)-1]
		s.assistant("Let me put you through to a colleague at %s who can help with the rest. One moment.", o.biz.name)
		g.tool(&s, "transfer_call", map[string]any{"destination": o.trunk, "reason": "callee asked for a person"}, "Transfer initiated.", false)
		c.turns, c.endedBy, c.endReason = s.turns, "agent", ptr("transfer")
		c.outcome = "interested"
	case endUser:
		c.turns, c.endedBy = s.turns[:len(s.turns)-1], "user"
	case endSystem:
		// Scripts are at least 6 turns long, so the cut keeps 4 or more.
		keep := 4 + g.rng.IntN(len(s.turns)-5)
		c.turns, c.endedBy = s.turns[:keep], "system"
		c.structured, c.outcome = s.cut, "none"
	}
	return c
}

// greeting opens a conversation: the agent introduces itself on outbound
// calls and answers the callee who rings back on inbound ones.
func (o *orderCtx) greeting() string {
	if o.inbound {
		return fmt.Sprintf("Thanks for calling %s, this is %s. Hi %s, you're returning our call.", o.biz.name, o.biz.agent, o.first)
	}
	return fmt.Sprintf("Hi %s, this is %s from %s.", o.first, o.biz.agent, o.biz.name)
}

// partial is the transcript so far of a call still in progress.
func (g *generator) partial(o *orderCtx, when time.Time) []turnJSON {
	c := g.converse(o, when, endUser)
	return c.turns[:2+g.rng.IntN(3)]
}

func (g *generator) appointment(o *orderCtx, when time.Time) script {
	r := g.rng
	var s script
	s.assistant("%s It's about booking your %s. Is now a good time?", o.greeting(), o.biz.subject)
	s.cut = map[string]any{"appointment_booked": false, "preferred_date": nil, "interest_level": nil}
	switch n := r.IntN(100); {
	case n < 70:
		day := dayAfter(r, when, 2, 10)
		date := day.Format(dateLayout)
		part, slots := "morning", []string{"08:45", "09:30", "10:15", "11:00", "11:40"}
		if r.IntN(2) == 0 {
			part, slots = "afternoon", []string{"13:30", "14:00", "15:15", "16:00", "17:20"}
		}
		i := r.IntN(len(slots) - 1)
		first, second := slots[i], slots[i+1+r.IntN(len(slots)-1-i)]
		s.user("%s", oneOf(r, "Sure, go ahead.", "Yes, I've got a minute.", "Oh right, I was meaning to call you. Yes."))
		s.assistant("Great. Which day would suit you best?")
		s.user("%s the %s would work, ideally in the %s.", day.Weekday(), ordinal(day.Day()), part)
		args := map[string]any{"date": date, "part_of_day": part}
		if g.toolErrors.pick(r) {
			g.tool(&s, "check_availability", args, `{"error":"calendar service timed out"}`, true)
			s.assistant("Sorry, our calendar is a little slow today. One moment please.")
		}
		g.tool(&s, "check_availability", args, fmt.Sprintf(`{"available_slots":["%s","%s"]}`, first, second), false)
		s.assistant("I have %s or %s on %s. Which do you prefer?", first, second, day.Weekday())
		s.user("%s, please.", first)
		code := fmt.Sprintf("APT-%04d", r.IntN(10000))
		g.tool(&s, "book_appointment", map[string]any{"date": date, "time": first, "patient_name": o.first + " " + o.last}, fmt.Sprintf(`{"status":"booked","confirmation_code":"%s"}`, code), false)
		s.assistant("You're booked for %s the %s at %s. You'll get a text confirmation shortly.", day.Weekday(), ordinal(day.Day()), first)
		s.user("%s", oneOf(r, "Perfect, thank you.", "Great, thanks a lot.", "Lovely, see you then."))
		s.assistant("You're welcome, have a lovely day. Goodbye!")
		s.structured = map[string]any{"appointment_booked": true, "preferred_date": date, "preferred_time": first, "interest_level": 4 + r.IntN(2)}
		s.outcome = "completed"
	case n < 88:
		callback := when.AddDate(0, 0, 1).Format(dateLayout) + "T14:00:00"
		s.user("%s", oneOf(r, "Not right now, I'm driving.", "This isn't a good time, sorry.", "I'm in a meeting, can you call later?"))
		s.assistant("No problem at all. When would be a better time to call you back?")
		s.user("Tomorrow afternoon would be better.")
		g.tool(&s, "schedule_callback", map[string]any{"callback_at": callback}, `{"scheduled":true}`, false)
		s.assistant("Noted, we'll call you back tomorrow afternoon. Bye for now!")
		s.structured = map[string]any{"appointment_booked": false, "preferred_date": nil, "interest_level": 2, "callback_requested": true}
		s.outcome = "requested_callback_later"
	default:
		s.user("%s", oneOf(r, "I've moved to another practice, please take me off your list.", "No thanks, I'm not interested."))
		s.assistant("Understood, I'll update our records so we don't call again.")
		g.tool(&s, "opt_out", map[string]any{"phone_number": o.phone}, `{"opted_out":true}`, false)
		s.user("Thanks.")
		s.assistant("Sorry for the bother. Have a good day.")
		s.structured = map[string]any{"appointment_booked": false, "preferred_date": nil, "interest_level": 1}
		s.outcome = "not_interested"
	}
	return s
}

func (g *generator) delivery(o *orderCtx, when time.Time) script {
	r := g.rng
	var s script
	day := dayAfter(r, when, 1, 5)
	date := day.Format(dateLayout)
	from := 8 + r.IntN(8)
	s.assistant("%s It's about order %s, due for delivery on %s the %s between %d:00 and %d:00. Will someone be home to receive it?",
		o.greeting(), o.reference, day.Weekday(), ordinal(day.Day()), from, from+3)
	s.cut = map[string]any{"delivery_confirmed": nil, "delivery_date": nil, "leave_with_neighbour": nil}
	if r.IntN(100) < 60 {
		neighbour := r.IntN(3) == 0
		s.user("%s", oneOf(r, "Yes, I'll be home all day.", "Yes, my partner will be there.", "Should be fine, yes."))
		g.tool(&s, "confirm_delivery", map[string]any{"order_number": o.reference, "date": date}, `{"confirmed":true}`, false)
		s.assistant("Perfect. The driver will call about thirty minutes before arriving.")
		if neighbour {
			s.user("If I step out, can they leave it with my neighbour at number %d?", 2+r.IntN(40))
			g.tool(&s, "add_delivery_note", map[string]any{"order_number": o.reference, "note": "leave with neighbour if absent"}, `{"saved":true}`, false)
			s.assistant("Of course, I've added a note for the driver.")
		}
		s.user("%s", oneOf(r, "Great, thanks.", "Brilliant, thank you."))
		s.assistant("Thanks %s, have a good day!", o.first)
		s.structured = map[string]any{"delivery_confirmed": true, "delivery_date": date, "leave_with_neighbour": neighbour}
		s.outcome = "completed"
		return s
	}
	other := dayAfter(r, day, 1, 4)
	s.user("No, I'm away that day. Could you come on %s instead?", other.Weekday())
	g.tool(&s, "lookup_order", map[string]any{"order_number": o.reference}, `{"status":"in_transit","reschedulable":true}`, false)
	if g.toolErrors.pick(r) {
		g.tool(&s, "reschedule_delivery", map[string]any{"order_number": o.reference, "date": other.Format(dateLayout)}, `{"error":"no capacity on requested date"}`, true)
		other = dayAfter(r, other, 1, 2)
		s.assistant("That day is fully booked, I'm afraid. Would %s the %s work?", other.Weekday(), ordinal(other.Day()))
		s.user("Yes, that's fine.")
	}
	g.tool(&s, "reschedule_delivery", map[string]any{"order_number": o.reference, "date": other.Format(dateLayout)}, `{"rescheduled":true}`, false)
	s.assistant("Done: your delivery is now on %s the %s, same time window.", other.Weekday(), ordinal(other.Day()))
	s.user("Thank you.")
	s.assistant("You're welcome. Goodbye!")
	s.structured = map[string]any{"delivery_confirmed": false, "delivery_date": other.Format(dateLayout), "leave_with_neighbour": false}
	s.outcome = "completed"
	return s
}

var surveyReasons = [...][]string{
	{"Honestly the technician was late and didn't explain much.", "It took three calls to get anyone to help."},
	{"It was fine, nothing special.", "Okay overall, but a bit pricey."},
	{"The staff were lovely and everything was on time.", "Quick, friendly, no complaints at all."},
}

func (g *generator) survey(o *orderCtx, when time.Time) script {
	r := g.rng
	var s script
	s.assistant("%s Do you have two minutes for a quick survey about your recent %s?", o.greeting(), o.biz.subject)
	s.cut = map[string]any{"nps_score": nil, "would_recommend": nil, "feedback": nil}
	if r.IntN(100) < 25 {
		s.user("Sorry, I'm not interested.")
		s.assistant("Understood. Would you like me to remove your number from our survey list?")
		s.user("Yes, please.")
		g.tool(&s, "opt_out", map[string]any{"phone_number": o.phone}, `{"opted_out":true}`, false)
		s.assistant("Done. Sorry for the bother, have a nice day.")
		s.structured = map[string]any{"nps_score": nil, "would_recommend": nil, "feedback": nil, "opted_out": true}
		s.outcome = "not_interested"
		return s
	}
	nps := []int{3, 5, 6, 7, 8, 8, 9, 9, 10, 10}[r.IntN(10)]
	bucket := 0
	switch {
	case nps >= 9:
		bucket = 2
	case nps >= 7:
		bucket = 1
	}
	reason := oneOf(r, surveyReasons[bucket]...)
	again := nps >= 6
	s.user("%s", oneOf(r, "Okay, sure.", "Go on then.", "Yes, quickly."))
	s.assistant("On a scale from 0 to 10, how likely are you to recommend %s to a friend?", o.biz.name)
	s.user("I'd say %d.", nps)
	if g.toolErrors.pick(r) {
		g.tool(&s, "record_answer", map[string]any{"question": "nps", "value": nps}, `{"error":"survey session expired"}`, true)
	}
	g.tool(&s, "record_answer", map[string]any{"question": "nps", "value": nps}, `{"saved":true}`, false)
	s.assistant("Thank you. What's the main reason for your score?")
	s.user("%s", reason)
	g.tool(&s, "record_answer", map[string]any{"question": "reason", "value": reason}, `{"saved":true}`, false)
	s.assistant("Last question: would you use %s again?", o.biz.name)
	if again {
		s.user("%s", oneOf(r, "Yes, definitely.", "Probably, yes."))
	} else {
		s.user("%s", oneOf(r, "Probably not.", "I doubt it."))
	}
	g.tool(&s, "record_answer", map[string]any{"question": "would_return", "value": again}, `{"saved":true}`, false)
	s.assistant("That's everything. Thanks a lot for your time, %s!", o.first)
	s.structured = map[string]any{"nps_score": nps, "would_recommend": nps >= 7, "feedback": reason, "would_return": again}
	s.outcome = "completed"
	return s
}

// transferring is the transcript of a call caught in the middle of a
// transfer: the state behind the undocumented attempt status.
func (g *generator) transferring(o *orderCtx, when time.Time) []turnJSON {
	s := script{turns: slices.Clone(g.partial(o, when))}
	s.assistant("One moment, I'm transferring you to a colleague at %s.", o.biz.name)
	g.tool(&s, "transfer_call", map[string]any{"destination": o.trunk}, "Transfer initiated.", false)
	return s.turns
}

// Machine-answered calls have short transcripts: what the machine said and,
// when the agent spoke, its single reply.

func (o *orderCtx) voicemailTurns() []turnJSON {
	return []turnJSON{
		{Role: "user", Content: fmt.Sprintf("Hi, you've reached %s. I can't take your call right now, please leave a message after the tone.", o.first)},
		{Role: "assistant", Content: fmt.Sprintf("Hi %s, this is %s from %s calling about your %s. Please call us back at %s when you can. Thank you!", o.first, o.biz.agent, o.biz.name, o.biz.subject, o.trunk)},
	}
}

func (o *orderCtx) ivrTurns() []turnJSON {
	return []turnJSON{
		{Role: "user", Content: "Thank you for calling. Please listen carefully as our menu options have changed. For billing, press 1. For technical support, press 2. To hear these options again, press 9."},
		{Role: "assistant", Content: fmt.Sprintf("Hello, I'm trying to reach %s %s, please.", o.first, o.last)},
	}
}

func (o *orderCtx) screeningTurns() []turnJSON {
	return []turnJSON{
		{Role: "user", Content: "Hi, if you record your name and reason for calling, I'll see if this person is available."},
		{Role: "assistant", Content: fmt.Sprintf("Hi, this is %s from %s, calling %s about the %s.", o.biz.agent, o.biz.name, o.first, o.biz.subject)},
	}
}

func ptr[T any](v T) *T { return &v }
