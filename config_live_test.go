package main

import (
	"strings"
	"testing"
	"time"
)

func TestSubscriptionSettings(t *testing.T) {
	t.Parallel()
	t.Run("defaults poll every 2s and bound 10000 subscriptions, 100 per connection, without webhook", func(t *testing.T) {
		c, err := loadConfig(cmdServe, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if s := c.Gateway.Subscriptions; c.Live.PollInterval != 2*time.Second || c.Live.MaxSubscriptions != 10000 || s.PerConnection != 100 || s.WebhookSecret != "" {
			t.Fatalf("defaults: %+v %+v", c.Live, s)
		}
	})
	t.Run("values are read", func(t *testing.T) {
		c, err := loadConfig(cmdServe, env(map[string]string{"POLL_INTERVAL": "500ms", "MAX_SUBSCRIPTIONS": "50", "MAX_SUBSCRIPTIONS_PER_CONNECTION": "5", "WEBHOOK_SECRET": "0123456789abcdef"}))
		if err != nil {
			t.Fatal(err)
		}
		if s := c.Gateway.Subscriptions; c.Live.PollInterval != 500*time.Millisecond || c.Live.MaxSubscriptions != 50 || s.PerConnection != 5 || s.WebhookSecret != "0123456789abcdef" {
			t.Fatalf("got %+v %+v", c.Live, s)
		}
	})
	t.Run("bad values are each reported", func(t *testing.T) {
		_, err := loadConfig(cmdServe, env(map[string]string{"POLL_INTERVAL": "10ms", "MAX_SUBSCRIPTIONS": "0", "MAX_SUBSCRIPTIONS_PER_CONNECTION": "x", "WEBHOOK_SECRET": "short"}))
		if err == nil {
			t.Fatal("no error")
		}
		for _, name := range []string{"POLL_INTERVAL", "MAX_SUBSCRIPTIONS=", "MAX_SUBSCRIPTIONS_PER_CONNECTION", "WEBHOOK_SECRET"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("%s not reported: %v", name, err)
			}
		}
	})
}
