package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestCancelGeneratedOrder(t *testing.T) {
	t.Parallel()
	clk := newClock()
	u := start(t, sandbox.Options{Now: clk.Now})
	byStatus := map[revox.OrderStatus]*revox.CallOrder{}
	for _, o := range getAll(t.Context(), t, u) {
		if o.Status == nil || byStatus[*o.Status] != nil {
			continue
		}
		// A calling order whose newest attempt is live shows the hang-up.
		if *o.Status == revox.OrderCalling && (len(o.CallAttempts) == 0 || o.CallAttempts[0].Status == revox.AttemptCompleted) {
			continue
		}
		byStatus[*o.Status] = o
	}
	untouched := sandbox.New(sandbox.Options{})
	cancel := func(id string) (int, []byte) {
		resp, body := u.post(t, "/call/"+id+"/cancel", bearer, "")
		return resp.StatusCode, body
	}

	for _, s := range []revox.OrderStatus{revox.OrderCompleted, revox.OrderErrored, revox.OrderCancelled, revox.OrderPostProcessing} {
		t.Run("a "+string(s)+" order is over: 409 with its status", func(t *testing.T) {
			code, body := cancel(byStatus[s].ID)
			var e struct{ Message, Status string }
			if err := json.Unmarshal(body, &e); code != 409 || err != nil || e.Status != string(s) || e.Message == "" {
				t.Fatalf("%d %s", code, body)
			}
		})
	}

	calling := byStatus[revox.OrderCalling]
	live := calling.CallAttempts[0].ID
	t.Run("a calling order is cancelled: its live attempt ends now, by the system", func(t *testing.T) {
		code, body := cancel(calling.ID)
		var got struct{ Call liveOrder }
		if err := json.Unmarshal(body, &got); code != 200 || err != nil {
			t.Fatalf("%d %s", code, body)
		}
		c := got.Call
		a := c.CallAttempts[0]
		if c.Status != "cancelled" || !c.IsCancelled || c.Outcome == nil || *c.Outcome != "none" || string(c.NextCallAt) != "null" {
			t.Fatalf("order %+v", c)
		}
		if a.ID != live || a.Status != "completed" || a.EndedBy == nil || *a.EndedBy != "system" || string(a.EndedAt) == "null" {
			t.Fatalf("attempt %+v", a)
		}
		if len(c.CallAttempts) != len(calling.CallAttempts) {
			t.Fatalf("%d attempts, had %d", len(c.CallAttempts), len(calling.CallAttempts))
		}
	})
	t.Run("GET /call/{id} and the list agree with the cancellation", func(t *testing.T) {
		o, err := u.client.GetCall(t.Context(), calling.ID, revox.GetCallOptions{})
		if err != nil || o.Status == nil || *o.Status != revox.OrderCancelled {
			t.Fatalf("%+v %v", o, err)
		}
		if a := o.CallAttempts[0]; !a.EndedAt.Valid() || !a.EndedAt.After(a.StartedAt.Time) || a.EndedAt.After(u.sb.BaseTime()) {
			t.Fatalf("the hung-up attempt ends at %v, started %v: want within the dataset's timeline", a.EndedAt, a.StartedAt)
		}
		ids := func(statuses ...revox.OrderStatus) []string {
			var out []string
			for _, a := range listAll(t.Context(), t, u.client, 100, statuses...) {
				out = append(out, a.ID)
			}
			return out
		}
		if !slices.Contains(ids(revox.OrderCancelled), live) || slices.Contains(ids(revox.OrderCalling), live) {
			t.Fatal("the attempt is not filtered by its order's new status")
		}
		all := ids()
		if len(all) != untouched.Attempts() || !slices.Contains(all, live) {
			t.Fatalf("%d attempts listed, want the same %d", len(all), untouched.Attempts())
		}
	})
	t.Run("cancelling it again is 409 cancelled", func(t *testing.T) {
		code, body := cancel(calling.ID)
		if code != 409 || !bytes.Contains(body, []byte(`"status":"cancelled"`)) {
			t.Fatalf("%d %s", code, body)
		}
	})
	for _, s := range []revox.OrderStatus{revox.OrderScheduled, revox.OrderQueuedForCalling, revox.OrderPaused} {
		t.Run("a "+string(s)+" order is cancelled", func(t *testing.T) {
			if code, body := cancel(byStatus[s].ID); code != 200 || !bytes.Contains(body, []byte(`"status":"cancelled"`)) {
				t.Fatalf("%d %s", code, body)
			}
		})
	}
	t.Run("other orders keep their bytes", func(t *testing.T) {
		id := byStatus[revox.OrderCompleted].ID
		_, a := u.get(t, http.MethodGet, "/call/"+id, bearer)
		want := httpGet(t, untouched, "/call/"+id)
		if !bytes.Equal(a, want) {
			t.Fatal("a completed order changed")
		}
	})
}

func httpGet(t *testing.T, h http.Handler, target string) []byte {
	t.Helper()
	_, body := serve(t, h, http.MethodGet, target, "")
	return body
}
