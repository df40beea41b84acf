package revox

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const pageWithOneBadTranscript = `{"calls": [
  {"id": "a1", "transcript": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]},
  {"id": "a2", "transcript": [{"role": "user", "content": 42}]},
  {"id": "a3", "transcript": null},
  {"id": "a4", "transcript": []},
  {"id": "a5", "transcript": [{"role": "tool", "content": "", "tool_arguments": {"x": 1}, "tool_is_error": true}]}
]}`

// A transcript the decoder cannot read costs that attempt's transcript, not
// the page: the page decodes, the other transcripts decode, and the bad one
// answers ErrBadResponse when asked for.
func TestATranscriptThatCannotBeDecodedCostsOnlyItself(t *testing.T) {
	t.Parallel()
	t.Run("in a list page", func(t *testing.T) {
		calls, err := decodeListPage([]byte(pageWithOneBadTranscript), everyAttemptField, 100)
		if err != nil {
			t.Fatalf("the page failed: %v", err)
		}
		checkBadTranscriptPage(t, calls)
	})
	t.Run("in a call order", func(t *testing.T) {
		attempts := strings.TrimSuffix(strings.TrimPrefix(pageWithOneBadTranscript, `{"calls": `), "}")
		order := `{"call": {"id": "o1", "call_attempts": ` + attempts + `}}`
		o, err := decodeCallOrder([]byte(order))
		if err != nil {
			t.Fatalf("the order failed: %v", err)
		}
		checkBadTranscriptPage(t, o.CallAttempts)
	})
	t.Run("a page that is not JSON still fails", func(t *testing.T) {
		if _, err := decodeListPage([]byte(`{"calls": [{"id": "a1", "transcript": [}`), everyAttemptField, 100); err == nil {
			t.Fatal("a malformed page decoded")
		}
	})
}

func checkBadTranscriptPage(t *testing.T, calls []CallAttempt) {
	t.Helper()
	if len(calls) != 5 {
		t.Fatalf("%d attempts", len(calls))
	}
	want := map[string]int{"a1": 2, "a3": 0, "a4": 0, "a5": 1}
	for _, a := range calls {
		turns, err := a.Transcript.Turns()
		if a.ID == "a2" {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("a2: err = %v, want ErrBadResponse", err)
			}
			continue
		}
		if err != nil || len(turns) != want[a.ID] {
			t.Fatalf("%s: %d turns, %v; want %d", a.ID, len(turns), err, want[a.ID])
		}
		if present := a.ID != "a3"; a.Transcript.Present() != present || (present && turns == nil) {
			t.Fatalf("%s: present = %v, turns %v", a.ID, a.Transcript.Present(), turns)
		}
	}
	if turns, _ := calls[4].Transcript.Turns(); turns[0].Role != RoleTool || string(turns[0].ToolArguments) != `{"x": 1}` || !*turns[0].ToolIsError {
		t.Fatalf("a5 decoded as %+v", turns[0])
	}
}

// ListCalls decodes transcripts exactly when the fields asked for hold the
// transcript; a page decoded without them has none.
func TestListCallsDecodesTranscriptsWhenAskedFor(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(listPagePayload(t, 3, 4))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "sk_test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		fields AttemptFields
		turns  int
	}{
		{"every field (the zero value)", 0, 4},
		{"with the transcript", AttemptFieldsOf("id", "transcript"), 4},
		{"without the transcript", AllAttemptFields &^ AttemptFieldsOf("transcript"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 3, Fields: tc.fields})
			if err != nil || len(calls) != 3 {
				t.Fatalf("%d attempts, %v", len(calls), err)
			}
			for _, a := range calls {
				if n, err := a.Transcript.Len(); n != tc.turns || err != nil || a.Transcript.Present() != (tc.turns > 0) {
					t.Fatalf("%d turns (present %v), %v; want %d", n, a.Transcript.Present(), err, tc.turns)
				}
			}
		})
	}
}
