package live

import (
	"context"
	"fmt"
	"sync"
)

// ErrConnectionFull refuses a subscription beyond a connection's bound.
var ErrConnectionFull = fmt.Errorf("%w on this connection", ErrTooManySubscriptions)

// Quota bounds the subscriptions of one connection
// (MAX_SUBSCRIPTIONS_PER_CONNECTION).
type Quota struct {
	mu   sync.Mutex
	used int
	max  int
}

// NewQuota returns a quota of n subscriptions.
func NewQuota(n int) *Quota { return &Quota{max: n} }

// Take counts one more subscription, or fails with ErrConnectionFull.
func (q *Quota) Take() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.used >= q.max {
		return ErrConnectionFull
	}
	q.used++
	return nil
}

// Give counts one subscription less.
func (q *Quota) Give() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.used--
}

type quotaKey struct{}

// WithQuota returns a context whose subscriptions count against q: the
// transport's connection.
func WithQuota(ctx context.Context, q *Quota) context.Context {
	return context.WithValue(ctx, quotaKey{}, q)
}

// QuotaFrom is the quota of ctx's connection, nil when it has none.
func QuotaFrom(ctx context.Context) *Quota {
	q, _ := ctx.Value(quotaKey{}).(*Quota)
	return q
}

// Used is the number of subscriptions counted now.
func (q *Quota) Used() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.used
}
