package revox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
