package sandbox_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestListCalls(t *testing.T) {
	t.Parallel()

	for _, first := range []int{0, 1} {
		for _, size := range []int{7, 64, 1000} {
			t.Run(fmt.Sprintf("paging with first page %d and size %d lists every attempt once, newest first", first, size), func(t *testing.T) {
				t.Parallel()
				u := start(t, sandbox.Options{FirstPage: first})
				got := listAll(t.Context(), t, u.client, size)
				if len(got) != u.sb.Attempts() {
					t.Fatalf("listed %d attempts, the dataset has %d", len(got), u.sb.Attempts())
				}
				ids := map[string]bool{}
				for i, a := range got {
					if ids[a.ID] {
						t.Fatalf("attempt %s listed twice", a.ID)
					}
					ids[a.ID] = true
					if i == 0 {
						continue
					}
					prev := got[i-1]
					if c := cmp.Or(a.StartedAt.Compare(prev.StartedAt.Time), cmp.Compare(prev.ID, a.ID)); c > 0 {
						t.Fatalf("item %d (%s, %v) sorts before item %d (%s, %v)", i, a.ID, a.StartedAt, i-1, prev.ID, prev.StartedAt)
					}
				}
			})
		}
	}

	t.Run("the list holds exactly the attempts of all orders", func(t *testing.T) {
		t.Parallel()
		u := start(t, sandbox.Options{})
		listed := map[string]revox.CallAttempt{}
		for _, a := range listAll(t.Context(), t, u.client, 100) {
			listed[a.ID] = a
		}
		n := 0
		for _, o := range getAll(t.Context(), t, u) {
			for _, a := range o.CallAttempts {
				n++
				if !sameAttempt(t, listed[a.ID], a) {
					t.Fatalf("attempt %s of order %s differs from its list item", a.ID, o.ID)
				}
			}
		}
		if n != len(listed) {
			t.Fatalf("orders hold %d attempts, the list %d", n, len(listed))
		}
	})

	t.Run("a page past the end is an empty list", func(t *testing.T) {
		t.Parallel()
		u := start(t, sandbox.Options{FirstPage: 1})
		for _, page := range []string{"2", "1000", "9007199254740991"} {
			resp, body := u.get(t, http.MethodGet, "/call?page_size=1000&page="+page, bearer)
			if resp.StatusCode != http.StatusOK || string(body) != `{"calls":[]}` {
				t.Fatalf("page %s: %d %s", page, resp.StatusCode, body)
			}
		}
	})

	t.Run("HEAD answers the headers of GET without a body", func(t *testing.T) {
		t.Parallel()
		u := start(t, sandbox.Options{})
		_, full := u.get(t, http.MethodGet, "/call?page=0&page_size=5", bearer)
		resp, body := u.get(t, http.MethodHead, "/call?page=0&page_size=5", bearer)
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(full)) {
			t.Fatalf("HEAD: %d, %d body bytes, Content-Length %d, want 200, 0, %d", resp.StatusCode, len(body), resp.ContentLength, len(full))
		}
	})
}

func TestStatusesFilter(t *testing.T) {
	t.Parallel()
	u := start(t, sandbox.Options{})
	ctx := t.Context()
	statusOf := map[string]revox.OrderStatus{}
	for _, o := range getAll(ctx, t, u) {
		for _, a := range o.CallAttempts {
			statusOf[a.ID] = *o.Status
		}
	}

	filters := [][]revox.OrderStatus{
		{revox.OrderCompleted},
		{revox.OrderCalling, revox.OrderScheduled},
		{revox.OrderInitializing, revox.OrderQueuedForCalling, revox.OrderCancelled, revox.OrderErrored},
		{revox.OrderInitializing, revox.OrderQueuedForCalling, revox.OrderCalling, revox.OrderScheduled, revox.OrderCompleted, revox.OrderCancelled, revox.OrderErrored},
	}
	for _, filter := range filters {
		t.Run(fmt.Sprintf("filtering on %v lists exactly the attempts of those orders", filter), func(t *testing.T) {
			t.Parallel()
			var want []string
			for id, s := range statusOf {
				if slices.Contains(filter, s) {
					want = append(want, id)
				}
			}
			var got []string
			for _, a := range listAll(ctx, t, u.client, 50, filter...) {
				got = append(got, a.ID)
			}
			slices.Sort(want)
			slices.Sort(got)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("got %d attempts, want %d", len(got), len(want))
			}
		})
	}

	t.Run("comma-separated and bracketed statuses mean the same as repeated ones", func(t *testing.T) {
		t.Parallel()
		_, repeated := u.get(t, http.MethodGet, "/call?page=0&page_size=1000&statuses=completed&statuses=errored", bearer)
		for _, q := range []string{"statuses=completed,errored", "statuses=errored%2Ccompleted", "statuses%5B%5D=completed&statuses%5B%5D=errored"} {
			_, body := u.get(t, http.MethodGet, "/call?page=0&page_size=1000&"+q, bearer)
			if !bytes.Equal(body, repeated) {
				t.Errorf("%s differs from repeated statuses", q)
			}
		}
	})
}

func TestGetCall(t *testing.T) {
	t.Parallel()
	u := start(t, sandbox.Options{})
	orders := getAll(t.Context(), t, u)

	t.Run("attempts come newest first and last_call_attempt is the first", func(t *testing.T) {
		t.Parallel()
		for _, o := range orders {
			if !slices.IsSortedFunc(o.CallAttempts, func(a, b revox.CallAttempt) int { return b.StartedAt.Compare(a.StartedAt.Time) }) {
				t.Errorf("%s: attempts not newest first", o.ID)
			}
			switch {
			case len(o.CallAttempts) == 0 && o.LastCallAttempt != nil:
				t.Errorf("%s: last_call_attempt without attempts", o.ID)
			case len(o.CallAttempts) > 0 && (o.LastCallAttempt == nil || !sameAttempt(t, *o.LastCallAttempt, o.CallAttempts[0])):
				t.Errorf("%s: last_call_attempt is not the newest attempt", o.ID)
			}
		}
	})

	t.Run("flags and counts agree with the status and the attempts", func(t *testing.T) {
		t.Parallel()
		withAttempts := 0
		for _, o := range orders {
			if o.CallsCount.Int() != len(o.CallAttempts) {
				t.Errorf("%s: calls_count %v, %d attempts", o.ID, o.CallsCount, len(o.CallAttempts))
			}
			if len(o.CallAttempts) > 0 {
				withAttempts++
			}
			if o.IsCompleted != (*o.Status == revox.OrderCompleted) || o.IsCancelled != (*o.Status == revox.OrderCancelled) {
				t.Errorf("%s: status %s with is_completed %v, is_cancelled %v", o.ID, *o.Status, o.IsCompleted, o.IsCancelled)
			}
			if o.FirstSentenceDelayMs == nil || o.FirstSentenceDelayMs.Int() != 400 {
				t.Errorf("%s: first_sentence_delay_ms %v", o.ID, o.FirstSentenceDelayMs)
			}
			if !o.CreatedAt.Valid() {
				t.Errorf("%s: no created_at", o.ID)
			}
			for _, a := range o.CallAttempts {
				if a.StartedAt.Before(o.CreatedAt.Time) || o.ScheduledAt.Valid() && a.StartedAt.Before(o.ScheduledAt.Time) {
					t.Errorf("%s: attempt %s started before the order was created or scheduled", o.ID, a.ID)
				}
			}
		}
		if withAttempts*10 < len(orders)*9 {
			t.Errorf("only %d of %d orders have attempts", withAttempts, len(orders))
		}
	})

	t.Run("calls_count is sometimes sent in float form", func(t *testing.T) {
		t.Parallel()
		for _, id := range u.sb.OrderIDs() {
			if _, body := u.get(t, http.MethodGet, "/call/"+id, bearer); regexp.MustCompile(`"calls_count":[0-9]\.0,`).Match(body) {
				return
			}
		}
		t.Error("no order sends calls_count as a float")
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()
	u := start(t, sandbox.Options{FirstPage: 1})
	id := u.sb.OrderIDs()[0]
	cases := []struct {
		name   string
		method string
		target string
		auth   string
		status int
	}{
		{"no Authorization header is 401", http.MethodGet, "/call?page=1&page_size=5", "", http.StatusUnauthorized},
		{"a wrong key is 401", http.MethodGet, "/call/" + id, "Bearer sk_wrong", http.StatusUnauthorized},
		{"a Basic scheme is 401", http.MethodGet, "/call/" + id, "Basic " + sandbox.DefaultAPIKey, http.StatusUnauthorized},
		{"an unknown path without a key is 401, the key being checked first", http.MethodGet, "/calls", "", http.StatusUnauthorized},
		{"an unknown path is 404", http.MethodGet, "/calls", bearer, http.StatusNotFound},
		{"an unknown call id is 404", http.MethodGet, "/call/nope", bearer, http.StatusNotFound},
		{"an empty call id is 404", http.MethodGet, "/call/", bearer, http.StatusNotFound},
		{"a path below a call is 404", http.MethodGet, "/call/" + id + "/attempts", bearer, http.StatusNotFound},
		{"PUT on the list is 405", http.MethodPut, "/call", bearer, http.StatusMethodNotAllowed},
		{"DELETE on a call is 405", http.MethodDelete, "/call/" + id, bearer, http.StatusMethodNotAllowed},
		{"a missing page is 400", http.MethodGet, "/call?page_size=5", bearer, http.StatusBadRequest},
		{"a missing page_size is 400", http.MethodGet, "/call?page=1", bearer, http.StatusBadRequest},
		{"a page below the first page is 400", http.MethodGet, "/call?page=0&page_size=5", bearer, http.StatusBadRequest},
		{"a non-integer page is 400", http.MethodGet, "/call?page=one&page_size=5", bearer, http.StatusBadRequest},
		{"a zero page_size is 400", http.MethodGet, "/call?page=1&page_size=0", bearer, http.StatusBadRequest},
		{"a page_size above the maximum is 400", http.MethodGet, "/call?page=1&page_size=1001", bearer, http.StatusBadRequest},
		{"an unknown status is 400", http.MethodGet, "/call?page=1&page_size=5&statuses=completed&statuses=done", bearer, http.StatusBadRequest},
		{"an order status the filter does not list is 400", http.MethodGet, "/call?page=1&page_size=5&statuses=paused", bearer, http.StatusBadRequest},
		{"a malformed escape is 400", http.MethodGet, "/call?page=1&page_size=5&statuses=%zz", bearer, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := u.get(t, tc.method, tc.target, tc.auth)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var shaped map[string]string
			if err := json.Unmarshal(body, &shaped); err != nil || len(shaped) != 1 || shaped["message"] == "" {
				t.Errorf(`body %s is not {"message": "..."}`, body)
			}
			if tc.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != map[bool]string{true: "GET, HEAD, POST", false: "GET, HEAD"}[tc.target == "/call"] {
				t.Errorf("Allow %q", resp.Header.Get("Allow"))
			}
		})
	}

	t.Run("the client maps the statuses to its sentinel errors", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		if _, err := u.client.GetCall(ctx, "nope", revox.GetCallOptions{}); !errors.Is(err, revox.ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
		if _, err := u.client.ListCalls(ctx, revox.ListCallsOptions{PageSize: 5, Statuses: []revox.OrderStatus{"done"}}); !errors.Is(err, revox.ErrRejected) {
			t.Errorf("unknown status: %v", err)
		}
		wrong, err := revox.New(u.srv.URL, "sk_wrong", revox.WithFirstPage(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wrong.GetCall(ctx, id, revox.GetCallOptions{}); !errors.Is(err, revox.ErrUnauthorized) {
			t.Errorf("wrong key: %v", err)
		}
	})

	t.Run("configured keys replace the default one", func(t *testing.T) {
		t.Parallel()
		k := start(t, sandbox.Options{APIKeys: []string{"sk_one", "sk_two"}})
		for auth, want := range map[string]int{"Bearer sk_one": 200, "bearer sk_two": 200, bearer: 401} {
			if resp, _ := k.get(t, http.MethodGet, "/call?page=0&page_size=1", auth); resp.StatusCode != want {
				t.Errorf("%s: status %d, want %d", auth, resp.StatusCode, want)
			}
		}
	})
}

func TestRequests(t *testing.T) {
	t.Parallel()
	u := start(t, sandbox.Options{})
	ctx := t.Context()
	if n := u.sb.Requests(); n != 0 {
		t.Fatalf("a new server counts %d requests", n)
	}
	_, _ = u.client.ListCalls(ctx, revox.ListCallsOptions{PageSize: 10})
	_, _ = u.client.GetCall(ctx, u.sb.OrderIDs()[3], revox.GetCallOptions{})
	_, _ = u.client.GetCall(ctx, "nope", revox.GetCallOptions{})
	u.get(t, http.MethodGet, "/call", "")
	u.get(t, http.MethodPost, "/call", bearer)
	if n := u.sb.Requests(); n != 5 {
		t.Fatalf("counted %d requests, want 5 including the failed ones", n)
	}
	u.sb.ResetRequests()
	_, _ = u.client.ListCalls(ctx, revox.ListCallsOptions{PageSize: 10})
	if n := u.sb.Requests(); n != 1 {
		t.Fatalf("counted %d requests after reset, want 1", n)
	}
}

// discard is a ResponseWriter that keeps nothing, so that the benchmark
// measures the handler alone.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header { return d.h }

func (d *discard) Write(b []byte) (int, error) { return len(b), nil }

func (d *discard) WriteHeader(int) {}

func BenchmarkServeHTTP(b *testing.B) {
	sb := sandbox.New(sandbox.Options{})
	for _, target := range []string{
		"/call?page=2&page_size=50",
		"/call?page=0&page_size=50&statuses=completed&statuses=calling",
		"/call/" + url.PathEscape(sb.OrderIDs()[10]),
	} {
		b.Run(target, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Authorization", bearer)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				sb.ServeHTTP(w, req)
			}
		})
	}
}
