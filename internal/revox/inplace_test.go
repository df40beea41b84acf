package revox

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// trickyPage is a page whose strings need every treatment the decoder
// gives: escapes, non-ASCII text raw and escaped, a lone surrogate,
// invalid UTF-8, characters that writers escape differently, nulls.
const trickyPage = "{\"calls\": [" +
	`{"id": "a\"1\\", "phone_number": "+33 6 \u00e9t\u00e9", "status": "completed", "result": null,` +
	` "end_reason": "line\nbreak\ttab", "recording_url": "https://x.test/a?b=1&c=<2>",` +
	` "transcript": [` +
	"{\"role\": \"user\", \"content\": \"caf\xe9 \xff\xfe bytes\"}," +
	`{"role": "assistant", "content": "\ud800 lone, \ud83d\ude00 pair, 日本, \u2028\u2029, </script>"},` +
	`{"role": "tool", "content": "", "tool_name": null, "tool_arguments": {"q": "\u00e9"}, "tool_is_error": false},` +
	`{"role": "user", "content": null}]},` +
	`{"id": "a2", "phone_number": "", "status": "ringing", "transcript": null},` +
	`null,` +
	`{"id": "a3", "status": "completed", "transcript": []}]}`

func TestDecodingInPlaceDecodesWhatCopyingDoes(t *testing.T) {
	t.Parallel()
	for name, body := range map[string][]byte{
		"strings needing every treatment": []byte(trickyPage),
		"a realistic page":                listPagePayload(t, 20, 10),
	} {
		for _, f := range []AttemptFields{everyAttemptField, everyAttemptField &^ fieldTranscript, AttemptFieldsOf("id", "transcript")} {
			want, err := decodeListPage(body, f, 100)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeListPageInPlace(body, f, 100)
			if err != nil {
				t.Fatalf("%s, fields %x: %v", name, f, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, fields %x: decoded in place\n%+v\nwant\n%+v", name, f, got, want)
			}
		}
	}
}

func TestDecodingInPlaceCopiesNoString(t *testing.T) {
	body := listPagePayload(t, 20, 10)
	var strs int // strings decoded: ids, phone numbers, ..., each turn's role and content
	calls, _ := decodeListPage(body, everyAttemptField, 100)
	for _, a := range calls {
		strs += 7 // id, phone_number, status, result, recording_url, end_reason, ended_by
		turns, _ := a.Transcript.Turns()
		strs += 2 * len(turns)
	}
	copying := testing.AllocsPerRun(20, func() { _, _ = decodeListPage(body, everyAttemptField, 100) })
	inPlace := testing.AllocsPerRun(20, func() { _, _ = decodeListPageInPlace(body, everyAttemptField, 100) })
	if saved := copying - inPlace; saved < float64(strs)*0.9 {
		t.Fatalf("decoding in place allocates %.0f objects, copying %.0f: %.0f saved for %d strings", inPlace, copying, saved, strs)
	}
}

// A page read with its transcripts is decoded in place, from a copy of the
// body of its own: the buffers bodies are read into are reused by the
// next requests, which must not change it.
func TestPagesDecodedInPlaceKeepTheirStringsWhenBodyBuffersAreReused(t *testing.T) {
	const n = 20
	pages := []string{string(listPagePayload(t, n, 10)), strings.ReplaceAll(string(listPagePayload(t, n, 10)), "Bonjour", "Bonsoir")}
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(pages[len(r.URL.Query().Get("page"))%2]))
	})
	c := newTestClient(t, u)
	first, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: n, Page: 0})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(first)
	for page := 10; page < 30; page++ {
		if _, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: n, Page: page}); err != nil {
			t.Fatal(err)
		}
		// Whatever buffer the pool holds is scribbled over, as a reuse
		// for any other body would.
		buf := bodyBuffers.Get().(*[]byte)
		b := (*buf)[:cap(*buf)]
		for i := range b {
			b[i] = 'x'
		}
		bodyBuffers.Put(buf)
	}
	if got, _ := json.Marshal(first); string(got) != string(want) {
		t.Fatalf("the first page changed as other pages were read:\n%.300s\nwas\n%.300s", got, want)
	}
}
