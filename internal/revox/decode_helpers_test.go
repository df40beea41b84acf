package revox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

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
