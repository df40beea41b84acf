package revox

import (
	"encoding/json"
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
