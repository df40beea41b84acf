package main

import (
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/live"
)

// liveConfig is what serveGateway builds the subscriptions' poller
// registry from.
type liveConfig struct {
	PollInterval     time.Duration
	MaxSubscriptions int
}

// minPollInterval keeps a misconfigured poller from hammering the upstream.
const minPollInterval = 100 * time.Millisecond

// readLiveSettings reads the subscription settings.
func readLiveSettings(r *envReader, c *config) {
	c.Live.PollInterval = r.duration(setting{Name: "POLL_INTERVAL", Meaning: "time between two upstream reads of a subscription poller (at least 100ms)"}, live.DefaultInterval)
	if c.Live.PollInterval < minPollInterval {
		r.fail("POLL_INTERVAL=%v: want at least %v", c.Live.PollInterval, minPollInterval)
	}
	c.Live.MaxSubscriptions = r.integer(setting{Name: "MAX_SUBSCRIPTIONS", Meaning: "subscriptions served by the process at once"}, live.DefaultMaxSubscriptions, 1, 1<<20)
	subs := &gateway.Subscriptions{
		PerConnection: r.integer(setting{Name: "MAX_SUBSCRIPTIONS_PER_CONNECTION", Meaning: "subscriptions of one WebSocket connection"}, gateway.DefaultMaxSubscriptionsPerConnection, 1, 10000),
		WebhookSecret: r.str(setting{Name: "WEBHOOK_SECRET", Default: "unset (no webhook route)", Meaning: "secret of POST /webhooks/revox, sent as X-Webhook-Secret (at least 16 characters)"}, ""),
	}
	if s := subs.WebhookSecret; s != "" && len(s) < 16 {
		r.fail("WEBHOOK_SECRET: want at least 16 characters")
	}
	c.Gateway.Subscriptions = subs
}
