package revox

import (
	"context"
	"errors"
	"fmt"
	gojson "github.com/goccy/go-json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testKey is distinctive so that a leak into an error message is easy to spot.
const testKey = "sk_test_SECRET123"

// upstream is an httptest.Server that remembers the requests it received.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newUpstream(t *testing.T, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.requests = append(u.requests, r.Clone(context.Background()))
		u.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// received returns the requests seen so far.
func (u *upstream) received() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.requests...)
}

// newHangingUpstream starts a server that runs before (when not nil), tells
// arrived, then blocks until the client goes away or the test ends, so that
// no handler outlives the test.
func newHangingUpstream(t *testing.T, before func(w http.ResponseWriter)) (u *upstream, arrived <-chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	signal := make(chan struct{}, 1)
	u = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if before != nil {
			before(w)
		}
		select {
		case signal <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	// Registered after u.Close, so it runs first: Close waits for handlers.
	t.Cleanup(func() { close(release) })
	return u, signal
}

// newTestClient returns a client for u mounted under a path prefix, the way
// the real API lives under /api.
func newTestClient(t *testing.T, u *upstream, opts ...Option) *Client {
	t.Helper()
	// Retries have tests of their own; here one attempt shows each path.
	c, err := New(u.URL+"/api/", testKey, append([]Option{WithMaxRetries(0)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func serveTestdata(t *testing.T, name string) http.HandlerFunc {
	body := readTestdata(t, name)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

// clientCall is one client method under test, with the path it requests.
type clientCall struct {
	name string
	path string
	do   func(ctx context.Context, c *Client) error
}

var clientCalls = []clientCall{
	{name: "ListCalls", path: "/call", do: func(ctx context.Context, c *Client) error {
		_, err := c.ListCalls(ctx, ListCallsOptions{PageSize: 10})
		return err
	}},
	{name: "GetCall", path: "/call/ord_1", do: func(ctx context.Context, c *Client) error {
		_, err := c.GetCall(ctx, "ord_1", GetCallOptions{})
		return err
	}},
}

var sentinels = []error{ErrUnauthorized, ErrNotFound, ErrRateLimited, ErrUnavailable, ErrBadResponse, ErrRejected}

// checkSentinel asserts that err matches want and no other sentinel.
func checkSentinel(t *testing.T, err, want error) {
	t.Helper()
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, got, s == want)
		}
	}
}

// checkNoKey asserts that the API key appears nowhere in the error text.
func checkNoKey(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if msg := err.Error(); strings.Contains(msg, testKey) || strings.Contains(msg, "SECRET123") {
		t.Errorf("error text leaks the API key: %q", msg)
	}
}

func TestListCallsRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      []Option
		list      ListCallsOptions
		wantQuery string
	}{
		{
			name:      "the first page is page=0 by default",
			list:      ListCallsOptions{Page: 0, PageSize: 25},
			wantQuery: "page=0&page_size=25",
		},
		{
			name:      "later pages are sent as given",
			list:      ListCallsOptions{Page: 3, PageSize: 100},
			wantQuery: "page=3&page_size=100",
		},
		{
			name:      "statuses are repeated in the order given",
			list:      ListCallsOptions{Page: 1, PageSize: 10, Statuses: []OrderStatus{OrderErrored, OrderCompleted, OrderQueuedForCalling}},
			wantQuery: "page=1&page_size=10&statuses=errored&statuses=completed&statuses=queued_for_calling",
		},
		{
			name:      "WithFirstPage(1) shifts page 0 to page=1",
			opts:      []Option{WithFirstPage(1)},
			list:      ListCallsOptions{Page: 0, PageSize: 25},
			wantQuery: "page=1&page_size=25",
		},
		{
			name:      "WithFirstPage(1) shifts page 4 to page=5",
			opts:      []Option{WithFirstPage(1)},
			list:      ListCallsOptions{Page: 4, PageSize: 25, Statuses: []OrderStatus{OrderScheduled}},
			wantQuery: "page=5&page_size=25&statuses=scheduled",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, serveTestdata(t, "list_page.json"))
			c := newTestClient(t, u, tc.opts...)
			calls, err := c.ListCalls(t.Context(), tc.list)
			if err != nil {
				t.Fatalf("ListCalls: %v", err)
			}
			if len(calls) != 5 || calls[0].ID != "att_01JMCQ5V2Z7Y8K3N4P6R9T0W1X" {
				t.Errorf("ListCalls returned %d attempts (first %+v), want the 5 of list_page.json", len(calls), calls)
			}
			reqs := u.received()
			if len(reqs) != 1 {
				t.Fatalf("upstream saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			checkCommonRequest(t, r)
			if r.URL.Path != "/api/call" {
				t.Errorf("path = %q, want /api/call", r.URL.Path)
			}
			if r.URL.RawQuery != tc.wantQuery {
				t.Errorf("query = %q, want %q", r.URL.RawQuery, tc.wantQuery)
			}
			wantStatuses := make([]string, len(tc.list.Statuses))
			for i, s := range tc.list.Statuses {
				wantStatuses[i] = string(s)
			}
			if got := r.URL.Query()["statuses"]; strings.Join(got, ",") != strings.Join(wantStatuses, ",") {
				t.Errorf("statuses = %q, want %q", got, wantStatuses)
			}
		})
	}
}

func TestGetCallRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		id          string
		wantEscaped string
		wantPath    string
	}{
		{name: "a plain id is appended to /call", id: "ord_01JMCQ4R5S6T7U8V9W0X1Y2Z3A", wantEscaped: "/api/call/ord_01JMCQ4R5S6T7U8V9W0X1Y2Z3A", wantPath: "/api/call/ord_01JMCQ4R5S6T7U8V9W0X1Y2Z3A"},
		{name: "an id with a slash and a space is escaped into one segment", id: "a/b c", wantEscaped: "/api/call/a%2Fb%20c", wantPath: "/api/call/a/b c"},
		{name: "an id with a query character stays in the path", id: "x?page=1#f", wantEscaped: "/api/call/x%3Fpage=1%23f", wantPath: "/api/call/x?page=1#f"},
		{name: "an id that looks like a parent directory stays one segment", id: "../users/me", wantEscaped: "/api/call/..%2Fusers%2Fme", wantPath: "/api/call/../users/me"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, serveTestdata(t, "call_order.json"))
			c := newTestClient(t, u)
			order, err := c.GetCall(t.Context(), tc.id, GetCallOptions{})
			if err != nil {
				t.Fatalf("GetCall: %v", err)
			}
			if order.ID != "ord_01JMCQ4R5S6T7U8V9W0X1Y2Z3A" || len(order.CallAttempts) != 2 {
				t.Errorf("GetCall = %+v, want the order of call_order.json", order)
			}
			reqs := u.received()
			if len(reqs) != 1 {
				t.Fatalf("upstream saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			checkCommonRequest(t, r)
			if got := r.URL.EscapedPath(); got != tc.wantEscaped {
				t.Errorf("escaped path = %q, want %q", got, tc.wantEscaped)
			}
			if r.URL.Path != tc.wantPath {
				t.Errorf("path = %q, want %q", r.URL.Path, tc.wantPath)
			}
			if r.URL.RawQuery != "" {
				t.Errorf("query = %q, want none", r.URL.RawQuery)
			}
		})
	}
}

// checkCommonRequest asserts what every request to the API carries.
func checkCommonRequest(t *testing.T, r *http.Request) {
	t.Helper()
	if r.Method != http.MethodGet {
		t.Errorf("method = %s, want GET", r.Method)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q, want %q", got, "Bearer "+testKey)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q, want application/json", got)
	}
	if got := r.Header.Get("User-Agent"); got != "revox-graphql-gateway" {
		t.Errorf("User-Agent = %q, want revox-graphql-gateway", got)
	}
	if r.ContentLength > 0 {
		t.Errorf("a GET carries a body of %d bytes", r.ContentLength)
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		suffix   string // appended to the server URL
		wantPath string
	}{
		{name: "the bare host serves /call", suffix: "", wantPath: "/call"},
		{name: "a trailing slash on the host is dropped", suffix: "/", wantPath: "/call"},
		{name: "a path prefix is kept", suffix: "/api", wantPath: "/api/call"},
		{name: "a path prefix with a trailing slash is kept", suffix: "/api/", wantPath: "/api/call"},
		{name: "a deeper prefix with several trailing slashes is kept", suffix: "/revox/api//", wantPath: "/revox/api/call"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, serveTestdata(t, "list_page.json"))
			c, err := New(u.URL+tc.suffix, testKey)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if _, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 5}); err != nil {
				t.Fatalf("ListCalls: %v", err)
			}
			if reqs := u.received(); len(reqs) != 1 || reqs[0].URL.Path != tc.wantPath {
				t.Errorf("requests = %v, want one to %s", paths(reqs), tc.wantPath)
			}
		})
	}

	t.Run("an empty base URL means the production API", func(t *testing.T) {
		t.Parallel()
		c, err := New("", testKey)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if c.base != DefaultBaseURL {
			t.Errorf("base = %q, want %q", c.base, DefaultBaseURL)
		}
	})
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{
		"ftp://example.com/api",
		"www.getrevox.com/api",
		"http://",
		"https:///api",
		"://missing-scheme",
		"http://user:SECRET123@/api",
		"http://[::1",
	} {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			c, err := New(base, testKey)
			if err == nil {
				t.Fatalf("New(%q) = %+v, want an error", base, c)
			}
			checkNoKey(t, err)
		})
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()

	t.Run("WithUserAgent replaces the User-Agent", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, serveTestdata(t, "list_page.json"))
		c := newTestClient(t, u, WithUserAgent("gateway-test/1.0"))
		if _, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 5}); err != nil {
			t.Fatalf("ListCalls: %v", err)
		}
		if got := u.received()[0].Header.Get("User-Agent"); got != "gateway-test/1.0" {
			t.Errorf("User-Agent = %q, want gateway-test/1.0", got)
		}
	})

	t.Run("an empty key sends no Authorization header", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, serveTestdata(t, "list_page.json"))
		c, err := New(u.URL, "")
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if _, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 5}); err != nil {
			t.Fatalf("ListCalls: %v", err)
		}
		if got, ok := u.received()[0].Header["Authorization"]; ok {
			t.Errorf("Authorization = %q, want no header", got)
		}
	})

	t.Run("FirstPage reports WithFirstPage", func(t *testing.T) {
		t.Parallel()
		c, err := New("", testKey, WithFirstPage(1))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if c.FirstPage() != 1 {
			t.Errorf("FirstPage() = %d, want 1", c.FirstPage())
		}
	})

	t.Run("WithHTTPClient is used for requests", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, serveTestdata(t, "list_page.json"))
		ct := &countingTransport{base: http.DefaultTransport}
		c := newTestClient(t, u, WithHTTPClient(&http.Client{Transport: ct}))
		if _, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 5}); err != nil {
			t.Fatalf("ListCalls: %v", err)
		}
		if ct.requests.Load() != 1 {
			t.Errorf("transport saw %d requests, want 1", ct.requests.Load())
		}
	})

	for _, order := range []struct {
		name string
		opts func(h *http.Client) []Option
	}{
		{name: "WithTimeout after WithHTTPClient", opts: func(h *http.Client) []Option { return []Option{WithHTTPClient(h), WithTimeout(time.Second)} }},
		{name: "WithTimeout before WithHTTPClient", opts: func(h *http.Client) []Option { return []Option{WithTimeout(time.Second), WithHTTPClient(h)} }},
	} {
		t.Run(order.name+" applies the timeout without touching the caller's client", func(t *testing.T) {
			t.Parallel()
			shared := &http.Client{Timeout: time.Minute}
			c, err := New("", testKey, order.opts(shared)...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if shared.Timeout != time.Minute {
				t.Errorf("caller's client Timeout = %v, want it left at 1m", shared.Timeout)
			}
			if c.transport.http.Timeout != time.Second {
				t.Errorf("client Timeout = %v, want 1s", c.transport.http.Timeout)
			}
		})
	}

	t.Run("WithHTTPClient(nil) keeps a working default client", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, serveTestdata(t, "list_page.json"))
		c := newTestClient(t, u, WithHTTPClient(nil))
		if _, err := c.ListCalls(t.Context(), ListCallsOptions{PageSize: 5}); err != nil {
			t.Fatalf("ListCalls: %v", err)
		}
	})
}

func TestInvalidArgumentsSendNoRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		do   func(ctx context.Context, c *Client) error
		want error // sentinel, or nil for a plain argument error
	}{
		{name: "a negative page", do: func(ctx context.Context, c *Client) error {
			_, err := c.ListCalls(ctx, ListCallsOptions{Page: -1, PageSize: 10})
			return err
		}},
		{name: "a page size of zero", do: func(ctx context.Context, c *Client) error {
			_, err := c.ListCalls(ctx, ListCallsOptions{PageSize: 0})
			return err
		}},
		{name: "an empty call id is not found", want: ErrNotFound, do: func(ctx context.Context, c *Client) error {
			_, err := c.GetCall(ctx, "", GetCallOptions{})
			return err
		}},
		{name: "a call id of . is not found", want: ErrNotFound, do: func(ctx context.Context, c *Client) error {
			_, err := c.GetCall(ctx, ".", GetCallOptions{})
			return err
		}},
		{name: "a call id of .. is not found", want: ErrNotFound, do: func(ctx context.Context, c *Client) error {
			_, err := c.GetCall(ctx, "..", GetCallOptions{})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, serveTestdata(t, "call_order.json"))
			c := newTestClient(t, u)
			err := tc.do(t.Context(), c)
			if err == nil {
				t.Fatal("want an error")
			}
			checkSentinel(t, err, tc.want)
			checkNoKey(t, err)
			if n := len(u.received()); n != 0 {
				t.Errorf("upstream saw %d requests, want none", n)
			}
		})
	}
}

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
