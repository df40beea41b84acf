package idempotency

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Defaults of MemoryOptions.
const (
	DefaultTTL        = 24 * time.Hour
	DefaultMaxEntries = 100_000
	DefaultMaxBytes   = 64 << 20
	DefaultMaxLock    = 5 * time.Minute
)

// entryOverhead is what one record costs beyond its key name and result: the
// map slot, the list element, the entry and its channel, rounded up. It keeps
// MaxBytes meaningful for records without a result.
const entryOverhead = 256

// MemoryOptions bounds a Memory store. Zero fields take the defaults.
type MemoryOptions struct {
	// TTL is how long a record lives after its key was first claimed
	// (IDEMPOTENCY_TTL). Default 24 h.
	TTL time.Duration
	// MaxEntries and MaxBytes bound the records held. When a new key does
	// not fit once expired records are dropped, Begin fails with
	// ErrStoreFull: dropping a live record would break the promise of at
	// most one write per key. Defaults 100 000 and 64 MiB.
	MaxEntries int
	MaxBytes   int64
	// MaxLock caps how long a claim may stay locked, whatever deadline the
	// caller gives. Default 5 min.
	MaxLock time.Duration
}

// Memory is the in-process Store. Records expire in creation order (the TTL
// is the same for all), so expiry costs O(1) per record, swept on every call.
type Memory struct {
	opts MemoryOptions

	mu      sync.Mutex
	entries map[Key]*entry
	byAge   list.List // *entry, oldest first
	bytes   int64
	tokens  uint64
}

type entry struct {
	key  Key
	rec  Record
	tok  uint64
	size int64
	elem *list.Element
	// done is closed when the record leaves Pending: finished, released,
	// lapsed or expired.
	done chan struct{}
}

// NewMemory returns an empty Memory store.
func NewMemory(opts MemoryOptions) *Memory {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxLock <= 0 {
		opts.MaxLock = DefaultMaxLock
	}
	return &Memory{opts: opts, entries: make(map[Key]*entry)}
}

// Len returns the number of records held, expired ones included until the
// next sweep.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// Bytes returns the accounted size of the records held.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Begin implements Store.
func (m *Memory) Begin(ctx context.Context, key Key, fp Fingerprint, lockUntil time.Time) (Claim, error) {
	if err := ctx.Err(); err != nil {
		return Claim{}, err
	}
	now := time.Now()
	if !lockUntil.After(now) {
		return Claim{}, context.DeadlineExceeded
	}
	lockUntil = minTime(lockUntil, now.Add(m.opts.MaxLock))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	if e, ok := m.entries[key]; ok {
		m.lapse(e, now)
		return Claim{Existing: e.rec}, nil
	}
	size := int64(entryOverhead + len(key.Name))
	if len(m.entries) >= m.opts.MaxEntries || m.bytes+size > m.opts.MaxBytes {
		return Claim{}, ErrStoreFull
	}
	m.tokens++
	e := &entry{
		key:  key,
		rec:  Record{State: Pending, Fingerprint: fp, CreatedAt: now, LockedUntil: lockUntil},
		tok:  m.tokens,
		size: size,
		done: make(chan struct{}),
	}
	e.elem = m.byAge.PushBack(e)
	m.entries[key] = e
	m.bytes += size
	return Claim{Lease: &Lease{Key: key, Token: e.tok}}, nil
}

// Finish implements Store. A result that would overflow MaxBytes is not
// kept: the record becomes OutcomeUnknown (so a retry never writes again) and
// Finish returns ErrStoreFull.
func (m *Memory) Finish(_ context.Context, lease Lease, state State, result []byte) error {
	if state != Succeeded && state != OutcomeUnknown {
		return errors.New("idempotency: Finish needs Succeeded or OutcomeUnknown, got " + state.String())
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	e, err := m.held(lease, now)
	if err != nil {
		return err
	}
	if state == OutcomeUnknown {
		result = nil
	}
	if m.bytes+int64(len(result)) > m.opts.MaxBytes {
		m.settle(e, OutcomeUnknown)
		return ErrStoreFull
	}
	e.rec.Result = bytes.Clone(result)
	e.size += int64(len(result))
	m.bytes += int64(len(result))
	m.settle(e, state)
	return nil
}

// Release implements Store.
func (m *Memory) Release(_ context.Context, lease Lease) error {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	e, err := m.held(lease, now)
	if err != nil {
		return err
	}
	m.remove(e)
	return nil
}

// Get implements Store. The returned Result must not be modified.
func (m *Memory) Get(_ context.Context, key Key) (Record, bool, error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	e, ok := m.entries[key]
	if !ok {
		return Record{}, false, nil
	}
	m.lapse(e, now)
	return e.rec, true, nil
}

// Wait implements Store.
func (m *Memory) Wait(ctx context.Context, key Key) (Record, bool, error) {
	for {
		now := time.Now()
		m.mu.Lock()
		m.sweep(now)
		e, ok := m.entries[key]
		if !ok {
			m.mu.Unlock()
			return Record{}, false, nil
		}
		m.lapse(e, now)
		if e.rec.State != Pending {
			rec := e.rec
			m.mu.Unlock()
			return rec, true, nil
		}
		done, until := e.done, e.rec.LockedUntil
		m.mu.Unlock()

		t := time.NewTimer(until.Sub(now))
		select {
		case <-done:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Record{}, false, ctx.Err()
		}
		t.Stop()
	}
}

// held returns the entry a lease still holds.
func (m *Memory) held(lease Lease, now time.Time) (*entry, error) {
	e, ok := m.entries[lease.Key]
	if !ok || e.tok != lease.Token {
		return nil, ErrLeaseLost
	}
	m.lapse(e, now)
	if e.rec.State != Pending {
		return nil, ErrLeaseLost
	}
	return e, nil
}

// lapse turns a Pending record whose lock has passed into OutcomeUnknown:
// its holder died or overran its deadline, perhaps after writing upstream.
func (m *Memory) lapse(e *entry, now time.Time) {
	if e.rec.State == Pending && !now.Before(e.rec.LockedUntil) {
		m.settle(e, OutcomeUnknown)
	}
}

func (m *Memory) settle(e *entry, s State) {
	e.rec.State = s
	close(e.done)
}

// sweep drops the records older than the TTL.
func (m *Memory) sweep(now time.Time) {
	for f := m.byAge.Front(); f != nil; f = m.byAge.Front() {
		e := f.Value.(*entry)
		if now.Sub(e.rec.CreatedAt) < m.opts.TTL {
			return
		}
		m.remove(e)
	}
}

func (m *Memory) remove(e *entry) {
	if e.rec.State == Pending {
		close(e.done)
	}
	m.byAge.Remove(e.elem)
	delete(m.entries, e.key)
	m.bytes -= e.size
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
