// Package idempotency makes a write happen at most once per idempotency key.
//
// The upstream has no idempotency key, so the gateway keeps a record per
// (credential, key): the first request claims the key with a pending record
// and a lock, performs the write and completes the record with its result;
// requests that arrive meanwhile wait for that result, and requests that
// arrive later are answered from it. A write whose outcome the gateway cannot
// know (a timeout, a reset after the request was written, a 5xx) is recorded
// as outcome-unknown and never retried under the same key.
//
// Records live behind Store so that replicas can share them: Memory is the
// bounded in-process implementation; the interface is shaped after what one
// Redis round trip can do (SET NX PX for Begin, a compare-and-set script on the
// lease token for Finish and Release, GET for Get, polling or keyspace
// notifications for Wait).
package idempotency

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// Scope identifies whose keys a record belongs to: the SHA-256 of the
// credential that authorised the write. Stores see only this hash, never the
// credential, and two credentials never share a key.
type Scope [sha256.Size]byte

// ScopeOf hashes a credential (an API key or an inbound subject) into a Scope.
func ScopeOf(credential string) Scope { return sha256.Sum256([]byte(credential)) }

// Fingerprint identifies the input of a write, so that the same key sent with
// another input is recognised as a client bug rather than a retry. Callers
// compute it over a canonical encoding of the input, without the key itself.
type Fingerprint [sha256.Size]byte

// FingerprintOf hashes a canonical encoding of a write's input.
func FingerprintOf(canonical []byte) Fingerprint { return sha256.Sum256(canonical) }

// MaxKeyLength is the longest key accepted: 255, as the schema documents.
const MaxKeyLength = 255

// Key is one idempotency key of one scope.
type Key struct {
	Scope Scope
	Name  string
}

// ErrInvalidKey reports a key name that is empty, longer than MaxKeyLength or
// not printable ASCII.
var ErrInvalidKey = errors.New("idempotency: key must be 1 to 255 printable ASCII characters")

// CheckKey validates a key name as a client sends it.
func CheckKey(name string) error {
	if len(name) == 0 || len(name) > MaxKeyLength {
		return ErrInvalidKey
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e {
			return ErrInvalidKey
		}
	}
	return nil
}

// State is where a record stands.
type State uint8

const (
	// Pending: a request holds the key's lock and is performing the write.
	Pending State = iota + 1
	// Succeeded: the write happened; Record.Result holds its answer.
	Succeeded
	// OutcomeUnknown: the write may or may not have happened upstream. The
	// key is spent: it is never tried again within the record's lifetime.
	OutcomeUnknown
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Succeeded:
		return "succeeded"
	case OutcomeUnknown:
		return "outcome_unknown"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Record is the stored state of one key.
type Record struct {
	State       State
	Fingerprint Fingerprint
	// Result is the write's answer, set when State is Succeeded. Its
	// encoding is the caller's (e.g. the order's JSON).
	Result []byte
	// CreatedAt is when the key was first claimed; the record expires one
	// TTL later whatever happens meanwhile.
	CreatedAt time.Time
	// LockedUntil is when a Pending record's lock lapses. A lapsed lock means
	// the holder died or overran its deadline, possibly after writing, so
	// stores report such a record as OutcomeUnknown.
	LockedUntil time.Time
}

// Lease is the proof of a claim, needed to finish or release it. It is
// honoured until the claim's lock lapses.
type Lease struct {
	Key   Key
	Token uint64
}

// Claim is the answer of Store.Begin: either the caller now holds the key
// (Lease non-nil) or the key already has a record.
type Claim struct {
	Lease    *Lease
	Existing Record
}

// Store keeps idempotency records. Implementations are safe for concurrent
// use, expire records one TTL after their creation, and bound their memory.
type Store interface {
	// Begin claims key for a write with input fp, locked until lockUntil
	// (which the store may shorten to its own maximum). If the key already has
	// a record, Begin returns it instead: the caller compares fingerprints and
	// waits for a Pending one. A Pending record whose lock lapsed is returned as
	// OutcomeUnknown, and stays so.
	Begin(ctx context.Context, key Key, fp Fingerprint, lockUntil time.Time) (Claim, error)
	// Finish records the outcome of a claimed write: Succeeded with its
	// result, or OutcomeUnknown. It fails with ErrLeaseLost if the record is
	// gone (expired), belongs to another claim, or its lock lapsed: others
	// may have been told the outcome is unknown, so the record stays so.
	Finish(ctx context.Context, lease Lease, state State, result []byte) error
	// Release deletes a claim whose write certainly did not happen, so that
	// the key can be tried again; waiters then race to claim it.
	Release(ctx context.Context, lease Lease) error
	// Get returns the record of key, and false when there is none.
	Get(ctx context.Context, key Key) (Record, bool, error)
	// Wait blocks until key's record is no longer Pending, its lock lapses or
	// ctx ends. It returns the record, and false when the record was released
	// or expired meanwhile.
	Wait(ctx context.Context, key Key) (Record, bool, error)
}

// Errors of Run and of stores, to be matched with errors.Is.
var (
	// ErrKeyReused: the key was used before with a different input.
	ErrKeyReused = errors.New("idempotency: key already used with a different input")
	// ErrOutcomeUnknown: the write under this key may or may not have
	// happened; look the call up before placing it again.
	ErrOutcomeUnknown = errors.New("idempotency: outcome of the earlier request with this key is unknown")
	// ErrLeaseLost: Finish or Release came with a lease the store no longer
	// honours.
	ErrLeaseLost = errors.New("idempotency: lease lost")
	// ErrStoreFull: the store is at its entry or byte bound and no record
	// has expired. The write is refused rather than risked without a record.
	ErrStoreFull = errors.New("idempotency: record store full")
	// ErrStoreUnavailable: a shared store cannot be reached (Redis down or
	// slow). The write is refused rather than risked twice.
	ErrStoreUnavailable = errors.New("idempotency: record store unavailable")
)

// NotApplied marks an action error as certain proof that the write did not
// happen upstream (a 4xx, a 429, a connection refused before the request was
// written): Run then releases the key instead of spending it.
func NotApplied(err error) error {
	if err == nil {
		return nil
	}
	return &notAppliedError{err}
}

type notAppliedError struct{ err error }

func (e *notAppliedError) Error() string { return e.err.Error() }
func (e *notAppliedError) Unwrap() error { return e.err }

// OutcomeUnknownError is what Run returns when the write's outcome is
// unknown: Err is the action's own error when this request ran it, nil when
// the outcome was recorded by an earlier one. It matches ErrOutcomeUnknown.
type OutcomeUnknownError struct{ Err error }

func (e *OutcomeUnknownError) Error() string {
	if e.Err == nil {
		return ErrOutcomeUnknown.Error()
	}
	return ErrOutcomeUnknown.Error() + ": " + e.Err.Error()
}

// Is makes errors.Is(err, ErrOutcomeUnknown) true.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap returns the action's error.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// DefaultLock is how long a claim stays locked when ctx has no deadline.
const DefaultLock = time.Minute

// LockGrace is added to ctx's deadline: a write that returns at its deadline
// still has time to record its result before its lock lapses.
const LockGrace = 2 * time.Second

// Run performs action at most once for key and input fp, and returns its
// result. The first request for a key runs action; concurrent ones wait for
// its result (or for their ctx); later ones get the recorded result without
// running anything. The lock lasts until ctx's deadline plus LockGrace
// (DefaultLock without a deadline).
//
// An action error counts as an unknown outcome, which spends the key, unless
// it is wrapped with NotApplied, which releases the key. A panic in action
// spends the key too, then propagates.
func Run(ctx context.Context, s Store, key Key, fp Fingerprint, action func(context.Context) ([]byte, error)) ([]byte, error) {
	for {
		lockUntil := time.Now().Add(DefaultLock)
		if d, ok := ctx.Deadline(); ok {
			lockUntil = d.Add(LockGrace)
		}
		claim, err := s.Begin(ctx, key, fp, lockUntil)
		if err != nil {
			return nil, err
		}
		if claim.Lease != nil {
			return runClaimed(ctx, s, *claim.Lease, action)
		}
		rec := claim.Existing
		if rec.Fingerprint != fp {
			return nil, ErrKeyReused
		}
		if rec.State == Pending {
			if _, _, err := s.Wait(ctx, key); err != nil {
				return nil, err
			}
			// Look again from the top: the record may have been released
			// and claimed meanwhile by a request with another input.
			continue
		}
		switch rec.State {
		case Succeeded:
			return rec.Result, nil
		default:
			return nil, &OutcomeUnknownError{}
		}
	}
}

func runClaimed(ctx context.Context, s Store, lease Lease, action func(context.Context) ([]byte, error)) (result []byte, err error) {
	// Recording the outcome must survive the caller's cancellation: the
	// write may already have happened.
	finishCtx := context.WithoutCancel(ctx)
	finished := false
	defer func() {
		if !finished {
			_ = s.Finish(finishCtx, lease, OutcomeUnknown, nil)
		}
	}()
	result, err = action(ctx)
	finished = true
	var na *notAppliedError
	switch {
	case err == nil:
		// This request has its result whatever Finish says: a record that
		// could not be kept (lapsed lock, full store, store down) answers
		// later retries with OutcomeUnknown, never with a second write.
		_ = s.Finish(finishCtx, lease, Succeeded, result)
		return result, nil
	case errors.As(err, &na):
		if rerr := s.Release(finishCtx, lease); rerr != nil && !errors.Is(rerr, ErrLeaseLost) {
			return nil, errors.Join(na.err, rerr)
		}
		return nil, na.err
	default:
		_ = s.Finish(finishCtx, lease, OutcomeUnknown, nil)
		return nil, &OutcomeUnknownError{Err: err}
	}
}

type headerKey struct{}

// WithHeaderKey returns ctx carrying the request's Idempotency-Key header,
// the key of writes whose input names none.
func WithHeaderKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, headerKey{}, key)
}

// HeaderKey is the Idempotency-Key header ctx carries, and whether it had one.
func HeaderKey(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(headerKey{}).(string)
	return k, ok
}
