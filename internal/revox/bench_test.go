package revox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// BenchmarkDecodeListPage decodes a full page of GET /call: 100 attempts with
// ten-turn transcripts, tool calls and structured output, the largest page a
// GraphQL query is expected to pull, through the one list decoder: whole
// (transcripts in the same pass, as when a request selects them), every
// field but the transcript, and a few fields alone (as for a request reading
// only those).
func BenchmarkDecodeListPage(b *testing.B) {
	payload := listPagePayload(b, 100, 10)
	for _, tc := range []struct {
		name    string
		fields  AttemptFields
		inPlace bool
	}{
		{"eager", AllAttemptFields, false},
		{"eager-in-place", AllAttemptFields, true}, // as the client decodes it, from a copy of the body
		{"no-transcript", AllAttemptFields &^ AttemptFieldsOf("transcript"), false},
		{"ids", AttemptFieldsOf("id"), false},
		{"four-fields", AttemptFieldsOf("id", "status", "phone_number", "started_at"), false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			fields := tc.fields.normal()
			decode := func() ([]CallAttempt, error) {
				if tc.inPlace {
					return decodeListPageInPlace(bytes.Clone(payload), fields, 100)
				}
				return decodeListPage(payload, fields, 100)
			}
			cpu := cpuTime()
			for b.Loop() {
				calls, err := decode()
				if err != nil || len(calls) != 100 {
					b.Fatalf("decoded %d attempts, %v", len(calls), err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func TestListPagePayloadIsRealistic(t *testing.T) {
	t.Parallel()
	payload := listPagePayload(t, 100, 10)
	if n := len(payload); n < 100<<10 || n > 300<<10 {
		t.Errorf("payload is %d bytes, want between 100 KB and 300 KB", n)
	}
	var page listCallsResponse
	if err := json.Unmarshal(payload, &page); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if len(page.Calls) != 100 {
		t.Fatalf("decoded %d attempts, want 100", len(page.Calls))
	}
	for _, a := range page.Calls {
		turns, err := a.Transcript.Len()
		if err != nil || turns != 10 || !a.StartedAt.Valid() || !a.EndedAt.Valid() || len(a.StructuredOutput) == 0 {
			t.Fatalf("attempt %s is incomplete: %d turns (%v), started %v, ended %v, structured output %s",
				a.ID, turns, err, a.StartedAt.Time, a.EndedAt.Time, a.StructuredOutput)
		}
	}
}

// listPagePayload builds a GET /call body of n completed attempts, each with
// a transcript of turns entries in which every fifth one is a tool call.
func listPagePayload(tb testing.TB, n, turns int) []byte {
	tb.Helper()
	start := time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)
	lines := []string{
		"Bonjour, c'est Julie de l'agence Revox. Je vous appelle suite à votre demande de devis sur notre site, vous avez deux minutes ?",
		"Oui, allez-y, mais rapidement s'il vous plaît, je suis entre deux réunions.",
		"Bien sûr. Vous aviez indiqué un projet de rénovation de cuisine d'environ quinze mètres carrés, c'est toujours d'actualité ?",
		"Oui, on voudrait commencer les travaux avant l'été si possible, le budget serait autour de douze mille euros.",
	}
	calls := make([]map[string]any, n)
	for i := range calls {
		begin := start.Add(time.Duration(i) * 7 * time.Minute)
		transcript := make([]map[string]any, turns)
		for j := range transcript {
			if j%5 == 4 {
				transcript[j] = map[string]any{
					"role":          "tool",
					"content":       `{"ok":true,"slot":"2026-02-23T10:30:00+01:00"}`,
					"tool_name":     "book_meeting",
					"tool_is_error": false,
					"tool_arguments": map[string]any{
						"date": "2026-02-23", "slot": "10:30", "duration_minutes": 30,
						"attendee": map[string]string{"name": "Camille Martin", "email": "camille.martin@example.fr"},
					},
				}
				continue
			}
			role := "assistant"
			if j%2 == 1 {
				role = "user"
			}
			transcript[j] = map[string]any{"role": role, "content": lines[j%len(lines)]}
		}
		calls[i] = map[string]any{
			"id":            fmt.Sprintf("att_01JMCQ%020d", i),
			"phone_number":  fmt.Sprintf("+336%08d", 12345678+i),
			"status":        "completed",
			"result":        []string{"human", "voicemail", "IVR", "unknown"}[i%4],
			"dial_error":    nil,
			"started_at":    begin.Format(time.RFC3339Nano),
			"answered_at":   begin.Add(4250 * time.Millisecond).Format(time.RFC3339Nano),
			"ended_at":      begin.Add(3*time.Minute + 12*time.Second).Format(time.RFC3339),
			"recording_url": fmt.Sprintf("https://cdn.getrevox.com/recordings/att_01JMCQ%020d.ogg", i),
			"end_reason":    "tool_end_call",
			"ended_by":      "agent",
			"structured_output": map[string]any{
				"interested": i%3 != 0, "callback_date": "2026-02-23", "budget_eur": 12000,
				"project": "rénovation cuisine", "notes": "Souhaite commencer avant l'été, rappeler après 18h.",
			},
			"transcript": transcript,
		}
	}
	b, err := json.Marshal(map[string]any{"calls": calls})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
