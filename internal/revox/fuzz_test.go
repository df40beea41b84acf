package revox

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"
)

// FuzzParseTimestamp feeds ParseTimestamp any bytes. It must not panic;
// "unreadable" must come with the zero time; a readable instant must be in UTC
// and survive a round trip through RFC 3339 and through Time's own JSON codec.
func FuzzParseTimestamp(f *testing.F) {
	for _, tc := range timestampCases {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := ParseTimestamp(data)
		if !ok && !got.IsZero() {
			t.Fatalf("ParseTimestamp(%q) = %v, false: unreadable must be the zero time", data, got)
		}

		var viaJSON Time
		if err := viaJSON.UnmarshalJSON(data); err != nil {
			t.Fatalf("Time.UnmarshalJSON(%q) failed: %v", data, err)
		}
		if !viaJSON.Equal(got) {
			t.Fatalf("Time.UnmarshalJSON(%q) = %v, ParseTimestamp = %v", data, viaJSON.Time, got)
		}

		if got.IsZero() {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTimestamp(%q) = %v, not in UTC", data, got)
		}
		s := got.Format(time.RFC3339Nano)
		back, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("ParseTimestamp(%q) = %v, which formats as %q that does not parse back: %v", data, got, s, err)
		}
		if !back.Equal(got) {
			t.Fatalf("ParseTimestamp(%q) = %v, round trip through %q gives %v", data, got, s, back)
		}
		encoded, err := viaJSON.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%v): %v", got, err)
		}
		again, ok := ParseTimestamp(encoded)
		if !ok || !again.Equal(got) {
			t.Fatalf("ParseTimestamp(%q) = %v, re-reading our own %s gives %v, %v", data, got, encoded, again, ok)
		}
	})
}

// FuzzNumber feeds Number any bytes. It must never fail, never hold NaN or an
// infinity, read every finite JSON number exactly as strconv does, and decode
// the same inside a document as on its own.
func FuzzNumber(f *testing.F) {
	for _, tc := range numberCases {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n Number
		if err := n.UnmarshalJSON(data); err != nil {
			t.Fatalf("Number.UnmarshalJSON(%q) failed: %v", data, err)
		}
		if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
			t.Fatalf("Number.UnmarshalJSON(%q) = %v, want a finite number", data, float64(n))
		}
		_ = n.Int()

		if !json.Valid(data) {
			return
		}
		var doc struct {
			N     Number `json:"n"`
			After string `json:"after"`
		}
		if err := json.Unmarshal([]byte(`{"n":`+string(data)+`,"after":"x"}`), &doc); err != nil {
			t.Fatalf("a document with n = %q failed to decode: %v", data, err)
		}
		if doc.N != n || doc.After != "x" {
			t.Fatalf("inside a document %q decodes as %v (after %q), alone as %v", data, doc.N, doc.After, n)
		}
		var literal json.Number
		if json.Unmarshal(data, &literal) == nil {
			if f, err := strconv.ParseFloat(string(literal), 64); err == nil && n != Number(f) {
				t.Fatalf("JSON number %s decodes as %v, want %v", literal, float64(n), f)
			}
		}
	})
}

// FuzzDecodeCallAttempt decodes arbitrary bytes as an attempt, a list page
// and an order (never a panic), then builds well-shaped JSON around fuzzed
// enum strings and a fuzzed timestamp value: that must always decode, keep
// the strings verbatim and read the timestamp as ParseTimestamp does.
func FuzzDecodeCallAttempt(f *testing.F) {
	for _, name := range []string{"list_page.json", "call_order.json", "call_order_minimal.json", "call_attempt.json"} {
		f.Add(readTestdata(f, name), "completed", "human", []byte(`"2026-02-20T10:00:00Z"`))
	}
	for _, tc := range timestampCases {
		f.Add([]byte(`{"calls":[]}`), "ongoing", "fax", []byte(tc.raw))
	}
	for _, s := range []string{"queued", "ringing", "error", "", "répondeur", "\xff", `"`} {
		f.Add([]byte(`{"id":"att_1"}`), s, "IVR", []byte(`1771581600`))
	}

	f.Fuzz(func(t *testing.T, data []byte, status, result string, stamp []byte) {
		var attempt CallAttempt
		_ = json.Unmarshal(data, &attempt)
		if calls, err := decodeListPage(data, everyAttemptField, 3); err == nil && len(calls) > 3 {
			t.Fatalf("a page of at most 3 attempts decoded %d", len(calls))
		}
		_, _ = decodeListPage(data, AttemptFieldsOf("id", "structured_output"), 100)
		var order getCallResponse
		_ = decodeJSON(data, &order)

		stampJSON := json.RawMessage(stamp)
		if !json.Valid(stamp) {
			stampJSON = mustMarshal(t, string(stamp))
		}
		wantTime, ok := ParseTimestamp(stampJSON)
		if !ok {
			wantTime = time.Time{}
		}
		wantStatus, wantResult := viaJSON(t, status), viaJSON(t, result)

		shaped := map[string]json.RawMessage{
			"id":                json.RawMessage(`"att_fuzz"`),
			"phone_number":      json.RawMessage(`"+33612345678"`),
			"status":            mustMarshal(t, status),
			"result":            mustMarshal(t, result),
			"dial_error":        mustMarshal(t, result),
			"ended_by":          mustMarshal(t, status),
			"end_reason":        mustMarshal(t, result),
			"started_at":        stampJSON,
			"answered_at":       stampJSON,
			"ended_at":          stampJSON,
			"structured_output": stampJSON,
			"transcript": mustMarshal(t, []map[string]json.RawMessage{{
				"role":           mustMarshal(t, status),
				"content":        mustMarshal(t, result),
				"tool_arguments": stampJSON,
			}}),
		}
		body := mustMarshal(t, map[string]any{"calls": []any{shaped}})
		calls, err := decodeListPage(body, everyAttemptField, 100)
		if err != nil {
			t.Fatalf("a well-shaped page failed to decode: %v\n%s", err, body)
		}
		if len(calls) != 1 {
			t.Fatalf("decoded %d attempts, want 1", len(calls))
		}
		got := calls[0]
		if string(got.Status) != wantStatus || string(deref(got.Result)) != wantResult ||
			string(deref(got.DialError)) != wantResult || string(deref(got.EndedBy)) != wantStatus {
			t.Fatalf("enums not kept verbatim: status %q result %q dial_error %q ended_by %q, want %q and %q",
				got.Status, show(got.Result), show(got.DialError), show(got.EndedBy), wantStatus, wantResult)
		}
		for _, ts := range []Time{got.StartedAt, got.AnsweredAt, got.EndedAt} {
			if !ts.Equal(wantTime) {
				t.Fatalf("timestamp %s decoded as %v, ParseTimestamp says %v", stampJSON, ts.Time, wantTime)
			}
		}
		if turns, err := got.Transcript.Turns(); err != nil || len(turns) != 1 || string(turns[0].Role) != wantStatus {
			t.Fatalf("transcript = %+v (%v), want one turn with role %q", turns, err, wantStatus)
		}

		orderBody := mustMarshal(t, map[string]any{"call": map[string]any{
			"id":                "ord_fuzz",
			"direction":         status,
			"status":            status,
			"outcome":           result,
			"calls_count":       stampJSON,
			"next_call_at":      stampJSON,
			"scheduled_at":      stampJSON,
			"created_at":        stampJSON,
			"metadata":          stampJSON,
			"assistant":         stampJSON,
			"llm_model":         map[string]string{"type": result},
			"call_attempts":     []any{shaped},
			"last_call_attempt": shaped,
		}})
		order = getCallResponse{}
		if err := json.Unmarshal(orderBody, &order); err != nil {
			t.Fatalf("a well-shaped order failed to decode: %v\n%s", err, orderBody)
		}
		o := order.Call
		if o == nil || string(o.Direction) != wantStatus || string(deref(o.Status)) != wantStatus || o.LlmModel.Type != wantResult {
			t.Fatalf("order enums not kept verbatim: %+v", o)
		}
		if !o.CreatedAt.Equal(wantTime) || !o.LastCallAttempt.StartedAt.Equal(wantTime) {
			t.Fatalf("order timestamps %v, %v, want %v", o.CreatedAt.Time, o.LastCallAttempt.StartedAt.Time, wantTime)
		}
	})
}

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	return b
}

// viaJSON returns s as it reads back after encoding/json wrote it: invalid
// UTF-8 becomes U+FFFD on the way.
func viaJSON(t *testing.T, s string) string {
	t.Helper()
	var back string
	if err := json.Unmarshal(mustMarshal(t, s), &back); err != nil {
		t.Fatalf("round trip of %q: %v", s, err)
	}
	return back
}
