package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// post sends a raw POST and returns status, headers and body.
func (u *upstream) post(t *testing.T, target, auth, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u.srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := u.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// placedCall is the part of {"call": ...} the tests read.
type placedCall struct {
	Call struct {
		ID              string            `json:"id"`
		Status          string            `json:"status"`
		IsCancelled     bool              `json:"is_cancelled"`
		IsCompleted     bool              `json:"is_completed"`
		FromPhoneNumber string            `json:"from_phone_number"`
		ToPhoneNumber   string            `json:"to_phone_number"`
		Metadata        map[string]string `json:"metadata"`
		ScheduledAt     json.RawMessage   `json:"scheduled_at"`
		NextCallAt      json.RawMessage   `json:"next_call_at"`
		Assistant       struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"assistant"`
		CallAttempts []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"call_attempts"`
	} `json:"call"`
}

func decodePlaced(t *testing.T, body []byte) placedCall {
	t.Helper()
	var c placedCall
	if err := json.Unmarshal(body, &c); err != nil || c.Call.ID == "" {
		t.Fatalf("body %s is not {\"call\": order}: %v", body, err)
	}
	return c
}

func TestCreateCallValidation(t *testing.T) {
	t.Parallel()
	u := start(t, sandbox.Options{})
	asst := u.sb.AssistantIDs()[0]
	ok := func(extra string) string {
		return `{"phone_number":"+14155550100","assistant_id":"` + asst + `"` + extra + `}`
	}
	cases := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"a minimal body with an assistant id is placed", ok(""), 200, ""},
		{"an inline assistant with a prompt is placed", `{"phone_number":"+33612345678","assistant":{"prompt":"Book a visit","voice":{"id":"x"}}}`, 200, ""},
		{"every documented field is accepted", ok(`,"from_phone_number":"+12125550100","metadata":{"crm":"42"},"prompt_variables":{"name":"Ada Lovelace"},"scheduled_at":"2030-01-01T10:00:00Z","concurrency":{"key":"team-a","max":2},"skip_calling_window":true`), 200, ""},
		{"unknown fields are ignored", ok(`,"force_now":false,"campaign":"x"`), 200, ""},
		{"null fields count as absent", ok(`,"metadata":null,"scheduled_at":null,"assistant":null`), 200, ""},
		{"a missing phone number is 400", `{"assistant_id":"` + asst + `"}`, 400, "phone_number"},
		{"a phone number without + is 400", `{"phone_number":"4155550100","assistant_id":"` + asst + `"}`, 400, "phone_number"},
		{"a phone number with letters is 400", `{"phone_number":"+1415555CALL","assistant_id":"` + asst + `"}`, 400, "phone_number"},
		{"a phone number of 16 digits is 400", `{"phone_number":"+1234567890123456","assistant_id":"` + asst + `"}`, 400, "phone_number"},
		{"a numeric phone number is 400", `{"phone_number":14155550100,"assistant_id":"` + asst + `"}`, 400, "phone_number"},
		{"neither assistant_id nor assistant is 400", `{"phone_number":"+14155550100"}`, 400, "assistant_id"},
		{"both assistant_id and assistant is 400", ok(`,"assistant":{"prompt":"hi"}`), 400, "assistant_id"},
		{"an unknown assistant_id is 400", `{"phone_number":"+14155550100","assistant_id":"asst_nope"}`, 400, "assistant_id"},
		{"an empty assistant_id is 400", `{"phone_number":"+14155550100","assistant_id":""}`, 400, "assistant_id"},
		{"an inline assistant without a prompt is 400", `{"phone_number":"+14155550100","assistant":{"first_sentence":"hi"}}`, 400, "assistant.prompt"},
		{"an inline assistant that is not an object is 400", `{"phone_number":"+14155550100","assistant":"Book a visit"}`, 400, "assistant"},
		{"a bad from_phone_number is 400", ok(`,"from_phone_number":"0612345678"`), 400, "from_phone_number"},
		{"a numeric metadata value is 400 naming its key", ok(`,"metadata":{"crm":"42","age":42}`), 400, "metadata.age"},
		{"metadata that is not an object is 400", ok(`,"metadata":["a"]`), 400, "metadata"},
		{"a nested prompt variable is 400 naming its key", ok(`,"prompt_variables":{"who":{"name":"x"}}`), 400, "prompt_variables.who"},
		{"a scheduled_at without a zone is 400", ok(`,"scheduled_at":"2030-01-01T10:00:00"`), 400, "scheduled_at"},
		{"a numeric scheduled_at is 400", ok(`,"scheduled_at":1893492000`), 400, "scheduled_at"},
		{"a concurrency max of 0 is 400", ok(`,"concurrency":{"key":"k","max":0}`), 400, "concurrency.max"},
		{"a fractional concurrency max is 400", ok(`,"concurrency":{"key":"k","max":1.5}`), 400, "concurrency.max"},
		{"a concurrency without key is 400", ok(`,"concurrency":{"max":3}`), 400, "concurrency.key"},
		{"a concurrency that is not an object is 400", ok(`,"concurrency":3`), 400, "concurrency"},
		{"a non-boolean skip_calling_window is 400", ok(`,"skip_calling_window":"yes"`), 400, "skip_calling_window"},
		{"a body that is not JSON is 400", `phone_number=+14155550100`, 400, ""},
		{"a JSON array is 400", `[]`, 400, ""},
		{"null is 400", `null`, 400, ""},
		{"two objects are 400", ok("") + ok(""), 400, ""},
		{"a body over the limit is 413", ok(`,"metadata":{"x":"` + strings.Repeat("a", sandbox.MaxWriteBody) + `"}`), 413, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := u.post(t, "/call", bearer, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.status == 200 {
				decodePlaced(t, body)
				return
			}
			var e struct{ Message, Field string }
			if err := json.Unmarshal(body, &e); err != nil || e.Message == "" || e.Field != tc.field {
				t.Fatalf("body %s: want a message and field %q", body, tc.field)
			}
		})
	}
	t.Run("refused bodies create no order", func(t *testing.T) {
		t.Parallel()
		v := start(t, sandbox.Options{})
		v.post(t, "/call", bearer, `{"phone_number":"nope","assistant_id":"`+asst+`"}`)
		v.post(t, "/call", "", ok(""))
		if got := v.sb.WriteStats(); got != (sandbox.WriteStats{CreateRequests: 1}) {
			t.Fatalf("stats %+v: the 401 must not count and the 400 must create nothing", got)
		}
	})
}

func TestCreateCallAnswer(t *testing.T) {
	t.Parallel()
	u := start(t, sandbox.Options{})
	asst := u.sb.AssistantIDs()[1]
	resp, body := u.post(t, "/call", bearer, `{"phone_number":"+442079460999","assistant_id":"`+asst+`","metadata":{"crm_id":"C1"}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	c := decodePlaced(t, body).Call
	t.Run("the order echoes the request", func(t *testing.T) {
		if c.ToPhoneNumber != "+442079460999" || c.Metadata["crm_id"] != "C1" || c.Assistant.ID != asst {
			t.Fatalf("order %+v", c)
		}
		if !strings.HasPrefix(c.FromPhoneNumber, "+44") {
			t.Errorf("from %q: the default trunk should be the callee's country's", c.FromPhoneNumber)
		}
	})
	t.Run("a new order is queued with a queued attempt", func(t *testing.T) {
		if c.Status != "queued_for_calling" || len(c.CallAttempts) != 1 || c.CallAttempts[0].Status != "queued" {
			t.Fatalf("status %s, attempts %+v", c.Status, c.CallAttempts)
		}
	})
	t.Run("the client decodes it from GET /call/{id} and finds its attempt at the head of GET /call", func(t *testing.T) {
		o, err := u.client.GetCall(t.Context(), c.ID, revox.GetCallOptions{})
		if err != nil || o.ID != c.ID {
			t.Fatalf("GetCall: %+v, %v", o, err)
		}
		items, err := u.client.ListCalls(t.Context(), revox.ListCallsOptions{PageSize: 3})
		if err != nil || len(items) != 3 || items[0].ID != c.CallAttempts[0].ID {
			t.Fatalf("ListCalls head %+v, %v", items, err)
		}
	})
	t.Run("placed ids are listed newest first", func(t *testing.T) {
		_, b2 := u.post(t, "/call", bearer, `{"phone_number":"+14155550100","assistant":{"prompt":"p"}}`)
		second := decodePlaced(t, b2).Call
		if ids := u.sb.PlacedOrderIDs(); len(ids) != 2 || ids[0] != second.ID || ids[1] != c.ID {
			t.Fatalf("PlacedOrderIDs %v", ids)
		}
		if second.Assistant.Name != "Inline assistant" || second.Assistant.ID == "" {
			t.Errorf("inline assistant shown as %+v", second.Assistant)
		}
	})
}

func TestCancelCall(t *testing.T) {
	t.Parallel()
	clock := newClock()
	u := start(t, sandbox.Options{Now: clock.Now})
	asst := u.sb.AssistantIDs()[0]
	place := func(extra string) string {
		_, body := u.post(t, "/call", bearer, `{"phone_number":"+14155550100","assistant_id":"`+asst+`"`+extra+`}`)
		return decodePlaced(t, body).Call.ID
	}
	scheduled := place(`,"scheduled_at":"` + clock.Now().Add(time.Hour).Format(time.RFC3339) + `"`)
	running := place("")
	finished := place("")
	clock.Advance(20 * time.Second) // running and finished are on the phone now
	_, body := u.get(t, http.MethodGet, "/call/"+running, bearer)
	if got := decodePlaced(t, body).Call.Status; got != "calling" {
		t.Fatalf("running order is %s", got)
	}
	clock.Advance(10 * time.Minute) // every conversation is over by now
	scheduledRunning := place(`,"scheduled_at":"` + clock.Now().Add(time.Hour).Format(time.RFC3339) + `"`)
	_ = scheduledRunning

	cancel := func(id string) (int, []byte) {
		resp, body := u.post(t, "/call/"+id+"/cancel", bearer, "")
		return resp.StatusCode, body
	}
	t.Run("cancelling a scheduled order answers it cancelled, without attempts", func(t *testing.T) {
		status, body := cancel(scheduled)
		c := decodePlaced(t, body).Call
		if status != 200 || c.Status != "cancelled" || !c.IsCancelled || len(c.CallAttempts) != 0 {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("cancelling it again is 409 with its status", func(t *testing.T) {
		status, body := cancel(scheduled)
		var e struct{ Message, Status string }
		if err := json.Unmarshal(body, &e); status != 409 || err != nil || e.Status != "cancelled" || e.Message == "" {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("cancelling a completed order is 409 with its status", func(t *testing.T) {
		status, body := cancel(finished)
		var e struct{ Status string }
		if err := json.Unmarshal(body, &e); status != 409 || err != nil || e.Status != "completed" {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("an unknown id is 404", func(t *testing.T) {
		if status, body := cancel("nope"); status != 404 {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("GET on a cancel path is 405 naming POST", func(t *testing.T) {
		resp, _ := u.get(t, http.MethodGet, "/call/"+running+"/cancel", bearer)
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
			t.Fatalf("%d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("the counters saw every request and each effect once", func(t *testing.T) {
		got := u.sb.WriteStats()
		want := sandbox.WriteStats{CreateRequests: 4, OrdersCreated: 4, CancelRequests: 4, OrdersCancelled: 1}
		if got != want {
			t.Fatalf("stats %+v, want %+v", got, want)
		}
	})
}

func TestPlacedOrdersAreBounded(t *testing.T) {
	t.Parallel()
	clock := newClock()
	u := start(t, sandbox.Options{Now: clock.Now, MaxPlacedOrders: 3, Orders: 10})
	body := `{"phone_number":"+14155550100","assistant_id":"` + u.sb.AssistantIDs()[0] + `"}`
	var first string
	for i := range 3 {
		resp, b := u.post(t, "/call", bearer, body)
		if resp.StatusCode != 200 {
			t.Fatalf("order %d: %d", i, resp.StatusCode)
		}
		if i == 0 {
			first = decodePlaced(t, b).Call.ID
		}
	}
	t.Run("at the cap with every order in flight, POST /call is 429", func(t *testing.T) {
		resp, _ := u.post(t, "/call", bearer, body)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
	t.Run("once orders are over, the oldest is evicted for a new one", func(t *testing.T) {
		clock.Advance(time.Hour)
		if resp, _ := u.post(t, "/call", bearer, body); resp.StatusCode != 200 {
			t.Fatalf("%d", resp.StatusCode)
		}
		ids := u.sb.PlacedOrderIDs()
		if len(ids) != 3 || ids[2] == first {
			t.Fatalf("placed %v still holds the oldest %s", ids, first)
		}
		if resp, _ := u.get(t, http.MethodGet, "/call/"+first, bearer); resp.StatusCode != 404 {
			t.Fatalf("evicted order answers %d", resp.StatusCode)
		}
	})
}

func TestTenantsPlaceOrdersApart(t *testing.T) {
	t.Parallel()
	tenants := sandbox.NewTenants([]string{"sk_a", "sk_b"}, sandbox.Options{Orders: 20})
	srv := httptest.NewServer(tenants)
	t.Cleanup(srv.Close)
	u := &upstream{srv: srv}
	a := tenants.Server("sk_a")
	if a.AssistantIDs()[0] == tenants.Server("sk_b").AssistantIDs()[0] {
		t.Fatal("tenants share assistant ids")
	}
	resp, b := u.post(t, "/call", "Bearer sk_a", `{"phone_number":"+14155550100","assistant_id":"`+a.AssistantIDs()[0]+`"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	id := decodePlaced(t, b).Call.ID
	if resp, _ := u.post(t, "/call", "Bearer sk_b", `{"phone_number":"+14155550100","assistant_id":"`+a.AssistantIDs()[0]+`"}`); resp.StatusCode != 400 {
		t.Errorf("tenant b used tenant a's assistant: %d", resp.StatusCode)
	}
	if resp, _ := u.get(t, http.MethodGet, "/call/"+id, "Bearer sk_b"); resp.StatusCode != 404 {
		t.Errorf("tenant b sees tenant a's order: %d", resp.StatusCode)
	}
	if resp, _ := u.post(t, "/call/"+id+"/cancel", "Bearer sk_b", ""); resp.StatusCode != 404 {
		t.Errorf("tenant b cancels tenant a's order: %d", resp.StatusCode)
	}
	_, list := u.get(t, http.MethodGet, "/call?page=0&page_size=1", "Bearer sk_b")
	if bytes.Contains(list, []byte(id)) {
		t.Error("tenant b lists tenant a's order")
	}
	if got := tenants.WriteStats(); got.OrdersCreated != 1 || got.CreateRequests != 2 || got.CancelRequests != 1 {
		t.Errorf("stats %+v", got)
	}
}

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	u := start(t, sandbox.Options{Orders: 10})
	body := `{"phone_number":"+14155550100","assistant_id":"` + u.sb.AssistantIDs()[0] + `"}`
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if i%2 == 0 {
				u.post(t, "/call", bearer, body)
				return
			}
			u.get(t, http.MethodGet, fmt.Sprintf("/call?page=0&page_size=%d", 1+i), bearer)
		})
	}
	wg.Wait()
	if got := len(u.sb.PlacedOrderIDs()); got != 10 {
		t.Fatalf("%d placed orders, want 10", got)
	}
}

func TestStatsCountWrites(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Orders: 10})
	h := sb.StatsHandler()
	place(t, h, `{"phone_number":"+14155550100","assistant_id":"`+sb.AssistantIDs()[0]+`"}`)
	serve(t, h, http.MethodPost, "/call", `{}`)
	code, body := serve(t, h, http.MethodGet, sandbox.StatsPath, "")
	var got map[string]int64
	if err := json.Unmarshal(body, &got); code != 200 || err != nil {
		t.Fatalf("%d %s", code, body)
	}
	want := map[string]int64{"requests": 2, "create_requests": 2, "orders_created": 1, "cancel_requests": 0, "orders_cancelled": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (%s)", k, got[k], v, body)
		}
	}
}

// FuzzCreateCall feeds POST /call arbitrary bodies: the answer is always a
// 200 with an order or a coded refusal, never a panic or a 5xx.
func FuzzCreateCall(f *testing.F) {
	sb := sandbox.New(sandbox.Options{Orders: 10, MaxPlacedOrders: 1 << 20})
	asst := sb.AssistantIDs()[0]
	for _, seed := range []string{
		`{"phone_number":"+14155550100","assistant_id":"` + asst + `"}`,
		`{"phone_number":"+14155550100","assistant":{"prompt":"x"},"metadata":{"a":"b"},"concurrency":{"key":"k","max":1e3}}`,
		`{"phone_number":"+1","scheduled_at":"2030-01-01T00:00:00+02:00","prompt_variables":{"name":""}}`,
		`{"concurrency":{"key":"k","max":-0}}`, `[`, `"x"`, `{"metadata":{"a":null}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		code, b := serve(t, sb, http.MethodPost, "/call", body)
		switch code {
		case 200:
			var o struct{ Call liveOrder }
			if err := json.Unmarshal(b, &o); err != nil || o.Call.ID == "" {
				t.Fatalf("200 with %s", b)
			}
		case 400, 413:
			var e struct{ Message string }
			if err := json.Unmarshal(b, &e); err != nil || e.Message == "" {
				t.Fatalf("%d with %s", code, b)
			}
		default:
			t.Fatalf("status %d for %q", code, body)
		}
	})
}

// BenchmarkServeWithPlaced measures GET paths once orders were placed, which
// leave the pre-encoded fast path: placed attempts are encoded per read.
func BenchmarkServeWithPlaced(b *testing.B) {
	clk := newClock()
	sb := sandbox.New(sandbox.Options{Now: clk.Now})
	var id string
	for i := range 100 {
		code, body := serve(b, sb, http.MethodPost, "/call", `{"phone_number":"+14155550100","assistant_id":"`+sb.AssistantIDs()[i%9]+`"}`)
		if code != 200 {
			b.Fatalf("%d %s", code, body)
		}
		var o struct{ Call liveOrder }
		_ = json.Unmarshal(body, &o)
		id = o.Call.ID
		clk.Advance(3 * time.Second)
	}
	for _, target := range []string{
		"/call?page=0&page_size=50",
		"/call?page=2&page_size=50",
		"/call?page=0&page_size=50&statuses=calling",
		"/call/" + id,
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
