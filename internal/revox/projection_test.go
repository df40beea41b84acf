package revox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A projected page holds exactly the fields asked for, with the values a
// whole decoding gives, and zero everywhere else.
func TestProjectedPagesHoldTheirFieldsAlone(t *testing.T) {
	t.Parallel()
	payload := listPagePayload(t, 20, 3)
	whole, err := decodeListPage(payload, everyAttemptField, 100)
	if err != nil {
		t.Fatal(err)
	}
	attempt := reflect.TypeFor[CallAttempt]()
	if len(attemptKeys) != attempt.NumField() {
		t.Fatalf("%d AttemptFields bits for %d CallAttempt fields: a projection could never hold some", len(attemptKeys), attempt.NumField())
	}
	bitOf := func(j int) AttemptFields { return AttemptFieldsOf(attemptKeys[j]) }
	for _, f := range []AttemptFields{
		AttemptFieldsOf("id"),
		AttemptFieldsOf("id", "status", "started_at"),
		AttemptFieldsOf("answered_at", "ended_at", "structured_output"),
		everyAttemptField &^ fieldTranscript,
	} {
		got, err := decodeListPage(payload, f, 100)
		if err != nil || len(got) != len(whole) {
			t.Fatalf("%x: %d attempts, %v", f, len(got), err)
		}
		for i := range got {
			g, w := reflect.ValueOf(got[i]), reflect.ValueOf(whole[i])
			for j := range attempt.NumField() {
				name := attempt.Field(j).Name
				switch {
				case name == "Transcript":
					if got[i].Transcript.Present() {
						t.Fatalf("%x: attempt %d has a transcript", f, i)
					}
				case f&bitOf(j) != 0:
					if !reflect.DeepEqual(g.Field(j).Interface(), w.Field(j).Interface()) {
						t.Fatalf("%x: attempt %d %s = %v, whole decoding %v", f, i, name, g.Field(j), w.Field(j))
					}
				case !g.Field(j).IsZero():
					t.Fatalf("%x: attempt %d %s = %v, not asked for", f, i, name, g.Field(j))
				}
			}
		}
	}
}

// Callers asking for different fields of the same page get one upstream
// request each; callers asking for the same fields share one.
func TestProjectionsAreCoalescedApart(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		<-release
		_, _ = w.Write(listPagePayload(t, 3, 1))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "sk_test")
	if err != nil {
		t.Fatal(err)
	}
	ctxs := []struct {
		fields AttemptFields
		n      int
	}{{AttemptFieldsOf("id"), 3}, {AttemptFieldsOf("id"), 3}, {AttemptFieldsOf("id", "status"), 2}, {AllAttemptFields, 2}}
	var wg sync.WaitGroup
	for _, tc := range ctxs {
		for range tc.n {
			wg.Go(func() {
				calls, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 3, Fields: tc.fields})
				if err != nil || len(calls) != 3 || calls[2].ID == "" {
					t.Errorf("%x: %d attempts, %v", tc.fields, len(calls), err)
				}
			})
		}
	}
	// Wait until every caller has started or joined a flight, then let the
	// upstream answer.
	deadline := time.Now().Add(5 * time.Second)
	for {
		waiters := coalescerOf(t, c).waiters()
		flights, callers := len(waiters), 0
		for _, n := range waiters {
			callers += n
		}
		if callers == 10 {
			if flights != 3 {
				t.Fatalf("%d flights for 10 callers, want 3 (ids, ids+status, whole)", flights)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers in %d flights after 5s", callers, flights)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := requests.Load(); n != 3 {
		t.Fatalf("%d upstream requests, want 3 (ids, ids+status, whole)", n)
	}
}

// The buffer an upstream body is read into is reused once the body is
// decoded: nothing decoded may point into it. Each decoding reads a body,
// the body is overwritten, and what was decoded must still equal a
// decoding of an untouched copy, transcripts decoded afterwards included.
func TestDecodedPagesKeepNothingOfTheBody(t *testing.T) {
	t.Parallel()
	page := listPagePayload(t, 10, 3)
	order := []byte(`{"call": {"id": "ord_1", "status": "completed", "metadata": {"k": "v"}, "assistant": {"a": 1},
	  "call_attempts": [{"id": "att_2", "status": "completed", "structured_output": {"x": 1},
	    "transcript": [{"role": "user", "content": "hello", "tool_arguments": {"q": "r"}}]}],
	  "last_call_attempt": {"id": "att_2", "status": "completed", "transcript": [{"role": "assistant", "content": "hi"}]}}}`)
	scribble := func(b []byte) {
		for i := range b {
			b[i] = 'x'
		}
	}
	turns := func(attempts []CallAttempt) [][]TranscriptEntry {
		var out [][]TranscriptEntry
		for _, a := range attempts {
			tt, err := a.Transcript.Turns()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tt)
		}
		return out
	}
	withoutTranscripts := func(attempts []CallAttempt) []CallAttempt {
		out := slices.Clone(attempts)
		for i := range out {
			out[i].Transcript = Transcript{}
		}
		return out
	}
	for name, decode := range map[string]func([]byte) ([]CallAttempt, error){
		"whole": func(b []byte) ([]CallAttempt, error) { return decodeListPage(b, everyAttemptField, 100) },
		"projected": func(b []byte) ([]CallAttempt, error) {
			return decodeListPage(b, everyAttemptField&^fieldTranscript, 100)
		},
		"order": func(b []byte) ([]CallAttempt, error) {
			o, err := decodeCallOrder(b)
			if err != nil {
				return nil, err
			}
			if string(o.Metadata) != `{"k": "v"}` || string(o.Assistant) != `{"a": 1}` {
				return nil, fmt.Errorf("order decoded as %s, %s", o.Metadata, o.Assistant)
			}
			return append(o.CallAttempts, *o.LastCallAttempt), nil
		},
	} {
		body := page
		if name == "order" {
			body = order
		}
		want, err := decode(slices.Clone(body))
		if err != nil {
			t.Fatal(err)
		}
		buf := slices.Clone(body)
		got, err := decode(buf)
		if err != nil {
			t.Fatal(err)
		}
		scribble(buf)
		if name == "order" {
			if _, err := decodeCallOrder(slices.Clone(order)); err != nil {
				t.Fatal(err)
			}
		}
		if !reflect.DeepEqual(withoutTranscripts(got), withoutTranscripts(want)) {
			t.Fatalf("%s: attempts changed when the body was overwritten", name)
		}
		if !reflect.DeepEqual(turns(got), turns(want)) {
			t.Fatalf("%s: transcripts changed when the body was overwritten", name)
		}
	}
}
