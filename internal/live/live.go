// Package live keeps the upstream pollers behind GraphQL subscriptions: one
// poller per watched thing (credential, subscription field, arguments),
// shared by every subscriber of it, started by the first and stopped with
// the last. A poller reads the upstream every interval, emits only when the
// answer changed, reports a failure streak once and backs off, and ends its
// subscribers when the thing it watches will not change again.
//
// The Registry interface is what the resolvers and the webhook see. Memory
// is the in-process implementation. A registry shared between replicas
// implements the same interface with a lease per Key (one replica polls)
// and a pub/sub channel per Key carrying Snapshot.JSON and failure codes to
// the other replicas' subscribers; Poke becomes a published message.
package live

import (
	"context"
	"errors"
)

// Key names one poller: whose credential reads the upstream, which
// subscription field it serves and that field's arguments in a canonical
// form. Subscribers with equal keys share one poller.
type Key struct {
	Credential string
	Field      string
	Args       string
}

// Snapshot is one successful poll.
type Snapshot struct {
	// Value is handed to every subscriber as it is: subscribers must not
	// change it (each executes its own selection on it).
	Value any
	// JSON is a canonical encoding of Value: a poll whose JSON equals the
	// previous one's emits nothing.
	JSON []byte
	// Final says the watched thing will not change again (a completed or
	// cancelled order): the subscribers get Value, then complete.
	Final bool
}

// Poll reads the watched thing once, past every cache. An error wrapped by
// Final ends the subscriptions after it is delivered (an unknown id); any
// other error counts toward a failure streak.
type Poll func(ctx context.Context) (Snapshot, error)

// Update is one event for a subscriber: a new value, or the first error of
// a failure streak.
type Update struct {
	Value any
	Err   error
}

// Subscriber receives a subscription's updates. The registry calls Send and
// Close from one goroutine at a time, never Send after Close, and Send must
// not block: a subscriber that has not taken earlier updates keeps the
// newest ones.
type Subscriber interface {
	Send(Update)
	Close()
}

// Decoder is implemented by a Subscriber that can rebuild a value from its
// Snapshot.JSON: a registry shared between replicas delivers the values
// another replica polled through it. A registry calls Decode of one
// subscriber of a Key and hands the result to all of them.
type Decoder interface {
	Decode(json []byte) (any, error)
}

// Registry runs the shared pollers.
type Registry interface {
	// Subscribe adds sub to the poller of key, starting one that calls poll
	// when key has none. sub at once gets the poller's last value (or its
	// current failure) when it has one. The returned function removes sub
	// (the poller stops with its last subscriber); it may be called more
	// than once. Beyond the registry's bound Subscribe fails with
	// ErrTooManySubscriptions, and after Shutdown with ErrShuttingDown.
	Subscribe(key Key, poll Poll, sub Subscriber) (unsubscribe func(), err error)
	// Poke makes the pollers of field with args (of every credential) poll
	// now, and those of related of the same credentials, and of the
	// credential "" (the server's own key).
	Poke(field, args, related string)
	// Stats counts what runs now.
	Stats() Stats
	// Shutdown completes every subscription, stops every poller and
	// refuses new subscriptions; it returns once the pollers have stopped
	// or ctx is done.
	Shutdown(ctx context.Context) error
}

// Stats is what a registry runs at one moment.
type Stats struct {
	Pollers       int
	Subscriptions int
}

var (
	// ErrTooManySubscriptions refuses a subscription beyond a bound.
	ErrTooManySubscriptions = errors.New("live: too many subscriptions")
	// ErrShuttingDown refuses a subscription during shutdown.
	ErrShuttingDown = errors.New("live: shutting down")
)

// finalError marks an error that ends the subscriptions.
type finalError struct{ err error }

func (e finalError) Error() string { return e.err.Error() }
func (e finalError) Unwrap() error { return e.err }

// Final wraps err so that a poller delivers it and then completes its
// subscriptions.
func Final(err error) error { return finalError{err} }

// IsFinal reports whether err was wrapped by Final.
func IsFinal(err error) bool {
	var f finalError
	return errors.As(err, &f)
}
