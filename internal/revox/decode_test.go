package revox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// timestampCase is one upstream form of a timestamp. Absent values (null, "",
// {}) parse as the zero time with ok true; unreadable ones as the zero time
// with ok false.
type timestampCase struct {
	name string
	raw  string // the JSON value as the upstream sends it
	want time.Time
	ok   bool
}

func utc(year int, month time.Month, day, hour, min, sec, nsec int) time.Time {
	return time.Date(year, month, day, hour, min, sec, nsec, time.UTC)
}

// timestampCases also seeds FuzzParseTimestamp and FuzzDecodeCallAttempt.
var timestampCases = []timestampCase{
	{name: "RFC 3339 in UTC", raw: `"2026-02-20T10:00:00Z"`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "RFC 3339 with a fraction", raw: `"2026-02-20T10:00:04.25Z"`, want: utc(2026, 2, 20, 10, 0, 4, 250e6), ok: true},
	{name: "RFC 3339 with nanoseconds", raw: `"2026-02-20T10:00:04.123456789Z"`, want: utc(2026, 2, 20, 10, 0, 4, 123456789), ok: true},
	{name: "RFC 3339 with a positive offset is converted to UTC", raw: `"2026-02-20T11:00:00+01:00"`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "RFC 3339 with a fraction and a negative offset", raw: `"2026-02-20T05:00:00.5-05:00"`, want: utc(2026, 2, 20, 10, 0, 0, 500e6), ok: true},
	{name: "RFC 3339 with a zero offset", raw: `"2026-02-20T10:00:00+00:00"`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "no offset is read as UTC", raw: `"2026-02-20T10:00:00"`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "no offset with a fraction is read as UTC", raw: `"2026-02-20T10:00:00.125"`, want: utc(2026, 2, 20, 10, 0, 0, 125e6), ok: true},
	{name: "space instead of T with an offset", raw: `"2026-02-20 11:00:00+01:00"`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "space instead of T without an offset is read as UTC", raw: `"2026-02-20 10:00:00"`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "whitespace inside the string is ignored", raw: `" 2026-02-20T10:00:00Z "`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "epoch seconds", raw: `1771581600`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "epoch seconds with a fraction", raw: `1771581600.5`, want: utc(2026, 2, 20, 10, 0, 0, 500e6), ok: true},
	{name: "epoch seconds in exponent notation", raw: `1.7715816e9`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "epoch milliseconds", raw: `1771581604250`, want: utc(2026, 2, 20, 10, 0, 4, 250e6), ok: true},
	{name: "epoch milliseconds keep their milliseconds exactly", raw: `1771577000123`, want: utc(2026, 2, 20, 8, 43, 20, 123e6), ok: true},
	{name: "epoch seconds as a numeric string", raw: `"1771581600"`, want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},
	{name: "epoch milliseconds as a numeric string", raw: `"1771581604250"`, want: utc(2026, 2, 20, 10, 0, 4, 250e6), ok: true},
	{name: "epoch zero is 1970 and not absent", raw: `0`, want: utc(1970, 1, 1, 0, 0, 0, 0), ok: true},
	{name: "the last second of year 9999 in epoch milliseconds", raw: `253402300799000`, want: utc(9999, 12, 31, 23, 59, 59, 0), ok: true},
	{name: "the last second of year 9999 as RFC 3339", raw: `"9999-12-31T23:59:59Z"`, want: utc(9999, 12, 31, 23, 59, 59, 0), ok: true},
	{name: "surrounding whitespace around the JSON value is ignored", raw: " \n\t1771581600 ", want: utc(2026, 2, 20, 10, 0, 0, 0), ok: true},

	{name: "null is absent", raw: `null`, ok: true},
	{name: "an empty object is absent", raw: `{}`, ok: true},
	{name: "an empty object with whitespace is absent", raw: `{ }`, ok: true},
	{name: "an empty string is absent", raw: `""`, ok: true},
	{name: "a blank string is absent", raw: `"   "`, ok: true},

	{name: "a word is unreadable", raw: `"yesterday"`},
	{name: "the docs' placeholder is unreadable", raw: `"<unknown>"`},
	{name: "true is unreadable", raw: `true`},
	{name: "false is unreadable", raw: `false`},
	{name: "an empty array is unreadable", raw: `[]`},
	{name: "a non-empty object is unreadable", raw: `{"seconds":1771581600}`},
	{name: "an impossible date is unreadable", raw: `"2026-02-30T10:00:00Z"`},
	{name: "a date without a time is unreadable", raw: `"2026-02-20"`},
	{name: "an epoch before 1970 is unreadable", raw: `-1`},
	{name: "an epoch beyond year 9999 is unreadable", raw: `1e300`},
	{name: "epoch seconds from 1e11 on are read as milliseconds", raw: `100000000000`, want: utc(1973, 3, 3, 9, 46, 40, 0), ok: true},
	{name: "epoch milliseconds beyond year 9999 as a string are unreadable", raw: `"253402300800000"`},
	{name: "RFC 3339 that lands in year 10000 in UTC is unreadable", raw: `"9999-12-31T23:59:59-01:00"`},
	{name: "RFC 3339 that lands before year 1 in UTC is unreadable", raw: `"0000-01-01T00:00:00+01:00"`},
	{name: "a string with a broken escape is unreadable", raw: `"2026-02-20T10:00:00Z\q"`},
	{name: "a truncated literal is unreadable", raw: `nul`},
	{name: "no bytes at all are unreadable", raw: ``},
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	for _, tc := range timestampCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseTimestamp([]byte(tc.raw))
			if ok != tc.ok {
				t.Errorf("ParseTimestamp(%s): ok = %v, want %v", tc.raw, ok, tc.ok)
			}
			if !got.Equal(tc.want) {
				t.Errorf("ParseTimestamp(%s) = %v, want %v", tc.raw, got, tc.want)
			}
			if !got.IsZero() && got.Location() != time.UTC {
				t.Errorf("ParseTimestamp(%s) is in %v, want UTC", tc.raw, got.Location())
			}
		})
	}
}

// TestTimestampFormsInsideAnAttempt splices every timestamp form into a
// real-shaped attempt: an unreadable value must leave the field absent
// without failing the decode of the rest.
func TestTimestampFormsInsideAnAttempt(t *testing.T) {
	t.Parallel()
	template := readJSONObject(t, "call_attempt.json")
	for _, tc := range timestampCases {
		if !json.Valid([]byte(tc.raw)) {
			continue // cannot occur inside a JSON document
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := withFields(t, template, map[string]string{
				"started_at":  tc.raw,
				"answered_at": tc.raw,
				"ended_at":    tc.raw,
			})
			var got CallAttempt
			if err := json.Unmarshal(doc, &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			for field, v := range map[string]Time{"started_at": got.StartedAt, "answered_at": got.AnsweredAt, "ended_at": got.EndedAt} {
				if !v.Equal(tc.want) {
					t.Errorf("%s = %v, want %v", field, v.Time, tc.want)
				}
				if v.Valid() != !tc.want.IsZero() {
					t.Errorf("%s.Valid() = %v, want %v", field, v.Valid(), !tc.want.IsZero())
				}
			}
			if n, err := got.Transcript.Len(); got.ID != "att_01JMCQ5V2Z7Y8K3N4P6R9T0W1X" || n != 2 || err != nil {
				t.Errorf("the rest of the attempt was not decoded: id %q, %d transcript entries (%v)", got.ID, n, err)
			}
		})
	}
}

func TestDecodeListPage(t *testing.T) {
	t.Parallel()
	var page listCallsResponse
	if err := json.Unmarshal(readTestdata(t, "list_page.json"), &page); err != nil {
		t.Fatalf("Unmarshal list_page.json: %v", err)
	}
	tests := []struct {
		name string
		want CallAttempt
	}{
		{
			name: "a completed human call with RFC 3339 timestamps, a tool call and unknown fields",
			want: CallAttempt{
				ID:               "att_01JMCQ5V2Z7Y8K3N4P6R9T0W1X",
				PhoneNumber:      "+33612345678",
				Status:           AttemptCompleted,
				Result:           new(ResultHuman),
				StartedAt:        Time{utc(2026, 2, 20, 10, 0, 0, 0)},
				AnsweredAt:       Time{utc(2026, 2, 20, 10, 0, 4, 250e6)},
				EndedAt:          Time{utc(2026, 2, 20, 10, 3, 12, 500e6)},
				RecordingURL:     new("https://cdn.getrevox.com/recordings/att_01JMCQ5V2Z7Y8K3N4P6R9T0W1X.ogg"),
				EndReason:        new("tool_end_call"),
				EndedBy:          new(EndedByAgent),
				StructuredOutput: json.RawMessage(`{"interested":true,"callback_date":"2026-02-23","budget_eur":1200}`),
				Transcript: NewTranscript([]TranscriptEntry{
					{Role: RoleAssistant, Content: "Bonjour, c'est Julie de Revox. Vous avez deux minutes ?"},
					{Role: RoleUser, Content: "Oui, allez-y."},
					{Role: RoleTool, ToolName: new("book_meeting"), ToolArguments: json.RawMessage(`{"date":"2026-02-23","slot":"10:30"}`), ToolIsError: new(false)},
					{Role: RoleAssistant, Content: "C'est noté pour lundi 10h30. Bonne journée !"},
				}),
			},
		},
		{
			name: "a voicemail with epoch timestamps, tool arguments as a string and as null",
			want: CallAttempt{
				ID:               "att_01JMCQ6A8B9C0D1E2F3G4H5J6K",
				PhoneNumber:      "+14155550123",
				Status:           AttemptCompleted,
				Result:           new(ResultVoicemail),
				StartedAt:        Time{utc(2026, 2, 20, 10, 0, 0, 0)},
				AnsweredAt:       Time{utc(2026, 2, 20, 10, 0, 4, 250e6)},
				EndedAt:          Time{utc(2026, 2, 20, 10, 3, 12, 0)},
				EndReason:        new("voicemail"),
				EndedBy:          new(EndedByAgent),
				StructuredOutput: json.RawMessage(`null`),
				Transcript: NewTranscript([]TranscriptEntry{
					{Role: RoleAssistant, Content: "Hi, this is Julie from Revox, calling about your request."},
					{Role: RoleTool, ToolName: new("leave_voicemail"), ToolArguments: json.RawMessage(`"{\"template\":\"callback\"}"`)},
					{Role: RoleTool, ToolName: new("end_call"), ToolArguments: json.RawMessage(`null`)},
				}),
			},
		},
		{
			name: "unknown enum values are kept verbatim and unreadable timestamps become absent",
			want: CallAttempt{
				ID:               "att_01JMCQ7M8N9P0Q1R2S3T4V5W6X",
				PhoneNumber:      "+447700900123",
				Status:           "transferred",
				Result:           new(CallResult("fax")),
				DialError:        new(DialError("carrier_blocked")),
				RecordingURL:     new("https://cdn.getrevox.com/recordings/att_01JMCQ7M8N9P0Q1R2S3T4V5W6X.ogg"),
				EndReason:        new("ivr_no_navigate"),
				EndedBy:          new(EndedBy("operator")),
				StructuredOutput: json.RawMessage(`{}`),
			},
		},
		{
			name: "a queued attempt with null, {} and empty-string timestamps and no optional keys",
			want: CallAttempt{
				ID:          "att_01JMCQ8Y9Z0A1B2C3D4E5F6G7H",
				PhoneNumber: "+33198765432",
				Status:      AttemptQueued,
			},
		},
		{
			name: "a failed dial with offset-less timestamps and epoch milliseconds as a string",
			want: CallAttempt{
				ID:               "att_01JMCQ9J0K1L2M3N4P5Q6R7S8T",
				PhoneNumber:      "+4915112345678",
				Status:           AttemptError,
				Result:           new(ResultUnknown),
				DialError:        new(DialBusy),
				StartedAt:        Time{utc(2026, 2, 20, 10, 0, 0, 0)},
				AnsweredAt:       Time{utc(2026, 2, 20, 10, 0, 4, 500e6)},
				EndedAt:          Time{utc(2026, 2, 20, 10, 0, 12, 0)},
				EndedBy:          new(EndedBySystem),
				StructuredOutput: json.RawMessage(`null`),
				Transcript:       NewTranscript(nil),
			},
		},
	}
	if len(page.Calls) != len(tests) {
		t.Fatalf("decoded %d attempts, want %d", len(page.Calls), len(tests))
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, d := range diffAttempt(page.Calls[i], tc.want) {
				t.Error(d)
			}
		})
	}
}

func TestDecodeCallOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, o *CallOrder)
	}{
		{
			name: "a newer order with status, assistant, retry windows and attempts newest first",
			file: "call_order.json",
			check: func(t *testing.T, o *CallOrder) {
				wantEqual(t, "id", o.ID, "ord_01JMCQ4R5S6T7U8V9W0X1Y2Z3A")
				wantEqual(t, "direction", o.Direction, DirectionOutbound)
				wantPtr(t, "status", o.Status, new(OrderPostProcessing))
				wantPtr(t, "outcome", o.Outcome, new("interested"))
				wantEqual(t, "from_phone_number", o.FromPhoneNumber, "+33187654321")
				wantEqual(t, "to_phone_number", o.ToPhoneNumber, "+33612345678")
				wantEqual(t, "is_completed", o.IsCompleted, false)
				wantEqual(t, "is_cancelled", o.IsCancelled, false)
				wantEqual(t, "calls_count (sent as 2.0)", o.CallsCount.Int(), 2)
				wantTime(t, "next_call_at", o.NextCallAt, time.Time{})
				wantTime(t, "scheduled_at", o.ScheduledAt, utc(2026, 2, 20, 8, 0, 0, 0))
				wantTime(t, "created_at", o.CreatedAt, utc(2026, 2, 20, 8, 43, 20, 123e6))
				wantPtr(t, "first_sentence_delay_ms (sent as a string)", o.FirstSentenceDelayMs, new(Number(400)))
				wantRaw(t, "metadata", o.Metadata, `{"crm_id":"lead-4711","source":"webform"}`)
				wantRaw(t, "assistant", o.Assistant, `{"id":"asst_01JMCPZZ","name":"Julie","background_sound":"audio/office.ogg"}`)
				if rc := o.CallRetryConfig; rc == nil {
					t.Error("call_retry_config = nil, want a config")
				} else {
					wantEqual(t, "calling_windows", len(rc.CallingWindows), 1)
					if len(rc.CallingWindows) == 1 {
						w := rc.CallingWindows[0]
						wantEqual(t, "calling_window_start_time", w.StartTime, "10:00")
						wantEqual(t, "calling_window_end_time", w.EndTime, "18:00")
						wantPtr(t, "retry_delay_seconds", w.RetryDelaySeconds, new(Number(7200)))
					}
					wantPtr(t, "max_retry_attempts", rc.MaxRetryAttempts, new(Number(3)))
					wantPtr(t, "timezone", rc.Timezone, new("Europe/Paris"))
					wantEqual(t, "allowed_days", strings.Join(rc.AllowedDays, ","), "monday,tuesday,wednesday,thursday,friday")
					wantPtr(t, "call_twice_in_a_row", rc.CallTwiceInARow, new(false))
				}
				if m := o.LlmModel; m == nil {
					t.Error("llm_model = nil, want the openrouter variant")
				} else {
					wantEqual(t, "llm_model.type", m.Type, "openrouter")
					wantPtr(t, "llm_model.openrouter_model_id", m.OpenrouterModelID, new("openai/gpt-4.1-mini"))
					wantPtr(t, "llm_model.openrouter_provider", m.OpenrouterProvider, new("openai"))
					wantPtr(t, "llm_model.name", m.Name, nil)
				}
				if o.LastCallAttempt == nil {
					t.Fatal("last_call_attempt = nil, want the newest attempt")
				}
				wantEqual(t, "last_call_attempt.id", o.LastCallAttempt.ID, "att_01JMCQ5V2Z7Y8K3N4P6R9T0W1X")
				if len(o.CallAttempts) != 2 {
					t.Fatalf("call_attempts has %d entries, want 2", len(o.CallAttempts))
				}
				for _, d := range diffAttempt(o.CallAttempts[0], *o.LastCallAttempt) {
					t.Errorf("call_attempts[0] differs from last_call_attempt: %s", d)
				}
				for _, d := range diffAttempt(o.CallAttempts[1], CallAttempt{
					ID:          "att_01JMC000000000000000000000",
					PhoneNumber: "+33612345678",
					Status:      AttemptCompleted,
					Result:      new(ResultVoicemail),
					DialError:   new(DialNoAnswer),
					StartedAt:   Time{utc(2026, 2, 19, 16, 0, 0, 0)},
					EndedAt:     Time{utc(2026, 2, 19, 16, 0, 31, 0)},
					EndedBy:     new(EndedBySystem),
				}) {
					t.Errorf("call_attempts[1]: %s", d)
				}
			},
		},
		{
			name: "an older order without status, with null config, no attempts and absent timestamps",
			file: "call_order_minimal.json",
			check: func(t *testing.T, o *CallOrder) {
				wantEqual(t, "id", o.ID, "ord_01JMD00000000000000000000")
				wantEqual(t, "direction", o.Direction, DirectionInbound)
				wantPtr(t, "status", o.Status, nil)
				wantPtr(t, "outcome", o.Outcome, nil)
				wantEqual(t, "is_completed", o.IsCompleted, true)
				wantEqual(t, "is_cancelled", o.IsCancelled, true)
				wantEqual(t, "calls_count (sent as a string)", o.CallsCount, Number(3))
				wantTime(t, "next_call_at ({})", o.NextCallAt, time.Time{})
				wantTime(t, "scheduled_at (\"\")", o.ScheduledAt, time.Time{})
				wantTime(t, "created_at", o.CreatedAt, utc(2026, 2, 18, 8, 30, 0, 0))
				wantPtr(t, "first_sentence_delay_ms", o.FirstSentenceDelayMs, new(Number(400)))
				wantRaw(t, "metadata", o.Metadata, `null`)
				wantRaw(t, "assistant", o.Assistant, ``)
				if o.CallRetryConfig != nil {
					t.Errorf("call_retry_config = %+v, want nil", o.CallRetryConfig)
				}
				if m := o.LlmModel; m == nil {
					t.Error("llm_model = nil, want the dedicated-instance variant")
				} else {
					wantEqual(t, "llm_model.type", m.Type, "dedicated-instance")
					wantPtr(t, "llm_model.name", m.Name, new("gpt-4.1"))
					wantPtr(t, "llm_model.openrouter_model_id", m.OpenrouterModelID, nil)
				}
				if o.LastCallAttempt != nil {
					t.Errorf("last_call_attempt = %+v, want nil", o.LastCallAttempt)
				}
				if o.CallAttempts == nil || len(o.CallAttempts) != 0 {
					t.Errorf("call_attempts = %#v, want an empty slice", o.CallAttempts)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body getCallResponse
			if err := json.Unmarshal(readTestdata(t, tc.file), &body); err != nil {
				t.Fatalf("Unmarshal %s: %v", tc.file, err)
			}
			if body.Call == nil {
				t.Fatalf("%s: no call decoded", tc.file)
			}
			tc.check(t, body.Call)
		})
	}
}

func TestToolArgumentsAreKeptAsRawJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string // the tool_arguments member, or "" to leave it out
		want string
	}{
		{name: "an object is kept verbatim", raw: `"tool_arguments": {"date": "2026-02-23", "slots": [1, 2]}`, want: `{"date": "2026-02-23", "slots": [1, 2]}`},
		{name: "a string is kept as a JSON string, not unwrapped", raw: `"tool_arguments": "{\"date\":\"2026-02-23\"}"`, want: `"{\"date\":\"2026-02-23\"}"`},
		{name: "null is kept as the JSON null", raw: `"tool_arguments": null`, want: `null`},
		{name: "an empty object is kept", raw: `"tool_arguments": {}`, want: `{}`},
		{name: "a missing key leaves it empty", raw: ``, want: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			members := []string{`"role": "tool"`, `"content": ""`, `"tool_name": "book_meeting"`}
			if tc.raw != "" {
				members = append(members, tc.raw)
			}
			var got TranscriptEntry
			if err := json.Unmarshal([]byte("{"+strings.Join(members, ", ")+"}"), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if string(got.ToolArguments) != tc.want {
				t.Errorf("tool_arguments = %#q, want %#q", got.ToolArguments, tc.want)
			}
		})
	}
}

func TestStructuredOutput(t *testing.T) {
	t.Parallel()
	template := readJSONObject(t, "call_attempt.json")
	tests := []struct {
		name string
		raw  string // the structured_output value, or "" to drop the key
		want string
	}{
		{name: "an object is kept verbatim", raw: `{"interested": true, "budget_eur": 1200}`, want: `{"interested": true, "budget_eur": 1200}`},
		{name: "an empty object stays an empty object", raw: `{}`, want: `{}`},
		{name: "null is kept as the JSON null, distinct from absent", raw: `null`, want: `null`},
		{name: "a missing key leaves it empty", raw: ``, want: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := withFields(t, template, map[string]string{"structured_output": tc.raw})
			var got CallAttempt
			if err := json.Unmarshal(doc, &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !sameRaw(got.StructuredOutput, json.RawMessage(tc.want)) {
				t.Errorf("structured_output = %#q, want %#q", got.StructuredOutput, tc.want)
			}
		})
	}
}

func TestUnknownEnumValuesAreKeptVerbatim(t *testing.T) {
	t.Parallel()
	template := readJSONObject(t, "call_attempt.json")
	tests := []struct {
		name  string
		field string
		value string
		got   func(a CallAttempt) string
	}{
		{name: "an attempt status the docs do not list", field: "status", value: "voicemail_detected", got: func(a CallAttempt) string { return string(a.Status) }},
		{name: "a result of fax", field: "result", value: "fax", got: func(a CallAttempt) string { return string(deref(a.Result)) }},
		{name: "a result in another case than documented", field: "result", value: "ivr", got: func(a CallAttempt) string { return string(deref(a.Result)) }},
		{name: "a new SIP dial error", field: "dial_error", value: "carrier_blocked", got: func(a CallAttempt) string { return string(deref(a.DialError)) }},
		{name: "a new party that ended the call", field: "ended_by", value: "operator", got: func(a CallAttempt) string { return string(deref(a.EndedBy)) }},
		{name: "an empty string", field: "status", value: "", got: func(a CallAttempt) string { return string(a.Status) }},
		{name: "non-ASCII text", field: "result", value: "répondeur ☎", got: func(a CallAttempt) string { return string(deref(a.Result)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			quoted, err := json.Marshal(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			var got CallAttempt
			if err := json.Unmarshal(withFields(t, template, map[string]string{tc.field: string(quoted)}), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if g := tc.got(got); g != tc.value {
				t.Errorf("%s = %q, want %q", tc.field, g, tc.value)
			}
		})
	}

	t.Run("on the order and its transcript too", func(t *testing.T) {
		t.Parallel()
		var o CallOrder
		doc := `{"id": "ord_1", "direction": "internal", "status": "archived", "outcome": "maybe_later",
			"llm_model": {"type": "quantum", "provider": "acme"},
			"call_attempts": [{"id": "att_1", "status": "ongoing", "transcript": [{"role": "system", "content": "hold music"}]}]}`
		if err := json.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		wantEqual(t, "direction", o.Direction, Direction("internal"))
		wantPtr(t, "status", o.Status, new(OrderStatus("archived")))
		wantPtr(t, "outcome", o.Outcome, new("maybe_later"))
		wantEqual(t, "llm_model.type", o.LlmModel.Type, "quantum")
		turns, err := o.CallAttempts[0].Transcript.Turns()
		if err != nil || len(turns) != 1 {
			t.Fatalf("transcript: %v, %v", turns, err)
		}
		wantEqual(t, "transcript role", turns[0].Role, Role("system"))
	})
}

// numberCases also seeds FuzzNumber.
var numberCases = []struct {
	name string
	raw  string
	want Number
}{
	{name: "an integer", raw: `3`, want: 3},
	{name: "an integer written as a float", raw: `3.0`, want: 3},
	{name: "an integer in exponent notation", raw: `3e0`, want: 3},
	{name: "a numeric string", raw: `"3"`, want: 3},
	{name: "a float numeric string", raw: `"3.0"`, want: 3},
	{name: "a negative number", raw: `-2`, want: -2},
	{name: "a fraction", raw: `0.5`, want: 0.5},
	{name: "a large integer", raw: `9007199254740991`, want: 9007199254740991},
	{name: "zero", raw: `0`, want: 0},
	{name: "null is zero", raw: `null`, want: 0},
	{name: "garbage in a string is zero", raw: `"three"`, want: 0},
	{name: "an empty string is zero", raw: `""`, want: 0},
	{name: "a padded numeric string is zero", raw: `" 3 "`, want: 0},
	{name: "a boolean is zero", raw: `true`, want: 0},
	{name: "an object is zero", raw: `{"value": 3}`, want: 0},
	{name: "an array is zero", raw: `[3]`, want: 0},
	{name: "NaN in a string is zero", raw: `"NaN"`, want: 0},
	{name: "infinity in a string is zero", raw: `"Infinity"`, want: 0},
	{name: "a number too large for float64 is zero", raw: `1e400`, want: 0},
}

func TestNumber(t *testing.T) {
	t.Parallel()
	for _, tc := range numberCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got struct {
				N  Number  `json:"n"`
				P  *Number `json:"p"`
				ID string  `json:"id"`
			}
			doc := fmt.Sprintf(`{"n": %s, "p": %s, "id": "after"}`, tc.raw, tc.raw)
			if err := json.Unmarshal([]byte(doc), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", doc, err)
			}
			if got.N != tc.want {
				t.Errorf("Number from %s = %v, want %v", tc.raw, got.N, tc.want)
			}
			if tc.raw == "null" {
				if got.P != nil {
					t.Errorf("*Number from null = %v, want nil", *got.P)
				}
			} else if got.P == nil || *got.P != tc.want {
				t.Errorf("*Number from %s = %v, want %v", tc.raw, got.P, tc.want)
			}
			if got.ID != "after" {
				t.Errorf("the member after the number was not decoded: %q", got.ID)
			}
		})
	}
}

func TestNumberInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    Number
		want int
	}{
		{name: "an integer is itself", n: 3, want: 3},
		{name: "a fraction rounds to nearest", n: 2.4, want: 2},
		{name: "a half rounds away from zero", n: 2.5, want: 3},
		{name: "a negative half rounds away from zero", n: -2.5, want: -3},
		{name: "a huge number clamps to MaxInt", n: 1e300, want: math.MaxInt},
		{name: "a huge negative number clamps to MinInt", n: -1e300, want: math.MinInt},
		{name: "infinity clamps to MaxInt", n: Number(math.Inf(1)), want: math.MaxInt},
		{name: "NaN is zero", n: Number(math.NaN()), want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.n.Int(); got != tc.want {
				t.Errorf("Number(%v).Int() = %d, want %d", float64(tc.n), got, tc.want)
			}
		})
	}
}

func TestTimeMarshalJSON(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   Time
		want string
	}{
		{name: "absent is null", in: Time{}, want: `null`},
		{name: "UTC is RFC 3339 with Z", in: Time{utc(2026, 2, 20, 10, 0, 0, 0)}, want: `"2026-02-20T10:00:00Z"`},
		{name: "a fraction is kept", in: Time{utc(2026, 2, 20, 10, 0, 4, 250e6)}, want: `"2026-02-20T10:00:04.25Z"`},
		{name: "another zone is converted to UTC", in: Time{time.Date(2026, 2, 20, 11, 0, 0, 0, paris)}, want: `"2026-02-20T10:00:00Z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("Marshal = %s, want %s", got, tc.want)
			}
			var back Time
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("Unmarshal(%s): %v", got, err)
			}
			if !back.Equal(tc.in.Time) {
				t.Errorf("round trip = %v, want %v", back.Time, tc.in.Time)
			}
		})
	}
}

func TestTimePtr(t *testing.T) {
	t.Parallel()
	t.Run("absent is nil", func(t *testing.T) {
		t.Parallel()
		var zero Time
		if p := zero.Ptr(); p != nil {
			t.Errorf("Ptr() = %v, want nil", *p)
		}
		if zero.Valid() {
			t.Error("Valid() = true, want false")
		}
	})
	t.Run("present is a UTC copy", func(t *testing.T) {
		t.Parallel()
		in := Time{time.Date(2026, 2, 20, 11, 0, 0, 0, time.FixedZone("CET", 3600))}
		p := in.Ptr()
		if p == nil || !p.Equal(in.Time) || p.Location() != time.UTC {
			t.Errorf("Ptr() = %v, want %v in UTC", p, in.Time)
		}
		if !in.Valid() {
			t.Error("Valid() = false, want true")
		}
	})
}

// readTestdata returns the bytes of testdata/name.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readJSONObject reads testdata/name as a JSON object, one raw value per key.
func readJSONObject(tb testing.TB, name string) map[string]json.RawMessage {
	tb.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(readTestdata(tb, name), &m); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return m
}

// withFields returns template encoded with the given members replaced by raw
// JSON values; an empty value removes the member.
func withFields(tb testing.TB, template map[string]json.RawMessage, fields map[string]string) []byte {
	tb.Helper()
	m := make(map[string]json.RawMessage, len(template)+len(fields))
	for k, v := range template {
		m[k] = v
	}
	for k, v := range fields {
		if v == "" {
			delete(m, k)
			continue
		}
		m[k] = json.RawMessage(v)
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatalf("encode attempt with %v: %v", fields, err)
	}
	return b
}

// diffAttempt lists the fields where got differs from want. Times compare
// as instants, raw JSON after compaction (so null and absent stay distinct).
func diffAttempt(got, want CallAttempt) []string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	if got.ID != want.ID {
		add("id", got.ID, want.ID)
	}
	if got.PhoneNumber != want.PhoneNumber {
		add("phone_number", got.PhoneNumber, want.PhoneNumber)
	}
	if got.Status != want.Status {
		add("status", got.Status, want.Status)
	}
	if !samePtr(got.Result, want.Result) {
		add("result", show(got.Result), show(want.Result))
	}
	if !samePtr(got.DialError, want.DialError) {
		add("dial_error", show(got.DialError), show(want.DialError))
	}
	for _, f := range []struct {
		name      string
		got, want Time
	}{{"started_at", got.StartedAt, want.StartedAt}, {"answered_at", got.AnsweredAt, want.AnsweredAt}, {"ended_at", got.EndedAt, want.EndedAt}} {
		if !f.got.Equal(f.want.Time) || (!f.got.IsZero() && f.got.Location() != time.UTC) {
			add(f.name, f.got.Time, f.want.Time)
		}
	}
	if !samePtr(got.RecordingURL, want.RecordingURL) {
		add("recording_url", show(got.RecordingURL), show(want.RecordingURL))
	}
	if !samePtr(got.EndReason, want.EndReason) {
		add("end_reason", show(got.EndReason), show(want.EndReason))
	}
	if !samePtr(got.EndedBy, want.EndedBy) {
		add("ended_by", show(got.EndedBy), show(want.EndedBy))
	}
	if !sameRaw(got.StructuredOutput, want.StructuredOutput) {
		add("structured_output", string(got.StructuredOutput), string(want.StructuredOutput))
	}
	gotTurns, gerr := got.Transcript.Turns()
	wantTurns, _ := want.Transcript.Turns()
	if gerr != nil {
		add("transcript error", gerr, nil)
		return d
	}
	if got.Transcript.Present() != want.Transcript.Present() || len(gotTurns) != len(wantTurns) {
		add("len(transcript)", len(gotTurns), len(wantTurns))
		return d
	}
	for i, g := range gotTurns {
		w := wantTurns[i]
		prefix := fmt.Sprintf("transcript[%d].", i)
		if g.Role != w.Role {
			add(prefix+"role", g.Role, w.Role)
		}
		if g.Content != w.Content {
			add(prefix+"content", g.Content, w.Content)
		}
		if !samePtr(g.ToolName, w.ToolName) {
			add(prefix+"tool_name", show(g.ToolName), show(w.ToolName))
		}
		if !sameRaw(g.ToolArguments, w.ToolArguments) {
			add(prefix+"tool_arguments", string(g.ToolArguments), string(w.ToolArguments))
		}
		if !samePtr(g.ToolIsError, w.ToolIsError) {
			add(prefix+"tool_is_error", show(g.ToolIsError), show(w.ToolIsError))
		}
	}
	return d
}

func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%v", *p)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// sameRaw compares two raw JSON values after compaction; an empty value
// (absent member) only equals another empty value.
func sameRaw(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func wantEqual[T comparable](t *testing.T, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
}

func wantPtr[T comparable](t *testing.T, field string, got, want *T) {
	t.Helper()
	if !samePtr(got, want) {
		t.Errorf("%s = %s, want %s", field, show(got), show(want))
	}
}

func wantTime(t *testing.T, field string, got Time, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", field, got.Time, want)
	}
}

func wantRaw(t *testing.T, field string, got json.RawMessage, want string) {
	t.Helper()
	if !sameRaw(got, json.RawMessage(want)) {
		t.Errorf("%s = %#q, want %#q", field, got, want)
	}
}

func TestTimeTextFormsFollowTheJSONRules(t *testing.T) {
	t.Parallel()
	var zero Time
	if b, _ := zero.MarshalText(); len(b) != 0 {
		t.Fatalf("absent time as text = %q, want empty", b)
	}
	var got Time
	if err := got.UnmarshalText([]byte("1771581600000")); err != nil || got.UTC().Format(time.RFC3339) != "2026-02-20T10:00:00Z" {
		t.Fatalf("epoch millis as text = %v, %v", got, err)
	}
	if b, _ := got.MarshalText(); string(b) != "2026-02-20T10:00:00Z" {
		t.Fatalf("MarshalText = %q", b)
	}
	if err := got.UnmarshalText([]byte("yesterday")); err != nil || !got.IsZero() {
		t.Fatalf("unreadable text = %v, %v; want absent, no error", got, err)
	}
}
