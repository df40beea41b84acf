package sandbox_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// upstream is a sandbox served over real HTTP with a client pointed at it.
type upstream struct {
	sb     *sandbox.Server
	srv    *httptest.Server
	client *revox.Client
}

func start(t *testing.T, opts sandbox.Options) *upstream {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	key := sandbox.DefaultAPIKey
	if len(opts.APIKeys) > 0 {
		key = opts.APIKeys[0]
	}
	c, err := revox.New(srv.URL, key, revox.WithFirstPage(opts.FirstPage), revox.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return &upstream{sb: sb, srv: srv, client: c}
}

// get performs a raw request so that tests can see bytes, status and headers
// the client hides.
func (u *upstream) get(t *testing.T, method, target, auth string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u.srv.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := u.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

const bearer = "Bearer " + sandbox.DefaultAPIKey

// listAll pages through GET /call until a short page, as a gateway must.
func listAll(ctx context.Context, t *testing.T, c *revox.Client, size int, statuses ...revox.OrderStatus) []revox.CallAttempt {
	t.Helper()
	var all []revox.CallAttempt
	for page := 0; ; page++ {
		items, err := c.ListCalls(ctx, revox.ListCallsOptions{Page: page, PageSize: size, Statuses: statuses})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		all = append(all, items...)
		if len(items) < size {
			return all
		}
	}
}

func getAll(ctx context.Context, t *testing.T, u *upstream) []*revox.CallOrder {
	t.Helper()
	var orders []*revox.CallOrder
	for _, id := range u.sb.OrderIDs() {
		o, err := u.client.GetCall(ctx, id, revox.GetCallOptions{})
		if err != nil {
			t.Fatalf("GetCall(%s): %v", id, err)
		}
		orders = append(orders, o)
	}
	return orders
}

// deref turns a nil pointer into an untyped nil, so that "absent" is one map
// key whatever the pointer's type.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestDataset(t *testing.T) {
	t.Parallel()

	t.Run("the same seed serves identical bytes", func(t *testing.T) {
		t.Parallel()
		a, b := start(t, sandbox.Options{Seed: 42}), start(t, sandbox.Options{Seed: 42})
		for _, target := range []string{"/call?page=0&page_size=1000", "/call?page=0&page_size=1000&statuses=completed,calling"} {
			_, x := a.get(t, http.MethodGet, target, bearer)
			_, y := b.get(t, http.MethodGet, target, bearer)
			if !bytes.Equal(x, y) {
				t.Fatalf("%s differs between two servers with the same seed", target)
			}
		}
		ids := a.sb.OrderIDs()
		if !slices.Equal(ids, b.sb.OrderIDs()) {
			t.Fatal("order ids differ")
		}
		for _, id := range ids {
			_, x := a.get(t, http.MethodGet, "/call/"+id, bearer)
			_, y := b.get(t, http.MethodGet, "/call/"+id, bearer)
			if !bytes.Equal(x, y) {
				t.Fatalf("order %s differs", id)
			}
		}
	})

	t.Run("a different seed serves a different dataset", func(t *testing.T) {
		t.Parallel()
		a, b := start(t, sandbox.Options{}), start(t, sandbox.Options{Seed: 7})
		_, x := a.get(t, http.MethodGet, "/call?page=0&page_size=50", bearer)
		_, y := b.get(t, http.MethodGet, "/call?page=0&page_size=50", bearer)
		if bytes.Equal(x, y) {
			t.Fatal("seeds 0 and 7 serve the same first page")
		}
	})

	t.Run("Orders sets the number of call orders", func(t *testing.T) {
		t.Parallel()
		if got := len(sandbox.New(sandbox.Options{Orders: 30}).OrderIDs()); got != 30 {
			t.Fatalf("got %d orders, want 30", got)
		}
		if got := len(sandbox.New(sandbox.Options{}).OrderIDs()); got != sandbox.DefaultOrders {
			t.Fatalf("got %d orders, want %d", got, sandbox.DefaultOrders)
		}
	})

	for _, seed := range []uint64{0, 1, 2, 3} {
		t.Run(fmt.Sprintf("with seed %d every documented enum value appears, and exactly three undocumented ones", seed), func(t *testing.T) {
			t.Parallel()
			u := start(t, sandbox.Options{Seed: seed})
			checkCoverage(t, u)
		})
	}

	t.Run("attempts are consistent with whether they were answered", func(t *testing.T) {
		t.Parallel()
		u := start(t, sandbox.Options{})
		e164 := regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
		for _, a := range listAll(t.Context(), t, u.client, 1000) {
			if !e164.MatchString(a.PhoneNumber) {
				t.Errorf("%s: phone number %q is not E.164", a.ID, a.PhoneNumber)
			}
			if !a.StartedAt.Valid() || a.StartedAt.After(u.sb.BaseTime()) {
				t.Errorf("%s: started_at %v missing or after the base time", a.ID, a.StartedAt)
			}
			if a.AnsweredAt.Valid() && !a.AnsweredAt.After(a.StartedAt.Time) {
				t.Errorf("%s: answered %v not after start %v", a.ID, a.AnsweredAt, a.StartedAt)
			}
			if a.EndedAt.Valid() && !a.EndedAt.After(a.StartedAt.Time) || a.EndedAt.Valid() && a.AnsweredAt.Valid() && !a.EndedAt.After(a.AnsweredAt.Time) {
				t.Errorf("%s: ended %v not after start %v / answer %v", a.ID, a.EndedAt, a.StartedAt, a.AnsweredAt)
			}
			if (a.EndReason != nil) && (a.EndedBy == nil || *a.EndedBy != revox.EndedByAgent) {
				t.Errorf("%s: end_reason %q without ended_by agent", a.ID, *a.EndReason)
			}
			switch {
			case !a.AnsweredAt.Valid():
				if a.Transcript.Present() || a.RecordingURL != nil || string(a.StructuredOutput) != "null" {
					t.Errorf("%s: unanswered attempt has a transcript, recording or structured output", a.ID)
				}
			case a.DialError != nil:
				t.Errorf("%s: answered attempt has dial_error %q", a.ID, *a.DialError)
			case a.Status == revox.AttemptCompleted && a.Result != nil && *a.Result == revox.ResultHuman:
				if n, _ := a.Transcript.Len(); n < 4 || n > 14 {
					t.Errorf("%s: %d transcript turns, want 4 to 14", a.ID, n)
				}
				if a.RecordingURL == nil {
					t.Errorf("%s: answered call without recording", a.ID)
				}
			}
		}
	})

	t.Run("timestamps come in every form clients must accept", func(t *testing.T) {
		t.Parallel()
		u := start(t, sandbox.Options{})
		forms := map[string]int{}
		classify := func(raw json.RawMessage) string {
			s := string(raw)
			switch {
			case s == "null", s == "{}":
				return s
			case strings.HasSuffix(s, `Z"`) && strings.Contains(s, "."):
				return "RFC 3339 with fraction, UTC"
			case strings.HasSuffix(s, `+02:00"`) && !strings.Contains(s, "."):
				return "RFC 3339 with offset"
			case len(s) == 13 && s[0] != '"':
				return "epoch milliseconds"
			case len(s) == 10 && s[0] != '"':
				return "epoch seconds"
			}
			return "unexpected " + s
		}
		var body struct {
			Calls []map[string]json.RawMessage `json:"calls"`
		}
		_, raw := u.get(t, http.MethodGet, "/call?page=0&page_size=1000", bearer)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		for _, a := range body.Calls {
			if f := classify(a["started_at"]); f == "null" || f == "{}" {
				t.Errorf("started_at is %s: the list is ordered by it", f)
			}
			for _, k := range []string{"started_at", "answered_at", "ended_at"} {
				forms[classify(a[k])]++
			}
		}
		for _, id := range u.sb.OrderIDs() {
			var order struct {
				Call map[string]json.RawMessage `json:"call"`
			}
			_, raw := u.get(t, http.MethodGet, "/call/"+id, bearer)
			if err := json.Unmarshal(raw, &order); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"created_at", "scheduled_at", "next_call_at"} {
				forms[classify(order.Call[k])]++
			}
		}
		for _, f := range []string{"null", "{}", "RFC 3339 with fraction, UTC", "RFC 3339 with offset", "epoch milliseconds", "epoch seconds"} {
			if forms[f] == 0 {
				t.Errorf("no timestamp as %s (seen %v)", f, forms)
			}
		}
		if len(forms) != 6 {
			t.Errorf("unexpected forms: %v", forms)
		}
	})

	t.Run("attempts carry unknown fields clients must ignore", func(t *testing.T) {
		t.Parallel()
		u := start(t, sandbox.Options{})
		_, raw := u.get(t, http.MethodGet, "/call?page=0&page_size=1000", bearer)
		for _, field := range []string{`"handled_by_ai":`, `"assistants_used":`} {
			if !bytes.Contains(raw, []byte(field)) {
				t.Errorf("no attempt has %s", field)
			}
		}
		if !regexp.MustCompile(`"end_reason":(null|"[a-z_]+"),"structured_output"`).Match(raw) {
			t.Error("no attempt omits the transcript key")
		}
	})
}

// checkCoverage asserts that the dataset exercises every documented enum
// value and the three undocumented ones.
func checkCoverage(t *testing.T, u *upstream) {
	t.Helper()
	attempts := listAll(t.Context(), t, u.client, 1000)
	seen := map[string]map[any]int{}
	note := func(field string, v any) {
		if seen[field] == nil {
			seen[field] = map[any]int{}
		}
		seen[field][v]++
	}
	undocumented := 0
	for _, a := range attempts {
		note("status", a.Status)
		note("result", deref(a.Result))
		note("dial_error", deref(a.DialError))
		note("ended_by", deref(a.EndedBy))
		note("end_reason", deref(a.EndReason))
		if a.Status == "transferring" || a.Result != nil && *a.Result == "fax" || a.DialError != nil && *a.DialError == "circuit_congestion" {
			undocumented++
		}
		turns, err := a.Transcript.Turns()
		if err != nil {
			t.Fatalf("%s: transcript: %v", a.ID, err)
		}
		for _, turn := range turns {
			note("role", turn.Role)
			if turn.Role == revox.RoleTool {
				note("tool_arguments", string(turn.ToolArguments[:1]))
				note("tool_is_error", deref(turn.ToolIsError))
			}
		}
	}
	for _, o := range getAll(t.Context(), t, u) {
		note("order status", deref(o.Status))
		note("direction", o.Direction)
		note("llm_model", o.LlmModel.Type)
		note("metadata null", string(o.Metadata) == "null")
		note("call_retry_config null", o.CallRetryConfig == nil)
		if o.CallRetryConfig != nil {
			note("calling_windows null", o.CallRetryConfig.CallingWindows == nil)
		}
	}
	want := map[string][]any{
		"status":                 {revox.AttemptQueued, revox.AttemptRinging, revox.AttemptOngoing, revox.AttemptCompleted, revox.AttemptError, revox.AttemptStatus("transferring")},
		"result":                 {revox.ResultIVR, revox.ResultVoicemail, revox.ResultHuman, revox.ResultUnknown, revox.ResultIOSScreeningFilter, revox.CallResult("fax"), nil},
		"dial_error":             {revox.DialNumberNonAttributed, revox.DialTooManyCalls, revox.DialBusy, revox.DialTemporarilyUnavailable, revox.DialNoAnswer, revox.DialNoInternationalPermit, revox.DialPreconditionFailed, revox.DialNonClassifiedError, revox.DialError("circuit_congestion"), nil},
		"ended_by":               {revox.EndedByAgent, revox.EndedByUser, revox.EndedBySystem, nil},
		"end_reason":             {"tool_end_call", "voicemail", "transfer", "ivr_no_navigate", nil},
		"role":                   {revox.RoleUser, revox.RoleAssistant, revox.RoleTool},
		"tool_arguments":         {"{", `"`},
		"tool_is_error":          {true, false, nil},
		"order status":           {revox.OrderInitializing, revox.OrderQueuedForCalling, revox.OrderCalling, revox.OrderPostProcessing, revox.OrderNotLaunched, revox.OrderScheduled, revox.OrderPaused, revox.OrderCompleted, revox.OrderCancelled, revox.OrderErrored},
		"direction":              {revox.DirectionInbound, revox.DirectionOutbound},
		"llm_model":              {"dedicated-instance", "openrouter", "realtime"},
		"metadata null":          {true, false},
		"call_retry_config null": {true, false},
		"calling_windows null":   {true, false},
	}
	for field, values := range want {
		for _, v := range values {
			if seen[field][v] == 0 {
				t.Errorf("%s: value %v never appears (seen %v)", field, v, seen[field])
			}
		}
		if len(seen[field]) != len(values) {
			t.Errorf("%s: seen %v, want exactly %v", field, seen[field], values)
		}
	}
	if undocumented != 3 {
		t.Errorf("%d attempts carry an undocumented value, want 3", undocumented)
	}
}

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

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

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

// sameAttempt compares attempts field by field, transcripts by their turns
// (a transcript also records the response it was decoded with).
func sameAttempt(t *testing.T, a, b revox.CallAttempt) bool {
	t.Helper()
	at, aerr := a.Transcript.Turns()
	bt, berr := b.Transcript.Turns()
	if aerr != nil || berr != nil {
		t.Fatalf("transcripts: %v, %v", aerr, berr)
	}
	if a.Transcript.Present() != b.Transcript.Present() || !reflect.DeepEqual(at, bt) {
		return false
	}
	a.Transcript, b.Transcript = revox.Transcript{}, revox.Transcript{}
	return reflect.DeepEqual(a, b)
}
