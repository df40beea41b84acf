package live

import "context"

// Slots bounds the upstream requests pollers make at once, so that they
// never take every slot of the client they share with queries.
type Slots chan struct{}

// NewSlots returns n slots (at least 1).
func NewSlots(n int) Slots { return make(Slots, max(n, 1)) }

// Acquire takes a slot, waiting for one until ctx is done.
func (s Slots) Acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives back a slot taken by Acquire.
func (s Slots) Release() { <-s }
