package revox

import (
	"context"
)

// ListCallsFresh is ListCalls read from the upstream itself: neither from
// the cache nor joined to a request in flight, for subscription pollers
// that must see changes as they happen. It goes through the same retries,
// breaker and concurrency bound as every read.
func (c *Client) ListCallsFresh(ctx context.Context, opts ListCallsOptions) ([]CallAttempt, error) {
	return c.listCalls(ctx, c.layers.fresh, "ListCallsFresh", opts)
}
