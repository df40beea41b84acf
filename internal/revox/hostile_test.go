package revox

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// Redirects are never followed: the key would go wherever the upstream
// points, and another host's JSON would be served as Revox data.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write([]byte(`{"calls": [{"id": "not-revox"}], "call": {"id": "not-revox"}}`))
	}))
	t.Cleanup(other.Close)
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, target := range []struct{ name, url string }{
			{"another host", other.URL + "/call"},
			{"the same host over http", "/elsewhere/call"},
		} {
			t.Run(http.StatusText(status)+" to "+target.name, func(t *testing.T) {
				t.Parallel()
				u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
					if strings.HasPrefix(r.URL.Path, "/elsewhere") {
						elsewhere.Add(1)
						_, _ = w.Write([]byte(`{"calls": []}`))
						return
					}
					http.Redirect(w, r, target.url, status)
				})
				// A caller's client that follows redirects is tamed too.
				c := newTestClient(t, u, WithHTTPClient(&http.Client{}))
				for _, call := range clientCalls {
					err := call.do(t.Context(), c)
					checkSentinel(t, err, ErrRedirect)
					var apiErr *APIError
					if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
						t.Fatalf("%s: err = %v, want an *APIError with status %d", call.name, err, status)
					}
				}
				if n := len(u.received()); n != len(clientCalls) {
					t.Fatalf("%d requests to the upstream, want %d", n, len(clientCalls))
				}
			})
		}
	}
	if elsewhere.Load() != 0 {
		t.Fatalf("a redirect was followed %d times", elsewhere.Load())
	}
}

func init() {
	// ErrRedirect is one of the package's sentinels.
	sentinels = append(sentinels, ErrRedirect)
}

// A list body must have a "calls" array: anything else is a bad response,
// not an empty page, and is never cached.
func TestListBodiesWithoutCallsAreBadResponses(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `null`, `{"calls": null}`, `{"call": []}`, `{"calls": {}}`, `{"calls": "[]"}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
			c := newTestClient(t, u, WithCache(time.Minute, 16))
			for range 2 {
				calls, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
				checkSentinel(t, err, ErrBadResponse)
				if calls != nil {
					t.Fatalf("decoded %v", calls)
				}
			}
			if n := len(u.received()); n != 2 {
				t.Fatalf("%d upstream requests for 2 calls: the bad response was cached", n)
			}
		})
	}
	t.Run("more attempts than the page holds", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"calls": [{"id": "a1"}, {"id": "a2"}, {"id": "a3"}]}`)
		})
		_, err := newTestClient(t, u).ListCalls(t.Context(), ListCallsOptions{PageSize: 2})
		checkSentinel(t, err, ErrBadResponse)
	})
	t.Run("an empty array is an empty page", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"calls": []}`) })
		calls, err := newTestClient(t, u).ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
		if err != nil || calls == nil || len(calls) != 0 {
			t.Fatalf("ListCalls = %v, %v; want an empty page", calls, err)
		}
	})
}

// An upstream echoing the key in its error, in any letter case, has it
// redacted.
func TestTheKeyIsRedactedFromUpstreamErrorsInAnyCase(t *testing.T) {
	t.Parallel()
	for _, echo := range []string{testKey, strings.ToUpper(testKey), strings.ToLower(testKey), "Sk_TeSt_sEcReT123"} {
		t.Run(echo, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"message": "invalid key `+echo+` (key `+echo+`)"}`)
			})
			_, err := newTestClient(t, u).ListCalls(t.Context(), ListCallsOptions{PageSize: 1})
			if err == nil || strings.Contains(strings.ToLower(err.Error()), strings.ToLower(testKey)) {
				t.Fatalf("err = %v, want the key redacted", err)
			}
			if strings.Count(err.Error(), "[REDACTED]") != 2 {
				t.Fatalf("err = %v, want both echoes redacted", err)
			}
		})
	}
}

// Values kept as upstream JSON reach clients as they are: invalid UTF-8 and
// escaped lone surrogates in them become U+FFFD, as in strings.
func TestVerbatimJSONValuesAreValidUTF8(t *testing.T) {
	t.Parallel()
	const dirty = "{\"note\": \"caf\xe9 \\ud800 ok \\ud83d\\ude00 \\\\ud800 \xff\"}"
	const clean = `{"note": "caf` + "\uFFFD" + ` \ufffd ok \ud83d\ude00 \\ud800 ` + "\uFFFD" + `"}`
	page := `{"calls": [{"id": "a1", "structured_output": ` + dirty + `,
	  "transcript": [{"role": "tool", "content": "x", "tool_arguments": ` + dirty + `}]}]}`
	order := `{"call": {"id": "o1", "metadata": ` + dirty + `, "assistant": ` + dirty + `, "assignee": ` + dirty + `,
	  "campaign": ` + dirty + `, "contact": ` + dirty + `, "call_attempts": [{"id": "a1", "structured_output": ` + dirty + `}],
	  "last_call_attempt": {"id": "a1", "transcript": [{"role": "tool", "content": "x", "tool_arguments": ` + dirty + `}]}}}`
	check := func(t *testing.T, what string, raw json.RawMessage) {
		t.Helper()
		if string(raw) != clean || !utf8.Valid(raw) || !json.Valid(raw) {
			t.Errorf("%s = %q, want %q", what, raw, clean)
		}
	}
	for _, f := range []AttemptFields{everyAttemptField, AttemptFieldsOf("id", "structured_output")} {
		calls, err := decodeListPage([]byte(page), f, 100)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "structured_output", calls[0].StructuredOutput)
		if turns, _ := calls[0].Transcript.Turns(); f&fieldTranscript != 0 {
			check(t, "tool_arguments", turns[0].ToolArguments)
		}
	}
	o, err := decodeCallOrder([]byte(order))
	if err != nil {
		t.Fatal(err)
	}
	for what, raw := range map[string]json.RawMessage{"metadata": o.Metadata, "assistant": o.Assistant, "assignee": o.Assignee,
		"campaign": o.Campaign, "contact": o.Contact, "attempt structured_output": o.CallAttempts[0].StructuredOutput} {
		check(t, what, raw)
	}
	turns, _ := o.LastCallAttempt.Transcript.Turns()
	check(t, "order tool_arguments", turns[0].ToolArguments)

	t.Run("clean values are kept as they are", func(t *testing.T) {
		for _, raw := range []string{`{"a": "\u00e9\ud83d\ude00\\ud800"}`, `"plain"`, `[1, 2]`, `null`} {
			in := json.RawMessage(raw)
			if got := cleanJSON(in); string(got) != raw || &got[0] != &in[0] {
				t.Errorf("cleanJSON(%s) = %s, a copy or a change", raw, got)
			}
		}
	})
}

// The oldest call_retry_config is flat; it reads as one calling window.
func TestBothRetryConfigShapesDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config string
	}{
		{"the calling_windows shape", `{"calling_windows": [{"calling_window_start_time": "10:00", "calling_window_end_time": "18:00",
		  "retry_delay_seconds": 7200}], "max_retry_attempts": 3, "timezone": "Europe/Paris"}`},
		{"the flat shape", `{"calling_window_start_time": "10:00", "calling_window_end_time": "18:00", "retry_delay_seconds": 7200,
		  "max_retry_attempts": 3, "timezone": "Europe/Paris"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := decodeCallOrder([]byte(`{"call": {"id": "o1", "call_retry_config": ` + tc.config + `}}`))
			if err != nil {
				t.Fatal(err)
			}
			rc := o.CallRetryConfig
			if rc == nil || len(rc.CallingWindows) != 1 || rc.MaxRetryAttempts == nil || *rc.MaxRetryAttempts != 3 || rc.Timezone == nil || *rc.Timezone != "Europe/Paris" {
				t.Fatalf("decoded %+v", rc)
			}
			w := rc.CallingWindows[0]
			if w.StartTime != "10:00" || w.EndTime != "18:00" || w.RetryDelaySeconds == nil || *w.RetryDelaySeconds != 7200 {
				t.Fatalf("window %+v", w)
			}
		})
	}
	t.Run("a config with neither has no window", func(t *testing.T) {
		o, err := decodeCallOrder([]byte(`{"call": {"id": "o1", "call_retry_config": {"max_retry_attempts": 2}}}`))
		if err != nil || o.CallRetryConfig == nil || len(o.CallRetryConfig.CallingWindows) != 0 {
			t.Fatalf("decoded %+v, %v", o.CallRetryConfig, err)
		}
	})
}

// The newest documented fields decode: who handled an attempt, the
// assistants it went through, and the order's assignee, campaign and
// contact as JSON.
func TestNewestFieldsDecode(t *testing.T) {
	t.Parallel()
	o, err := decodeCallOrder([]byte(`{"call": {"id": "o1", "assignee": {"id": "u1"}, "campaign": {"id": "c1", "name": "Spring"},
	  "contact": {"first_name": "Camille"}, "call_attempts": [{"id": "a1", "handled_by_ai": true, "handled_by_human": false,
	  "assistants_used": ["node_a", "node_b"]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	a := o.CallAttempts[0]
	if a.HandledByAI == nil || !*a.HandledByAI || a.HandledByHuman == nil || *a.HandledByHuman || strings.Join(a.AssistantsUsed, ",") != "node_a,node_b" {
		t.Fatalf("attempt %+v", a)
	}
	if string(o.Assignee) != `{"id": "u1"}` || string(o.Campaign) != `{"id": "c1", "name": "Spring"}` || string(o.Contact) != `{"first_name": "Camille"}` {
		t.Fatalf("order assignee %s campaign %s contact %s", o.Assignee, o.Campaign, o.Contact)
	}
}

// gzipped compresses b.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostileBody is what a hostile upstream sends for the bound tests: 16 MiB
// of a valid-looking page, plain or as a gzip bomb (about 50 KiB on the
// wire).
func hostileBody(t *testing.T, bomb bool) (body []byte, encoding string) {
	t.Helper()
	plain := append([]byte(`{"calls": [`), bytes.Repeat([]byte(`{"id": "att_padding"},`), 16<<20/22)...)
	if bomb {
		return gzipped(t, plain), "gzip"
	}
	return plain, ""
}

// A body over the limit, plain or decompressed from a gzip bomb, is refused
// at the limit without the client allocating much past it: the read buffer
// never grows past REVOX_MAX_BODY_BYTES + 1. Not parallel: it measures the
// process's allocations.
func TestOversizedBodiesAllocateNoMoreThanTheLimit(t *testing.T) {
	const limit = 4 << 20
	for _, bomb := range []bool{false, true} {
		name := "plain"
		if bomb {
			name = "gzip bomb"
		}
		t.Run(name, func(t *testing.T) {
			body, encoding := hostileBody(t, bomb)
			u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				if encoding != "" {
					w.Header().Set("Content-Encoding", encoding)
				}
				_, _ = w.Write(body)
			})
			c := newTestClient(t, u, WithMaxBodyBytes(limit))
			// Warm the connection and the pools, then measure one request.
			_, _ = c.ListCalls(t.Context(), ListCallsOptions{PageSize: 10, Page: 1})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
			runtime.ReadMemStats(&after)
			checkSentinel(t, err, ErrBadResponse)
			if err == nil || !strings.Contains(err.Error(), "larger than 4194304 bytes") {
				t.Fatalf("err = %v, want the size refusal", err)
			}
			// Doubling from 512 bytes up to the limit allocates under
			// 2×limit in all; the connection and gzip state are a few
			// hundred KiB.
			if got, most := after.TotalAlloc-before.TotalAlloc, uint64(2*limit+1<<20); got > most {
				t.Fatalf("one refused body allocated %d bytes, want at most %d", got, most)
			}
		})
	}
}

// A page of more attempts than asked is refused without decoding the
// surplus: 8 MiB of empty attempts decoded into 2.5 GB before.
func TestOverfullPagesAreRefusedWithoutDecodingTheSurplus(t *testing.T) {
	const limit = 8 << 20
	body := append([]byte(`{"calls": [`), bytes.Repeat([]byte(`{},`), limit/3-10)...)
	body = append(body[:len(body)-1], "]}"...)
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
	c := newTestClient(t, u, WithMaxBodyBytes(limit))
	_, _ = c.ListCalls(t.Context(), ListCallsOptions{PageSize: 100, Page: 1})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 100})
	runtime.ReadMemStats(&after)
	checkSentinel(t, err, ErrBadResponse)
	// Reading allocates under 2×limit in all, the decoder's copy of the
	// body one limit more; the attempts past the page none.
	if got, most := after.TotalAlloc-before.TotalAlloc, uint64(3*limit+1<<20); got > most {
		t.Fatalf("refusing the page allocated %d bytes, want at most %d", got, most)
	}
}

func TestAnOrderHoldsAtMostMaxOrderAttempts(t *testing.T) {
	t.Parallel()
	attempts := func(n int) string {
		return `{"call": {"id": "o1", "call_attempts": [` + strings.TrimSuffix(strings.Repeat(`{"id": "a"},`, n), ",") + `]}}`
	}
	if o, err := decodeCallOrder([]byte(attempts(maxOrderAttempts))); err != nil || len(o.CallAttempts) != maxOrderAttempts {
		t.Fatalf("an order of %d attempts: %v", maxOrderAttempts, err)
	}
	if _, err := decodeCallOrder([]byte(attempts(maxOrderAttempts + 1))); err == nil {
		t.Fatal("an order of too many attempts decoded")
	}
	if o, err := decodeCallOrder([]byte(`{"call": {"id": "o1"}}`)); err != nil || o.CallAttempts != nil {
		t.Fatalf("an order without attempts: %v, %v", o, err)
	}
}

func TestPagesHoldAtMostThePageSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		most int
		want int // -1: refused
	}{
		{`{"calls": []}`, 2, 0},
		{`{"calls": [{"id": "a"}, {"id": "b"}]}`, 2, 2},
		{`{"calls": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}`, 2, -1},
		{`{"calls": [{"id": "a"}, {}, {}, {}, {}, {}, {}]}`, 2, -1},
		{`{"calls": [{"id": "a"}, null, {"id": "c"}]}`, 3, 3},
		{`{"calls": [{"id": "a"}, null, null, null, null]}`, 1, 1},
	} {
		calls, err := decodeListPage([]byte(tc.body), everyAttemptField, tc.most)
		if tc.want < 0 {
			if !errors.Is(err, errTooManyAttempts) {
				t.Errorf("%s with %d at most: %d attempts, %v; want refused", tc.body, tc.most, len(calls), err)
			}
			continue
		}
		if err != nil || len(calls) != tc.want {
			t.Errorf("%s with %d at most: %d attempts, %v; want %d", tc.body, tc.most, len(calls), err, tc.want)
		}
	}
}

// readAtMost never lets its buffer's capacity pass the limit, whatever it
// is given to start from, and tells a body of exactly the limit from a
// longer one.
func TestReadAtMostBoundsItsBuffer(t *testing.T) {
	t.Parallel()
	const limit = 100 << 10
	endless := io.LimitReader(zeros{}, 10<<20)
	for _, tc := range []struct {
		name string
		buf  []byte
		hint int64
	}{
		{"from nothing", nil, 0},
		{"from a large pooled buffer", make([]byte, 0, 1<<20), 0},
		{"with a lying length", nil, 5 << 20},
		{"with a small length", nil, 10},
	} {
		data, over, err := readAtMost(endless, tc.buf, limit, tc.hint)
		if err != nil || !over || len(data) != limit {
			t.Fatalf("%s: %d bytes, over %v, %v", tc.name, len(data), over, err)
		}
		if tc.buf == nil && cap(data) > limit {
			t.Fatalf("%s: the buffer grew to %d bytes, limit %d", tc.name, cap(data), limit)
		}
	}
}

func TestReadAtMostReadsABodyOfExactlyTheLimit(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{0, 1, 511, 512, 513, 4096} {
		data, over, err := readAtMost(io.LimitReader(zeros{}, n), nil, 4096, 0)
		if err != nil || over || int64(len(data)) != n || int64(cap(data)) > 4096 {
			t.Fatalf("%d bytes: read %d (cap %d), over %v, %v", n, len(data), cap(data), over, err)
		}
		data, over, err = readAtMost(io.LimitReader(zeros{}, n+1), nil, n, n)
		if err != nil || !over {
			t.Fatalf("%d+1 bytes with limit %d: over %v, %v", n, n, over, err)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
