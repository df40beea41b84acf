package resolvers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/revox"
)

// The subscription fields, as the Field of their pollers' keys.
const (
	FieldCallUpdated  = "callUpdated"
	FieldCallsUpdated = "callsUpdated"
)

// FreshReader reads the upstream past every cache and shared request: the
// REST client.
type FreshReader interface {
	GetCallFresh(ctx context.Context, cred, id string) (*revox.CallOrder, error)
	ListCallsFresh(ctx context.Context, opts revox.ListCallsOptions) ([]revox.CallAttempt, error)
}

// Live is what the subscriptions need.
type Live struct {
	// Registry runs the shared pollers.
	Registry live.Registry
	// Fresh reads the upstream for them.
	Fresh FreshReader
	// Slots bound their upstream requests at once (half the client's).
	Slots live.Slots
}

// callUpdated follows one call order until it is completed or cancelled.
func (r *Resolver) callUpdated(ctx context.Context, id string) (<-chan graphql.Event[*model.Call], error) {
	cred := credential(ctx)
	fresh, slots := r.Live.Fresh, r.Live.Slots
	poll := func(ctx context.Context) (live.Snapshot, error) {
		if err := slots.Acquire(ctx); err != nil {
			return live.Snapshot{}, err
		}
		defer slots.Release()
		order, err := fresh.GetCallFresh(ctx, cred, id)
		if errors.Is(err, revox.ErrNotFound) {
			return live.Snapshot{}, live.Final(err)
		}
		if err != nil {
			return live.Snapshot{}, err
		}
		data, err := json.Marshal(order)
		if err != nil {
			return live.Snapshot{}, err
		}
		return live.Snapshot{Value: (*model.Call)(order), JSON: data, Final: finished(order)}, nil
	}
	return subscribe[*model.Call](ctx, r.Live.Registry, live.Key{Credential: credentialKey(cred), Field: FieldCallUpdated, Args: id}, poll, decodeCall)
}

// finished reports whether an order will not change any more.
func finished(o *revox.CallOrder) bool {
	if o.IsCompleted || o.IsCancelled {
		return true
	}
	return o.Status != nil && (*o.Status == revox.OrderCompleted || *o.Status == revox.OrderCancelled)
}

// callsUpdated follows the first attempts of the list, as Query.calls with
// first and statuses answers them.
func (r *Resolver) callsUpdated(ctx context.Context, statuses []revox.OrderStatus, first *int) (<-chan graphql.Event[*model.CallAttemptConnection], error) {
	filter, err := paging.NewFilter(statuses)
	if err != nil {
		return nil, err
	}
	n := r.Limits.DefaultSize
	if first != nil {
		if *first < 0 || *first > r.Limits.MaxSize {
			return nil, &model.InputError{Argument: "first", Message: "must be between 0 and " + strconv.Itoa(r.Limits.MaxSize)}
		}
		n = *first
	}
	cred := credential(ctx)
	fresh, slots, limits := r.Live.Fresh, r.Live.Slots, r.Limits
	load := func(ctx context.Context, index, size int) func() ([]revox.CallAttempt, error) {
		type result struct {
			attempts []revox.CallAttempt
			err      error
		}
		done := make(chan result, 1)
		go func() {
			if err := slots.Acquire(ctx); err != nil {
				done <- result{err: err}
				return
			}
			defer slots.Release()
			a, err := fresh.ListCallsFresh(ctx, revox.ListCallsOptions{Page: index, PageSize: size, Statuses: filter.Statuses, Credential: cred})
			done <- result{a, err}
		}()
		return func() ([]revox.CallAttempt, error) {
			res := <-done
			return res.attempts, res.err
		}
	}
	args := paging.Args{First: &n}
	poll := func(ctx context.Context) (live.Snapshot, error) {
		conn, err := paging.Resolve(ctx, paging.Source{Load: load}, args, filter, limits, paging.Want{HasNextPage: true, HasPreviousPage: true})
		if err != nil {
			return live.Snapshot{}, err
		}
		data, err := json.Marshal(windowJSON{conn.Nodes(), conn.PageInfo})
		if err != nil {
			return live.Snapshot{}, err
		}
		return live.Snapshot{Value: conn, JSON: data}, nil
	}
	key := live.Key{Credential: credentialKey(cred), Field: FieldCallsUpdated, Args: "first=" + strconv.Itoa(n) + ";statuses=" + filter.Key}
	return subscribe[*model.CallAttemptConnection](ctx, r.Live.Registry, key, poll, decodeWindow(filter))
}

// credentialKey names a credential in poller keys without the credential
// itself (a shared registry publishes keys); "" stays the server's key.
func credentialKey(cred string) string {
	if cred == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(cred))
	return hex.EncodeToString(sum[:16])
}

// subscribe joins the poller of key for the operation of ctx, counting
// against its connection's quota, and leaves when ctx ends.
func subscribe[T any](ctx context.Context, reg live.Registry, key live.Key, poll live.Poll, decode func([]byte) (T, error)) (<-chan graphql.Event[T], error) {
	quota := live.QuotaFrom(ctx)
	if quota != nil {
		if err := quota.Take(); err != nil {
			return nil, err
		}
	}
	sink := &eventSink[T]{ctx: ctx, ch: make(chan graphql.Event[T], eventBuffer), decode: decode}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		sink.path = fc.Path()
	}
	leave, err := reg.Subscribe(key, poll, sink)
	if err != nil {
		if quota != nil {
			quota.Give()
		}
		return nil, err
	}
	context.AfterFunc(ctx, func() {
		leave()
		if quota != nil {
			quota.Give()
		}
	})
	return sink.ch, nil
}

// eventBuffer is the number of events a slow subscriber may lag behind;
// beyond it the oldest is dropped, the newest kept.
const eventBuffer = 4

// eventSink turns a poller's updates into gqlgen's subscription events.
type eventSink[T any] struct {
	ctx    context.Context
	path   ast.Path
	ch     chan graphql.Event[T]
	decode func([]byte) (T, error)
}

func (s *eventSink[T]) Send(u live.Update) {
	ev := graphql.Event[T]{Context: s.ctx}
	if u.Err != nil {
		ev.Context = context.WithValue(s.ctx, eventErrorKey{}, &EventError{Path: s.path, Err: u.Err})
	} else {
		ev.Value = u.Value.(T)
	}
	for {
		select {
		case s.ch <- ev:
			return
		default:
		}
		select {
		case <-s.ch: // the oldest goes
		default:
		}
	}
}

func (s *eventSink[T]) Close() { close(s.ch) }

// EventError is a failure to send as one subscription event (its data
// null) without ending the subscription.
type EventError struct {
	// Path is the subscription field's.
	Path ast.Path
	Err  error
}

type eventErrorKey struct{}

// EventErrorFrom is the failure an event's context carries, nil for an
// event with data. The gateway's response interceptor turns it into the
// event's errors.
func EventErrorFrom(ctx context.Context) *EventError {
	e, _ := ctx.Value(eventErrorKey{}).(*EventError)
	return e
}
