package revox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewTransportKeepsAnIdleConnectionPerConcurrentRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ conns, perHost, all int }{
		{1, 2, 100}, {16, 16, 100}, {80, 80, 160},
	} {
		tr := NewTransport(tc.conns)
		if tr.MaxIdleConnsPerHost != tc.perHost || tr.MaxIdleConns != tc.all || tr.ReadBufferSize != readBufferSize {
			t.Errorf("NewTransport(%d): %d idle per host, %d in all, read buffer %d; want %d, %d, %d",
				tc.conns, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, tr.ReadBufferSize, tc.perHost, tc.all, readBufferSize)
		}
	}
}

// observed records what the client reports of its HTTP attempts.
type observed struct {
	nopObserver
	mu       sync.Mutex
	requests []string
}

func (o *observed) UpstreamRequest(endpoint string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, endpoint+" "+http.StatusText(status))
}

func TestReadinessProbesAreNotCountedAsUpstreamRequests(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"calls":[]}`)
	}))
	defer up.Close()
	obs := &observed{}
	c, err := New(up.URL, "sk_test", WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCalls(context.Background(), ListCallsOptions{Page: 0, PageSize: 1}); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.requests) != 1 || obs.requests[0] != "list_calls OK" {
		t.Fatalf("observed %q, want only the list request", obs.requests)
	}
}

func TestEvery2xxIsASuccessAndNothingElse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		ok     bool
	}{{200, true}, {203, true}, {299, true}, {300, false}, {304, false}, {400, false}} {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, `{"calls":[]}`)
		}))
		c, err := New(up.URL, "sk_test", WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListCalls(context.Background(), ListCallsOptions{Page: 0, PageSize: 1})
		up.Close()
		if (err == nil) != tc.ok {
			t.Errorf("status %d: error %v, want a success: %v", tc.status, err, tc.ok)
		}
	}
}

// readAtMost makes room for a body of known length at once, with room for
// the read that meets its end, and trusts no length over the limit.
func TestReadAtMostMakesRoomForTheKnownLengthOnce(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	body := func(n int) io.Reader { return io.LimitReader(zeros{}, int64(n)) }
	for _, tc := range []struct {
		name    string
		buf     []byte
		n       int
		hint    int64
		wantCap int
	}{
		{"a known length, nothing pooled", nil, 1000, 1000, 1512},
		{"a pooled buffer of exactly the length", make([]byte, 0, 1000), 1000, 1000, 1512},
		{"a pooled buffer larger than the length", make([]byte, 0, 4096), 1000, 1000, 4096},
		{"a length over the limit is not trusted", nil, 10, limit + 1, 512},
		{"no length: from the smallest read up", nil, 10, -1, 512},
		{"a length near the limit: room up to the limit only", nil, limit - 100, limit - 100, limit},
	} {
		data, over, err := readAtMost(body(tc.n), tc.buf, limit, tc.hint)
		if err != nil || over || len(data) != tc.n {
			t.Fatalf("%s: %d bytes, over %v, %v", tc.name, len(data), over, err)
		}
		if cap(data) != tc.wantCap {
			t.Errorf("%s: read into %d bytes of room, want %d", tc.name, cap(data), tc.wantCap)
		}
	}
}

// failingAfter reads n zeros, then fails.
type failingAfter struct{ n int }

func (f *failingAfter) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func TestReadAtMostReportsAFailureAtTheLimit(t *testing.T) {
	t.Parallel()
	// The body fails where one more byte would tell "too large" from
	// "exactly the limit": neither is known, the failure is reported.
	data, over, err := readAtMost(&failingAfter{n: 4096}, nil, 4096, 0)
	if !errors.Is(err, io.ErrUnexpectedEOF) || over || len(data) != 4096 {
		t.Fatalf("%d bytes, over %v, error %v; want 4096, false, %v", len(data), over, err, io.ErrUnexpectedEOF)
	}
}

func TestOnlyBodyBuffersUpToTheBoundAreKept(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		size int
		kept bool
	}{{4096, true}, {maxPooledBody, true}, {maxPooledBody + 1, false}} {
		buf := make([]byte, 10, tc.size)
		releaseBodyBuffer(&buf)
		// A buffer kept for reuse is emptied; one left to the collector is
		// left as it is.
		if kept := len(buf) == 0; kept != tc.kept {
			t.Errorf("a buffer of %d bytes kept: %v, want %v", tc.size, kept, tc.kept)
		}
	}
}

func TestLongErrorMessagesAreCutAtACharacter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"exactly 200 bytes: kept whole", strings.Repeat("a", 200), strings.Repeat("a", 200)},
		{"201 bytes: cut", strings.Repeat("a", 201), strings.Repeat("a", 200) + "…"},
		{"a character across the cut", strings.Repeat("a", 199) + "é" + "bbb", strings.Repeat("a", 199) + "…"},
		{"no character start at all (not UTF-8)", strings.Repeat("\x80", 300), "…"},
	} {
		resp := &http.Response{StatusCode: 500, Header: http.Header{}, Request: &http.Request{Method: http.MethodGet}}
		err := checkResponse(resp, strings.NewReader(tc.body), "/call", "sk_test")
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("%s: %v, want an *APIError", tc.name, err)
		}
		if apiErr.Message != tc.want {
			t.Errorf("%s: message %q, want %q", tc.name, apiErr.Message, tc.want)
		}
	}
}
