package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestWriteFaults(t *testing.T) {
	t.Parallel()
	body := func(u *upstream) string {
		return `{"phone_number":"+14155550100","assistant_id":"` + u.sb.AssistantIDs()[0] + `"}`
	}
	t.Run("a 429 with Retry-After comes before applying", func(t *testing.T) {
		t.Parallel()
		u := start(t, sandbox.Options{})
		if err := u.sb.InjectWriteFaults(sandbox.WriteFault{Kind: sandbox.WriteRateLimited, RetryAfterSeconds: 2}); err != nil {
			t.Fatal(err)
		}
		resp, b := u.post(t, "/call", bearer, body(u))
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("%d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		if resp, _ := u.post(t, "/call", bearer, body(u)); resp.StatusCode != 200 {
			t.Fatalf("the retry got %d", resp.StatusCode)
		}
		if got := u.sb.WriteStats(); got.CreateRequests != 2 || got.OrdersCreated != 1 {
			t.Fatalf("stats %+v, want 2 requests and exactly one order", got)
		}
	})
	for _, tc := range []struct {
		name string
		kind sandbox.WriteFaultKind
	}{
		{"an answer lost after applying closes the connection", sandbox.WriteAnswerLost},
		{"an answer that hangs after applying times the client out", sandbox.WriteAnswerHangs},
	} {
		t.Run(tc.name+", and the order exists", func(t *testing.T) {
			t.Parallel()
			u := start(t, sandbox.Options{})
			if err := u.sb.InjectWriteFaults(sandbox.WriteFault{Kind: tc.kind}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.srv.URL+"/call", strings.NewReader(body(u)))
			req.Header.Set("Authorization", bearer)
			resp, err := u.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got an answer %d, want none", resp.StatusCode)
			}
			if tc.kind == sandbox.WriteAnswerHangs && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err %v, want the client's deadline", err)
			}
			if got := u.sb.WriteStats(); got.CreateRequests != 1 || got.OrdersCreated != 1 || len(u.sb.PlacedOrderIDs()) != 1 {
				t.Fatalf("stats %+v, placed %v: the POST must have been applied", got, u.sb.PlacedOrderIDs())
			}
		})
	}
	t.Run("faults are consumed one per POST, in order, cancels included", func(t *testing.T) {
		t.Parallel()
		u := start(t, sandbox.Options{})
		_ = u.sb.InjectWriteFaults(sandbox.WriteFault{Kind: sandbox.WriteRateLimited}, sandbox.WriteFault{Kind: sandbox.WriteRateLimited})
		if resp, _ := u.post(t, "/call/nope/cancel", bearer, ""); resp.StatusCode != 429 {
			t.Fatalf("cancel got %d, want the first fault", resp.StatusCode)
		}
		if resp, _ := u.post(t, "/call", bearer, body(u)); resp.StatusCode != 429 {
			t.Fatalf("create got %d, want the second fault", resp.StatusCode)
		}
		if resp, _ := u.post(t, "/call", bearer, body(u)); resp.StatusCode != 200 {
			t.Fatalf("create got %d after the queue emptied", resp.StatusCode)
		}
	})
	t.Run("the fault queue is bounded", func(t *testing.T) {
		t.Parallel()
		sb := sandbox.New(sandbox.Options{Orders: 10})
		if err := sb.InjectWriteFaults(make([]sandbox.WriteFault, 1025)...); !errors.Is(err, sandbox.ErrTooManyFaults) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestFaultInjectorLostWrite(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Orders: 10})
	srv := httptest.NewServer(sandbox.NewFaultInjector(sb, sandbox.Faults{LostWrite: 1}, 1))
	t.Cleanup(srv.Close)
	u := &upstream{sb: sb, srv: srv}
	t.Run("a POST is applied and its answer lost", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/call",
			strings.NewReader(`{"phone_number":"+14155550100","assistant_id":"`+sb.AssistantIDs()[0]+`"}`))
		req.Header.Set("Authorization", bearer)
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got an answer %d, want none", resp.StatusCode)
		}
		if got := sb.WriteStats(); got.OrdersCreated != 1 {
			t.Fatalf("stats %+v: the POST must have been applied", got)
		}
	})
	t.Run("a GET is served normally", func(t *testing.T) {
		if resp, _ := u.get(t, http.MethodGet, "/call?page=0&page_size=1", bearer); resp.StatusCode != 200 {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
}
