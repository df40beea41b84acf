package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/graph/fastpath"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
)

// Pages read with their transcripts are decoded in place: their strings
// refer to the upstream body. Whatever the upstream's strings hold, the
// fast path must answer what the executor does, byte for byte, and both
// what the decoder makes of them: escapes decoded, invalid UTF-8 and lone
// surrogates replaced by U+FFFD, nulls kept.
func TestUpstreamStringsAreAnsweredAsTheExecutorAnswersThem(t *testing.T) {
	t.Parallel()
	attempts := []string{
		`{"id": "a\"1\\", "phone_number": "+33 6 \u00e9t\u00e9", "status": "completed", "result": null,` +
			` "end_reason": "line\nbreak\ttab\u0001", "recording_url": "https://x.test/a?b=1&c=<2>",` +
			` "structured_output": {"note": "caf\u00e9 \ud800"}, "transcript": [` +
			"{\"role\": \"user\", \"content\": \"caf\xe9 \xff\xfe bytes\"}," +
			`{"role": "assistant", "content": "\ud800 lone, \ud83d\ude00 pair, 日本, \u2028\u2029, </script>"},` +
			`{"role": "tool", "content": "", "tool_name": null, "tool_arguments": {"q": "\u00e9"}, "tool_is_error": false},` +
			`{"role": "user", "content": "plain ascii"}]}`,
		`{"id": "a2", "phone_number": "", "status": "ringing", "transcript": null}`,
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		size, _ := strconv.Atoi(r.URL.Query().Get("page_size"))
		lo, hi := min(max(page, 0)*size, len(attempts)), min(max(page+1, 0)*size, len(attempts))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"calls": [` + strings.Join(attempts[lo:hi], ",") + `]}`))
	}))
	t.Cleanup(up.Close)
	fp := fastpath.New()
	newGateway := func(fast bool) string {
		client, err := revox.New(up.URL, "key", revox.WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), DisableFastPath: !fast, FastPath: fp}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	fast, slow := newGateway(true), newGateway(false)
	query := fullPageQuery
	f, s := post(t, fast, query, nil), post(t, slow, query, nil)
	if len(f.Errors) > 0 || len(s.Errors) > 0 {
		t.Fatalf("errors: fast %s, executor %s", f.raw, s.raw)
	}
	if fp.Writes() < int64(2*len(attempts)+4) {
		t.Fatalf("the fast path wrote %d objects: it did not write the page", fp.Writes())
	}
	if !bytes.Equal(f.Data, s.Data) {
		t.Fatalf("the fast path answers\n%s\nthe executor\n%s", f.Data, s.Data)
	}
	var data struct {
		Calls struct {
			Edges []struct {
				Node struct {
					ID, PhoneNumber string
					EndReason       *string
					Transcript      []struct {
						Content  string
						ToolName *string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(f.Data, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Calls.Edges) != len(attempts) {
		t.Fatalf("%d edges, want %d: %s", len(data.Calls.Edges), len(attempts), f.Data)
	}
	n := data.Calls.Edges[0].Node
	for _, c := range []struct{ what, got, want string }{
		{"an id with escapes", n.ID, `a"1\`},
		{"escaped non-ASCII", n.PhoneNumber, "+33 6 été"},
		{"control characters", *n.EndReason, "line\nbreak\ttab\u0001"},
		{"invalid UTF-8", n.Transcript[0].Content, "caf\uFFFD \uFFFD\uFFFD bytes"},
		{"a lone surrogate, a pair, raw non-ASCII", n.Transcript[1].Content, "\uFFFD lone, 😀 pair, 日本, \u2028\u2029, </script>"},
		{"an empty string", n.Transcript[2].Content, ""},
		{"plain ASCII", n.Transcript[3].Content, "plain ascii"},
	} {
		if c.got != c.want {
			t.Errorf("%s: answered %q, want %q", c.what, c.got, c.want)
		}
	}
	if n.Transcript[2].ToolName != nil {
		t.Errorf("a null tool name is answered %q", *n.Transcript[2].ToolName)
	}
}
