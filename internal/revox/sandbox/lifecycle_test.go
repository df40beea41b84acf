package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// clock is an injected sandbox clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// liveAttempt is the part of an attempt the lifecycle tests read.
type liveAttempt struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Result     *string         `json:"result"`
	StartedAt  json.RawMessage `json:"started_at"`
	AnsweredAt json.RawMessage `json:"answered_at"`
	EndedAt    json.RawMessage `json:"ended_at"`
	Recording  *string         `json:"recording_url"`
	EndedBy    *string         `json:"ended_by"`
	Transcript []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"transcript"`
}

type liveOrder struct {
	ID           string          `json:"id"`
	Status       string          `json:"status"`
	Outcome      *string         `json:"outcome"`
	IsCompleted  bool            `json:"is_completed"`
	IsCancelled  bool            `json:"is_cancelled"`
	CallsCount   json.Number     `json:"calls_count"`
	NextCallAt   json.RawMessage `json:"next_call_at"`
	ScheduledAt  json.RawMessage `json:"scheduled_at"`
	CallAttempts []liveAttempt   `json:"call_attempts"`
}

// serve runs one request through the handler directly, so that it works
// inside a synctest bubble too.
func serve(t testing.TB, h http.Handler, method, target, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", bearer)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func order(t *testing.T, h http.Handler, id string) liveOrder {
	t.Helper()
	code, body := serve(t, h, http.MethodGet, "/call/"+id, "")
	var o struct{ Call liveOrder }
	if err := json.Unmarshal(body, &o); code != 200 || err != nil {
		t.Fatalf("GET /call/%s: %d %s %v", id, code, body, err)
	}
	return o.Call
}

// listHead returns the ids of the first page of GET /call with a filter.
func listHead(t *testing.T, h http.Handler, query string) []string {
	t.Helper()
	code, body := serve(t, h, http.MethodGet, "/call?page=0&page_size=5"+query, "")
	var l struct{ Calls []liveAttempt }
	if err := json.Unmarshal(body, &l); code != 200 || err != nil {
		t.Fatalf("GET /call%s: %d %s %v", query, code, body, err)
	}
	ids := make([]string, len(l.Calls))
	for i, a := range l.Calls {
		ids[i] = a.ID
	}
	return ids
}

func place(t *testing.T, h http.Handler, body string) liveOrder {
	t.Helper()
	code, b := serve(t, h, http.MethodPost, "/call", body)
	var o struct{ Call liveOrder }
	if err := json.Unmarshal(b, &o); code != 200 || err != nil {
		t.Fatalf("POST /call: %d %s %v", code, b, err)
	}
	return o.Call
}

func TestPlacedOrderComesAlive(t *testing.T) {
	t.Parallel()
	clk := newClock()
	sb := sandbox.New(sandbox.Options{Now: clk.Now, Orders: 30})
	o := place(t, sb, `{"phone_number":"+14155550100","assistant_id":"`+sb.AssistantIDs()[0]+`","prompt_variables":{"first_name":"Grace"}}`)
	attempt := o.CallAttempts[0].ID

	type step struct {
		order, attempt string
		in, notIn      string // status filters that list / do not list the attempt
	}
	check := func(t *testing.T, want step) liveOrder {
		t.Helper()
		got := order(t, sb, o.ID)
		if got.Status != want.order || len(got.CallAttempts) != 1 || got.CallAttempts[0].Status != want.attempt {
			t.Fatalf("order %s with attempts %+v, want %s with one %s attempt", got.Status, got.CallAttempts, want.order, want.attempt)
		}
		if head := listHead(t, sb, ""); head[0] != attempt {
			t.Errorf("GET /call head %v, want the placed attempt first", head)
		}
		if head := listHead(t, sb, "&statuses="+want.in); len(head) == 0 || head[0] != attempt {
			t.Errorf("statuses=%s head %v lacks the attempt", want.in, head)
		}
		if head := listHead(t, sb, "&statuses="+want.notIn); slices.Contains(head, attempt) {
			t.Errorf("statuses=%s lists the attempt", want.notIn)
		}
		return got
	}

	t.Run("placed: queued_for_calling, attempt queued and not started", func(t *testing.T) {
		got := check(t, step{"queued_for_calling", "queued", "queued_for_calling", "calling"})
		if string(got.CallAttempts[0].StartedAt) != "null" || string(got.NextCallAt) == "null" || got.CallsCount != "1" {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("2 s later: calling, attempt ringing", func(t *testing.T) {
		clk.Advance(2 * time.Second)
		got := check(t, step{"calling", "ringing", "calling", "queued_for_calling"})
		if string(got.CallAttempts[0].StartedAt) == "null" || string(got.NextCallAt) != "null" {
			t.Fatalf("%+v", got)
		}
	})
	var full int
	t.Run("answered: ongoing, the transcript grows turn by turn", func(t *testing.T) {
		clk.Advance(6 * time.Second)
		got := check(t, step{"calling", "ongoing", "calling", "completed"})
		a := got.CallAttempts[0]
		if a.Result == nil || *a.Result != "human" || string(a.AnsweredAt) == "null" || len(a.Transcript) != 0 {
			t.Fatalf("at the answer: %+v", a)
		}
		seen := []int{0}
		for range 200 {
			clk.Advance(time.Second)
			got = order(t, sb, o.ID)
			if got.Status != "calling" {
				break
			}
			n := len(got.CallAttempts[0].Transcript)
			if n < seen[len(seen)-1] {
				t.Fatalf("the transcript shrank from %d to %d turns", seen[len(seen)-1], n)
			}
			if n != seen[len(seen)-1] {
				seen = append(seen, n)
			}
		}
		if len(seen) < 5 {
			t.Fatalf("transcript lengths seen %v: want it to grow over several reads", seen)
		}
		if !strings.Contains(got.CallAttempts[0].Transcript[0].Content, "Grace") {
			t.Errorf("first turn %q does not greet the callee named in prompt_variables", got.CallAttempts[0].Transcript[0].Content)
		}
		full = seen[len(seen)-1]
	})
	t.Run("then completed, with the whole conversation, and it stays so", func(t *testing.T) {
		got := check(t, step{"completed", "completed", "completed", "calling"})
		a := got.CallAttempts[0]
		if !got.IsCompleted || got.Outcome == nil || string(a.EndedAt) == "null" || a.Recording == nil || a.EndedBy == nil || len(a.Transcript) < full {
			t.Fatalf("%+v", got)
		}
		clk.Advance(30 * 24 * time.Hour)
		if later := order(t, sb, o.ID); later.Status != "completed" || len(later.CallAttempts[0].Transcript) != len(a.Transcript) {
			t.Fatalf("a month later: %+v", later)
		}
	})
}

func TestScheduledOrder(t *testing.T) {
	t.Parallel()
	clk := newClock()
	sb := sandbox.New(sandbox.Options{Now: clk.Now, Orders: 30})
	at := clk.Now().Add(time.Hour)
	o := place(t, sb, `{"phone_number":"+33612345678","assistant":{"prompt":"p"},"scheduled_at":"`+at.Format(time.RFC3339)+`"}`)
	t.Run("until scheduled_at it is scheduled, without attempts, and next_call_at is that time", func(t *testing.T) {
		if o.Status != "scheduled" || len(o.CallAttempts) != 0 || string(o.NextCallAt) != string(o.ScheduledAt) || o.CallsCount != "0" {
			t.Fatalf("%+v", o)
		}
		clk.Advance(time.Hour - time.Second)
		if got := order(t, sb, o.ID); got.Status != "scheduled" {
			t.Fatalf("a second early: %s", got.Status)
		}
		fresh := sandbox.New(sandbox.Options{Orders: 30})
		for _, q := range []string{"", "&statuses=scheduled"} {
			if got, want := listHead(t, sb, q), listHead(t, fresh, q); !slices.Equal(got, want) {
				t.Fatalf("GET /call%s lists %v, want the dataset alone %v", q, got, want)
			}
		}
	})
	t.Run("at scheduled_at it queues", func(t *testing.T) {
		clk.Advance(time.Second)
		if got := order(t, sb, o.ID); got.Status != "queued_for_calling" || len(got.CallAttempts) != 1 {
			t.Fatalf("%+v", got)
		}
	})
}

func TestCancelFreezesTheCall(t *testing.T) {
	t.Parallel()
	clk := newClock()
	sb := sandbox.New(sandbox.Options{Now: clk.Now, Orders: 30})
	o := place(t, sb, `{"phone_number":"+14155550100","assistant_id":"`+sb.AssistantIDs()[3]+`"}`)
	clk.Advance(20 * time.Second) // a few turns into the conversation
	code, body := serve(t, sb, http.MethodPost, "/call/"+o.ID+"/cancel", "")
	var c struct{ Call liveOrder }
	if err := json.Unmarshal(body, &c); code != 200 || err != nil {
		t.Fatalf("%d %s", code, body)
	}
	a := c.Call.CallAttempts[0]
	if c.Call.Status != "cancelled" || !c.Call.IsCancelled || c.Call.IsCompleted || a.Status != "completed" || a.EndedBy == nil || *a.EndedBy != "system" || len(a.Transcript) == 0 {
		t.Fatalf("cancelled mid-call: %+v", c.Call)
	}
	clk.Advance(time.Hour)
	later := order(t, sb, o.ID)
	if later.Status != "cancelled" || len(later.CallAttempts[0].Transcript) != len(a.Transcript) || string(later.CallAttempts[0].EndedAt) != string(a.EndedAt) {
		t.Fatalf("an hour later: %+v", later)
	}
	if head := listHead(t, sb, "&statuses=cancelled"); len(head) == 0 || head[0] != a.ID {
		t.Fatalf("statuses=cancelled head %v", head)
	}
}

func TestTimeScale(t *testing.T) {
	t.Parallel()
	clk := newClock()
	sb := sandbox.New(sandbox.Options{Now: clk.Now, TimeScale: 60, Orders: 30})
	o := place(t, sb, `{"phone_number":"+14155550100","assistant_id":"`+sb.AssistantIDs()[0]+`"}`)
	clk.Advance(5 * time.Second) // five minutes of nominal call time
	if got := order(t, sb, o.ID); got.Status != "completed" {
		t.Fatalf("at 60x, a call is still %s after 5 s", got.Status)
	}
}

func TestLifecycleOnTheDefaultClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := sandbox.New(sandbox.Options{Orders: 30, TimeScale: 10})
		o := place(t, sb, `{"phone_number":"+14155550100","assistant_id":"`+sb.AssistantIDs()[0]+`"}`)
		time.Sleep(time.Second) // 10 s of nominal time: past queueing and ringing
		if got := order(t, sb, o.ID); got.Status != "calling" || got.CallAttempts[0].Status != "ongoing" {
			t.Fatalf("after 1 s at 10x: %s / %s", got.Status, got.CallAttempts[0].Status)
		}
		time.Sleep(time.Minute)
		if got := order(t, sb, o.ID); got.Status != "completed" {
			t.Fatalf("after a minute at 10x: %s", got.Status)
		}
	})
}

func TestClientDecodesEveryPhase(t *testing.T) {
	t.Parallel()
	clk := newClock()
	u := start(t, sandbox.Options{Now: clk.Now, Orders: 20})
	_, body := u.post(t, "/call", bearer, `{"phone_number":"+14155550100","assistant_id":"`+u.sb.AssistantIDs()[0]+`","scheduled_at":"`+clk.Now().Add(time.Minute).Format(time.RFC3339)+`"}`)
	id := decodePlaced(t, body).Call.ID
	for _, step := range []struct {
		after   time.Duration
		order   revox.OrderStatus
		attempt revox.AttemptStatus
	}{
		{0, revox.OrderScheduled, ""},
		{time.Minute, revox.OrderQueuedForCalling, revox.AttemptQueued},
		{2 * time.Second, revox.OrderCalling, revox.AttemptRinging},
		{15 * time.Second, revox.OrderCalling, revox.AttemptOngoing},
		{10 * time.Minute, revox.OrderCompleted, revox.AttemptCompleted},
	} {
		clk.Advance(step.after)
		t.Run("the client decodes a "+string(step.order)+" order and the list around it", func(t *testing.T) {
			o, err := u.client.GetCall(t.Context(), id, revox.GetCallOptions{})
			if err != nil || o.Status == nil || *o.Status != step.order {
				t.Fatalf("%+v %v", o, err)
			}
			if !o.CreatedAt.Valid() || !o.ScheduledAt.Valid() {
				t.Errorf("created_at %v scheduled_at %v", o.CreatedAt, o.ScheduledAt)
			}
			if step.attempt == "" {
				if len(o.CallAttempts) != 0 || o.LastCallAttempt != nil {
					t.Fatalf("attempts %+v", o.CallAttempts)
				}
				return
			}
			if len(o.CallAttempts) != 1 || o.CallAttempts[0].Status != step.attempt || o.LastCallAttempt == nil || o.LastCallAttempt.ID != o.CallAttempts[0].ID {
				t.Fatalf("attempts %+v", o.CallAttempts)
			}
			items, err := u.client.ListCalls(t.Context(), revox.ListCallsOptions{PageSize: 2, Statuses: []revox.OrderStatus{step.order}})
			if err != nil || len(items) == 0 || items[0].ID != o.CallAttempts[0].ID {
				t.Fatalf("ListCalls(%s) = %+v, %v", step.order, items, err)
			}
		})
	}
	t.Run("the client decodes an order cancelled while ringing", func(t *testing.T) {
		_, body := u.post(t, "/call", bearer, `{"phone_number":"+14155550100","assistant_id":"`+u.sb.AssistantIDs()[0]+`"}`)
		cancelled := decodePlaced(t, body).Call.ID
		clk.Advance(3 * time.Second)
		if resp, body := u.post(t, "/call/"+cancelled+"/cancel", bearer, ""); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		o, err := u.client.GetCall(t.Context(), cancelled, revox.GetCallOptions{})
		if err != nil || o.Status == nil || *o.Status != revox.OrderCancelled || !o.IsCancelled {
			t.Fatalf("%+v %v", o, err)
		}
	})
}

func TestConcurrencyKeyQueuesCalls(t *testing.T) {
	t.Parallel()
	clk := newClock()
	sb := sandbox.New(sandbox.Options{Now: clk.Now, Orders: 20})
	body := func(key string, max int) string {
		return fmt.Sprintf(`{"phone_number":"+14155550100","assistant_id":%q,"concurrency":{"key":%q,"max":%d}}`, sb.AssistantIDs()[0], key, max)
	}
	var solo, pair []string
	for range 3 {
		solo = append(solo, place(t, sb, body("solo", 1)).ID)
		pair = append(pair, place(t, sb, body("pair", 2)).ID)
	}
	free := place(t, sb, `{"phone_number":"+14155550100","assistant_id":"`+sb.AssistantIDs()[0]+`"}`).ID
	statuses := func(ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, order(t, sb, id).Status)
		}
		return out
	}
	clk.Advance(3 * time.Second) // every order would be ringing by now without a key
	if got := statuses(solo...); !slices.Equal(got, []string{"calling", "queued_for_calling", "queued_for_calling"}) {
		t.Fatalf("max 1: %v, want one call at a time", got)
	}
	if got := statuses(pair...); !slices.Equal(got, []string{"calling", "calling", "queued_for_calling"}) {
		t.Fatalf("max 2: %v, want two calls at a time", got)
	}
	if got := statuses(free); got[0] != "calling" {
		t.Fatalf("an order without a key waits: %v", got)
	}
	// Step until the first solo call ends: the second rings at that instant.
	for order(t, sb, solo[0]).Status != "completed" {
		clk.Advance(500 * time.Millisecond)
	}
	if got := statuses(solo...); !slices.Equal(got, []string{"completed", "calling", "queued_for_calling"}) {
		t.Fatalf("after the first call: %v", got)
	}
	clk.Advance(time.Hour)
	if got := statuses(append(solo, pair...)...); slices.ContainsFunc(got, func(s string) bool { return s != "completed" }) {
		t.Fatalf("an hour later: %v", got)
	}
}
