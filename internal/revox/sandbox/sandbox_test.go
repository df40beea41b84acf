package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
