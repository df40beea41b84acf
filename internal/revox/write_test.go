package revox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

const orderBody = `{"call":{"id":"ord_1","direction":"outbound","status":"queued_for_calling","to_phone_number":"+14155550123","call_attempts":[]}}`

// postServer answers POST /call with the given handlers in turn, counting
// the POSTs it received and those it applied.
type postServer struct {
	*httptest.Server
	received, applied atomic.Int32
}

func newPostServer(t *testing.T, steps ...func(w http.ResponseWriter, r *http.Request, s *postServer)) *postServer {
	s := &postServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.received.Add(1)) - 1
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("got %s with %q", r.Method, r.Header.Get("Authorization"))
		}
		steps[min(n, len(steps)-1)](w, r, s)
	}))
	t.Cleanup(s.Close)
	return s
}

func applied(w http.ResponseWriter, r *http.Request, s *postServer) {
	body, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(body), `"phone_number":"+14155550123"`) {
		http.Error(w, `{"message":"bad body"}`, http.StatusUnprocessableEntity)
		return
	}
	s.applied.Add(1)
	_, _ = io.WriteString(w, orderBody)
}

func rateLimited(w http.ResponseWriter, _ *http.Request, _ *postServer) {
	w.Header().Set("Retry-After", "0")
	w.WriteHeader(http.StatusTooManyRequests)
}

// appliedThenLost applies the order and drops the connection unanswered.
func appliedThenLost(w http.ResponseWriter, r *http.Request, s *postServer) {
	_, _ = io.ReadAll(r.Body)
	s.applied.Add(1)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func serverError(w http.ResponseWriter, _ *http.Request, _ *postServer) {
	http.Error(w, `{"message":"boom"}`, http.StatusBadGateway)
}

// failFirst fails its first round trip before anything is written.
type failFirst struct {
	next  http.RoundTripper
	calls atomic.Int32
}

func (f *failFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.calls.Add(1) == 1 {
		return nil, errors.New("dial tcp: connection refused")
	}
	return f.next.RoundTrip(r)
}

func TestCreateCallNeverDialsTwice(t *testing.T) {
	t.Parallel()
	params := CreateCallParams{PhoneNumber: "+14155550123", AssistantID: "asst_1"}
	for _, tc := range []struct {
		name              string
		steps             []func(http.ResponseWriter, *http.Request, *postServer)
		failBeforeWriting bool
		wantErr           error
		received, applied int32
	}{
		{"a plain success posts once", []func(http.ResponseWriter, *http.Request, *postServer){applied}, false, nil, 1, 1},
		{"a 429 is retried after Retry-After", []func(http.ResponseWriter, *http.Request, *postServer){rateLimited, applied}, false, nil, 2, 1},
		{"429s past the budget stay rate limited", []func(http.ResponseWriter, *http.Request, *postServer){rateLimited}, false, ErrRateLimited, maxWriteAttempts, 0},
		{"a connection refused before writing is retried", []func(http.ResponseWriter, *http.Request, *postServer){applied}, true, nil, 1, 1},
		{"an answer lost after applying is outcome unknown, not retried", []func(http.ResponseWriter, *http.Request, *postServer){appliedThenLost, applied}, false, ErrOutcomeUnknown, 1, 1},
		{"a 5xx is outcome unknown, not retried", []func(http.ResponseWriter, *http.Request, *postServer){serverError, applied}, false, ErrOutcomeUnknown, 1, 0},
		{"a 4xx is rejected, not retried", []func(http.ResponseWriter, *http.Request, *postServer){func(w http.ResponseWriter, _ *http.Request, _ *postServer) {
			http.Error(w, `{"message":"invalid phone number"}`, http.StatusUnprocessableEntity)
		}, applied}, false, ErrRejected, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newPostServer(t, tc.steps...)
			var opts []Option
			if tc.failBeforeWriting {
				opts = append(opts, WithHTTPClient(&http.Client{Transport: &failFirst{next: http.DefaultTransport}}))
			}
			c, err := New(s.URL, testKey, append(opts, WithBackoff(time.Millisecond, time.Millisecond))...)
			if err != nil {
				t.Fatal(err)
			}
			order, err := c.CreateCall(t.Context(), "", params)
			if tc.wantErr == nil {
				if err != nil || order.ID != "ord_1" {
					t.Fatalf("got %+v, %v", order, err)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if got := s.received.Load(); got != tc.received {
				t.Errorf("upstream received %d POSTs, want %d", got, tc.received)
			}
			if got := s.applied.Load(); got != tc.applied {
				t.Errorf("upstream applied %d orders, want %d", got, tc.applied)
			}
		})
	}
}

func TestCreateCallTimeoutIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := newPostServer(t, func(w http.ResponseWriter, r *http.Request, s *postServer) {
		_, _ = io.ReadAll(r.Body)
		s.applied.Add(1)
		<-release
	})
	defer close(release)
	c, err := New(s.URL, testKey, WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = c.CreateCall(ctx, "", CreateCallParams{PhoneNumber: "+14155550123", AssistantID: "a"})
	if !errors.Is(err, ErrOutcomeUnknown) || s.received.Load() != 1 {
		t.Fatalf("got %v after %d POSTs, want outcome unknown after 1", err, s.received.Load())
	}
}

func TestCancelCall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		status  []int
		wantErr error
		posts   int32
	}{
		{"a cancel posts to the order's cancel path", []int{200}, nil, 1},
		{"a 5xx is retried: cancelling twice does no harm", []int{502, 200}, nil, 2},
		{"an unknown order is not found", []int{404}, ErrNotFound, 1},
		{"a finished order's refusal is rejected", []int{409}, ErrRejected, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var posts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := posts.Add(1)
				if r.Method != http.MethodPost || r.URL.EscapedPath() != "/call/ord%201/cancel" {
					t.Errorf("got %s %s", r.Method, r.URL.EscapedPath())
				}
				w.WriteHeader(tc.status[min(int(n), len(tc.status))-1])
			}))
			defer srv.Close()
			c, err := New(srv.URL, testKey, WithBackoff(time.Millisecond, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			err = c.CancelCall(t.Context(), "", "ord 1")
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if posts.Load() != tc.posts {
				t.Fatalf("%d POSTs, want %d", posts.Load(), tc.posts)
			}
		})
	}
}

func TestWriteRetriesWaitAsTheUpstreamAsks(t *testing.T) {
	t.Parallel()
	params := CreateCallParams{PhoneNumber: "+14155550123", AssistantID: "asst_1"}
	t.Run("the first POST goes at once and each retry after Retry-After", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{script: []int{429, 429}, retryIn: "1"}
			c := newScripted(t, s)
			start := time.Now()
			_, _ = c.CreateCall(t.Context(), "", params)
			if waited := time.Since(start); s.hits.Load() != 3 || waited != 2*time.Second {
				t.Fatalf("%d POSTs in %v, want 3 a second apart as the upstream asked", s.hits.Load(), waited)
			}
		})
	})
	t.Run("a retry that cannot finish before the deadline is not waited for", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{script: []int{429, 200}, retryIn: "30"}
			c := newScripted(t, s)
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			if _, err := c.CreateCall(ctx, "", params); !errors.Is(err, ErrRateLimited) {
				t.Fatalf("err = %v, want the 429 at once", err)
			}
			if time.Since(start) != 0 || s.hits.Load() != 1 {
				t.Fatalf("waited %v and made %d POSTs for a retry that could not finish in time", time.Since(start), s.hits.Load())
			}
		})
	})
}
