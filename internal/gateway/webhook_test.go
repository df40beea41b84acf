package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/live"
)

func TestWebhook(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, nil)
	plain := newLiveEnv(t, live.MemoryOptions{Interval: time.Hour}, func(c *gateway.Config) { c.Subscriptions.WebhookSecret = "" })
	cases := []struct {
		name, base, secret, body string
		want                     int
	}{
		{"a wrong secret is 401", e.gql.URL, "wrong", `{"call_order_id":"x"}`, http.StatusUnauthorized},
		{"a missing secret is 401", e.gql.URL, "", `{"call_order_id":"x"}`, http.StatusUnauthorized},
		{"a body naming no order is 400", e.gql.URL, webhookSecret, `{"status":"completed"}`, http.StatusBadRequest},
		{"a body over 64 KiB is 400", e.gql.URL, webhookSecret, `{"call_order_id":"` + strings.Repeat("x", 70<<10) + `"}`, http.StatusBadRequest},
		{"call_id is used without call_order_id", e.gql.URL, webhookSecret, `{"call_id":"a1"}`, http.StatusAccepted},
		{"without WEBHOOK_SECRET the route does not exist", plain.gql.URL, webhookSecret, `{"call_order_id":"x"}`, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, tc.base+gateway.WebhookPath, strings.NewReader(tc.body))
			if tc.secret != "" {
				req.Header.Set("X-Webhook-Secret", tc.secret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
