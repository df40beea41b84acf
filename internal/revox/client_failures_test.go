package revox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
)

func TestErrorStatuses(t *testing.T) {
	t.Parallel()
	longBody := "x" + strings.Repeat("é", 300) // byte 200 falls inside a rune
	tests := []struct {
		name        string
		status      int
		retryAfter  func() string // Retry-After header value, if any
		body        string
		want        error
		wantMessage string
		// wantRetry is the accepted range of APIError.RetryAfter.
		wantRetryMin, wantRetryMax time.Duration
	}{
		{name: "401 is unauthorized with the upstream message", status: 401, body: `{"message":"Invalid API key"}`, want: ErrUnauthorized, wantMessage: "Invalid API key"},
		{name: "403 is unauthorized too", status: 403, body: `{"message":"This key cannot read calls"}`, want: ErrUnauthorized, wantMessage: "This key cannot read calls"},
		{name: "401 that echoes the key does not leak it", status: 401, body: `{"message":"Invalid API key sk_test_SECRET123 (revoked)"}`, want: ErrUnauthorized, wantMessage: "Invalid API key [REDACTED] (revoked)"},
		{name: "404 is not found", status: 404, body: `{"message":"Call not found"}`, want: ErrNotFound, wantMessage: "Call not found"},
		{name: "429 with Retry-After in seconds", status: 429, retryAfter: func() string { return "7" }, body: `{"message":"Too many requests"}`, want: ErrRateLimited, wantMessage: "Too many requests", wantRetryMin: 7 * time.Second, wantRetryMax: 7 * time.Second},
		{name: "429 with Retry-After as an HTTP date", status: 429, retryAfter: func() string { return time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat) }, want: ErrRateLimited, wantRetryMin: 28 * time.Second, wantRetryMax: 30 * time.Second},
		{name: "429 without Retry-After has no wait", status: 429, want: ErrRateLimited},
		{name: "429 with an unreadable Retry-After has no wait", status: 429, retryAfter: func() string { return "soon" }, want: ErrRateLimited},
		{name: "500 is unavailable", status: 500, body: `{"message":"Internal server error"}`, want: ErrUnavailable, wantMessage: "Internal server error"},
		{name: "502 with an HTML page keeps its trimmed text", status: 502, body: "<html><body>Bad gateway</body></html>\n", want: ErrUnavailable, wantMessage: "<html><body>Bad gateway</body></html>"},
		{name: "503 with Retry-After is unavailable and keeps the wait", status: 503, retryAfter: func() string { return "120" }, want: ErrUnavailable, wantRetryMin: 2 * time.Minute, wantRetryMax: 2 * time.Minute},
		{name: "400 is rejected", status: 400, body: `{"message":"page_size must be at least 1"}`, want: ErrRejected, wantMessage: "page_size must be at least 1"},
		{name: "409 is rejected", status: 409, body: `{"message":"Conflict"}`, want: ErrRejected, wantMessage: "Conflict"},
		{name: "422 is rejected", status: 422, body: `{"message":"Invalid phone number"}`, want: ErrRejected, wantMessage: "Invalid phone number"},
		{name: "a JSON body without message is kept as text", status: 400, body: `{"error":"bad_request"}`, want: ErrRejected, wantMessage: `{"error":"bad_request"}`},
		{name: "an empty body falls back to the status text", status: 500, want: ErrUnavailable, wantMessage: ""},
		{name: "a long body is cut on a character boundary", status: 500, body: longBody, want: ErrUnavailable, wantMessage: "x" + strings.Repeat("é", 99) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, call := range clientCalls {
				t.Run(call.name, func(t *testing.T) {
					t.Parallel()
					u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
						if tc.retryAfter != nil {
							w.Header().Set("Retry-After", tc.retryAfter())
						}
						w.WriteHeader(tc.status)
						_, _ = io.WriteString(w, tc.body)
					})
					err := call.do(t.Context(), newTestClient(t, u))
					if err == nil {
						t.Fatal("want an error")
					}
					checkSentinel(t, err, tc.want)
					checkNoKey(t, err)
					var apiErr *APIError
					if !errors.As(err, &apiErr) {
						t.Fatalf("error %v (%T) is not an *APIError", err, err)
					}
					if apiErr.StatusCode != tc.status || apiErr.Method != http.MethodGet || apiErr.Path != call.path {
						t.Errorf("APIError = %d %s %s, want %d GET %s", apiErr.StatusCode, apiErr.Method, apiErr.Path, tc.status, call.path)
					}
					if apiErr.Message != tc.wantMessage {
						t.Errorf("Message = %q, want %q", apiErr.Message, tc.wantMessage)
					}
					if apiErr.RetryAfter < tc.wantRetryMin || apiErr.RetryAfter > tc.wantRetryMax {
						t.Errorf("RetryAfter = %v, want between %v and %v", apiErr.RetryAfter, tc.wantRetryMin, tc.wantRetryMax)
					}
					wantText := fmt.Sprintf("revox: GET %s: %d ", call.path, tc.status)
					if !strings.HasPrefix(err.Error(), wantText) {
						t.Errorf("Error() = %q, want it to start with %q", err.Error(), wantText)
					}
					if tc.wantMessage == "" && !strings.HasSuffix(err.Error(), http.StatusText(tc.status)) {
						t.Errorf("Error() = %q, want the status text when the body is empty", err.Error())
					}
				})
			}
		})
	}
}

func TestMalformedResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		calls  []clientCall
		body   string
		syntax bool // the cause is the decoder's *SyntaxError
	}{
		{name: "truncated JSON", calls: clientCalls, body: `{"calls": [{"id": "att_1"`, syntax: true},
		{name: "an HTML page with status 200", calls: clientCalls, body: "<html><body>Maintenance</body></html>", syntax: true},
		{name: "an empty body", calls: clientCalls, body: "", syntax: true},
		{name: "trailing garbage after the document", calls: clientCalls, body: `{"calls": []} x`, syntax: true},
		{name: "calls of the wrong type", calls: clientCalls[:1], body: `{"calls": {"id": "att_1"}}`},
		{name: "an attempt id of the wrong type", calls: clientCalls[:1], body: `{"calls": [{"id": 42}]}`},
		{name: "an order without the call object", calls: clientCalls[1:], body: `{"id": "ord_1"}`},
		{name: "an order with a null call", calls: clientCalls[1:], body: `{"call": null}`},
		{name: "a top-level array", calls: clientCalls, body: `[{"id": "ord_1"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, call := range tc.calls {
				t.Run(call.name, func(t *testing.T) {
					t.Parallel()
					u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Content-Type", "application/json")
						_, _ = io.WriteString(w, tc.body)
					})
					err := call.do(t.Context(), newTestClient(t, u))
					if err == nil {
						t.Fatal("want an error")
					}
					checkSentinel(t, err, ErrBadResponse)
					checkNoKey(t, err)
					var decErr *DecodeError
					if !errors.As(err, &decErr) {
						t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
					}
					if decErr.Method != http.MethodGet || decErr.Path != call.path {
						t.Errorf("DecodeError is for %s %s, want GET %s", decErr.Method, decErr.Path, call.path)
					}
					var syntaxErr *gojson.SyntaxError
					if got := errors.As(err, &syntaxErr); got != tc.syntax {
						t.Errorf("errors.As(*SyntaxError) = %v, want %v (cause %v)", got, tc.syntax, decErr.Err)
					}
				})
			}
		})
	}
}

// countingTransport counts requests and the response body bytes the client
// actually reads.
type countingTransport struct {
	base     http.RoundTripper
	requests atomic.Int64
	read     atomic.Int64
}

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ct.requests.Add(1)
	resp, err := ct.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &ct.read}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// streamBody writes prefix, then filler until the client hangs up or limit
// bytes are out.
func streamBody(w http.ResponseWriter, prefix, filler string, limit int) {
	chunk := strings.Repeat(filler, 32<<10/len(filler))
	n, _ := io.WriteString(w, prefix)
	for n < limit {
		m, err := io.WriteString(w, chunk)
		if err != nil {
			return
		}
		n += m
	}
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	const drain = 4 << 10 // what the client may read to reuse the connection

	t.Run("a 2xx body larger than WithMaxBodyBytes fails without being read in full", func(t *testing.T) {
		t.Parallel()
		const limit = 1 << 10
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			streamBody(w, `{"calls": [`, `{"id": "att_padding"},`, 64<<20)
		})
		ct := &countingTransport{base: http.DefaultTransport}
		c := newTestClient(t, u, WithHTTPClient(&http.Client{Transport: ct}), WithTimeout(10*time.Second), WithMaxBodyBytes(limit))
		_, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
		checkSentinel(t, err, ErrBadResponse)
		checkNoKey(t, err)
		var decErr *DecodeError
		if !errors.As(err, &decErr) || !strings.Contains(err.Error(), "larger than 1024 bytes") {
			t.Errorf("error = %v, want a *DecodeError about the size", err)
		}
		if got := ct.read.Load(); got > limit+1+drain {
			t.Errorf("client read %d body bytes, want at most %d", got, limit+1+drain)
		}
	})

	t.Run("a body of exactly WithMaxBodyBytes is read", func(t *testing.T) {
		t.Parallel()
		body := readTestdata(t, "list_page.json")
		u := newUpstream(t, serveTestdata(t, "list_page.json"))
		c := newTestClient(t, u, WithMaxBodyBytes(int64(len(body))))
		calls, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
		if err != nil || len(calls) != 5 {
			t.Errorf("ListCalls = %d attempts, %v; want 5, nil", len(calls), err)
		}
	})

	t.Run("an error body is read only up to a bound", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			streamBody(w, "", "upstream exploded ", 64<<20)
		})
		ct := &countingTransport{base: http.DefaultTransport}
		c := newTestClient(t, u, WithHTTPClient(&http.Client{Transport: ct}), WithTimeout(10*time.Second))
		_, err := c.GetCall(t.Context(), "ord_1", GetCallOptions{})
		checkSentinel(t, err, ErrUnavailable)
		if got, max := ct.read.Load(), int64(maxErrorBody+drain); got > max {
			t.Errorf("client read %d bytes of the error body, want at most %d", got, max)
		}
	})

	for _, n := range []int64{0, -1, 1<<63 - 1} {
		t.Run(fmt.Sprintf("WithMaxBodyBytes(%d) still reads a normal page", n), func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, serveTestdata(t, "list_page.json"))
			c := newTestClient(t, u, WithMaxBodyBytes(n))
			calls, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
			if err != nil || len(calls) != 5 {
				t.Errorf("ListCalls = %d attempts, %v; want 5, nil", len(calls), err)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		before      func(w http.ResponseWriter) // what the hanging handler sends first
		opts        []Option
		ctxTimeout  time.Duration
		wantCtxDone bool // errors.Is(err, context.DeadlineExceeded)
	}{
		{
			name: "WithTimeout while waiting for headers",
			opts: []Option{WithTimeout(50 * time.Millisecond)},
		},
		{
			name: "WithTimeout while reading the body",
			before: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"calls": [`)
				w.(http.Flusher).Flush()
			},
			opts: []Option{WithTimeout(50 * time.Millisecond)},
		},
		{
			name:        "the caller's deadline while waiting for headers",
			ctxTimeout:  50 * time.Millisecond,
			wantCtxDone: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, call := range clientCalls {
				t.Run(call.name, func(t *testing.T) {
					t.Parallel()
					u, _ := newHangingUpstream(t, tc.before)
					c := newTestClient(t, u, tc.opts...)
					ctx := t.Context()
					if tc.ctxTimeout > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
						defer cancel()
					}
					err := call.do(ctx, c)
					checkSentinel(t, err, ErrUnavailable)
					checkNoKey(t, err)
					var trErr *TransportError
					if !errors.As(err, &trErr) {
						t.Fatalf("error %v (%T) is not a *TransportError", err, err)
					}
					if !trErr.Timeout {
						t.Errorf("Timeout = false, want true (%v)", err)
					}
					if trErr.Path != call.path {
						t.Errorf("Path = %q, want %q", trErr.Path, call.path)
					}
					if !strings.Contains(err.Error(), "timed out") {
						t.Errorf("Error() = %q, want it to say it timed out", err.Error())
					}
					if tc.wantCtxDone && !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
					}
					if errors.Is(err, context.Canceled) {
						t.Errorf("a timeout matches context.Canceled: %v", err)
					}
				})
			}
		})
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	for _, call := range clientCalls {
		t.Run("cancelled before the request with "+call.name, func(t *testing.T) {
			t.Parallel()
			u, _ := newHangingUpstream(t, nil)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			err := call.do(ctx, newTestClient(t, u))
			checkCanceled(t, err)
		})
		t.Run("cancelled while the upstream hangs with "+call.name, func(t *testing.T) {
			t.Parallel()
			u, arrived := newHangingUpstream(t, nil)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go func() {
				<-arrived
				cancel()
			}()
			err := call.do(ctx, newTestClient(t, u))
			checkCanceled(t, err)
			if n := len(u.received()); n != 1 {
				t.Errorf("upstream saw %d requests, want 1", n)
			}
		})
	}
}

func checkCanceled(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false", err)
	}
	checkSentinel(t, err, ErrUnavailable)
	checkNoKey(t, err)
	var trErr *TransportError
	if !errors.As(err, &trErr) {
		t.Fatalf("error %v (%T) is not a *TransportError", err, err)
	}
	if trErr.Timeout {
		t.Errorf("Timeout = true for a cancellation: %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, call := range clientCalls {
		t.Run(call.name, func(t *testing.T) {
			t.Parallel()
			c, err := New("http://"+addr+"/api", testKey, WithTimeout(5*time.Second))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = call.do(t.Context(), c)
			checkSentinel(t, err, ErrUnavailable)
			checkNoKey(t, err)
			var trErr *TransportError
			if !errors.As(err, &trErr) {
				t.Fatalf("error %v (%T) is not a *TransportError", err, err)
			}
			if trErr.Timeout {
				t.Errorf("Timeout = true for a refused connection: %v", err)
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a refused connection matches a context error: %v", err)
			}
			var urlErr *url.Error
			if strings.Contains(err.Error(), "http://") || errors.As(err, &urlErr) {
				t.Errorf("Error() = %q repeats the URL", err.Error())
			}
			if !strings.Contains(err.Error(), "connection failed") {
				t.Errorf("Error() = %q, want it to say the connection failed", err.Error())
			}
		})
	}
}

func paths(reqs []*http.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.URL.Path
	}
	return out
}
