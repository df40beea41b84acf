package revox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

const pageWithOneBadTranscript = `{"calls": [
  {"id": "a1", "transcript": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]},
  {"id": "a2", "transcript": [{"role": "user", "content": 42}]},
  {"id": "a3", "transcript": null},
  {"id": "a4", "transcript": []},
  {"id": "a5", "transcript": [{"role": "tool", "content": "", "tool_arguments": {"x": 1}, "tool_is_error": true}]}
]}`

// A transcript the decoder cannot read costs that attempt's transcript, no
// longer the page: the page decodes, the other transcripts decode, and the
// bad one answers ErrBadResponse when asked for.
func TestATranscriptThatCannotBeDecodedCostsOnlyItself(t *testing.T) {
	t.Parallel()
	for name, decode := range map[string]func([]byte) ([]CallAttempt, error){"eagerly": decodeListPage, "lazily": decodeListPageLazily} {
		calls, err := decode([]byte(pageWithOneBadTranscript))
		if err != nil {
			t.Fatalf("%s: the page failed: %v", name, err)
		}
		checkBadTranscriptPage(t, calls)
	}
	// A page that is not JSON still fails.
	if _, err := decodeListPage([]byte(`{"calls": [{"id": "a1", "transcript": [}`)); err == nil {
		t.Fatal("a malformed page decoded")
	}
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

// Transcripts are decoded once per response, on first use, whoever asks:
// the attempts of a page are shared by concurrent requests (coalescing,
// cache), so this runs under the race detector in ./test.sh.
func TestTranscriptsDecodeOnceUnderConcurrentUse(t *testing.T) {
	t.Parallel()
	calls, err := decodeListPageLazily(listPagePayload(t, 100, 10))
	if err != nil {
		t.Fatal(err)
	}
	g := calls[0].Transcript.l.group
	if g == nil || len(g.members) != 100 {
		t.Fatalf("the page's transcripts are not grouped")
	}
	for _, a := range calls {
		if a.Transcript.l.turns != nil {
			t.Fatal("a transcript was decoded before anyone asked")
		}
	}
	var wg sync.WaitGroup
	results := make([][]*TranscriptEntry, 8)
	for w := range results {
		wg.Go(func() {
			for i := range calls {
				turns, err := calls[(i+w*13)%len(calls)].Transcript.Turns()
				if err != nil || len(turns) != 10 {
					t.Errorf("attempt %d: %d turns, %v", i, len(turns), err)
					return
				}
				results[w] = append(results[w], &turns[0])
			}
		})
	}
	wg.Wait()
	first, _ := calls[0].Transcript.Turns()
	again, _ := calls[0].Transcript.Turns()
	if &first[0] != &again[0] {
		t.Fatal("the turns were decoded twice")
	}
}

// ListCalls decodes transcripts in the same pass as the page unless the
// caller said it will not read them.
func TestListCallsDecodesTranscriptsUnlessToldNotTo(t *testing.T) {
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
		ctx     context.Context
		decoded bool
	}{{t.Context(), true}, {WithoutTranscripts(t.Context()), false}} {
		calls, err := c.ListCalls(tc.ctx, ListCallsOptions{PageSize: 3})
		if err != nil || len(calls) != 3 {
			t.Fatalf("%d attempts, %v", len(calls), err)
		}
		for _, a := range calls {
			if decoded := a.Transcript.l.turns != nil; decoded != tc.decoded {
				t.Fatalf("decoded before use = %v, want %v", decoded, tc.decoded)
			}
		}
		for _, a := range calls {
			if n, err := a.Transcript.Len(); n != 4 || err != nil {
				t.Fatalf("%d turns, %v", n, err)
			}
		}
	}
}
