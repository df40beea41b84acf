package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/revox-graphql/gateway/internal/idempotency"
)

// IdempotencyOptions bound an IdempotencyStore. Zero fields take the
// defaults of idempotency.MemoryOptions.
type IdempotencyOptions struct {
	// TTL is how long a record lives after its key was first claimed
	// (IDEMPOTENCY_TTL): the Redis key's own expiry.
	TTL time.Duration
	// MaxLock caps how long a claim may stay locked.
	MaxLock time.Duration
}

// IdempotencyStore is idempotency.Store in Redis, one string per key:
// Begin is one SET NX PX GET, Finish and Release are scripts that compare
// the lease token and the lock before writing, Get is a GET, and Wait polls.
// Every replica reads a lapsed lock the same way, as OutcomeUnknown, from
// the lock time in the record (replica clocks are assumed to agree within
// idempotency.LockGrace). Any Redis failure is idempotency.ErrStoreUnavailable:
// no record, no write.
type IdempotencyStore struct {
	conn *Conn
	opts IdempotencyOptions
}

// NewIdempotencyStore returns the shared store on conn.
func NewIdempotencyStore(conn *Conn, opts IdempotencyOptions) *IdempotencyStore {
	if opts.TTL <= 0 {
		opts.TTL = idempotency.DefaultTTL
	}
	if opts.MaxLock <= 0 {
		opts.MaxLock = idempotency.DefaultMaxLock
	}
	return &IdempotencyStore{conn: conn, opts: opts}
}

var _ idempotency.Store = (*IdempotencyStore)(nil)

// A record is stored as a fixed-width header then the result, so that the
// scripts read the state, token and lock with string.sub:
//
//	[0]       state digit
//	[1:17]    lease token, hex
//	[17:32]   created, Unix ms
//	[32:47]   locked until, Unix ms
//	[47:111]  input fingerprint, hex
//	[111:]    result
const headerLen = 111

func encodeRecord(rec idempotency.Record, token uint64) string {
	return fmt.Sprintf("%d%016x%015d%015d%x", rec.State, token, rec.CreatedAt.UnixMilli(), rec.LockedUntil.UnixMilli(), rec.Fingerprint[:]) + string(rec.Result)
}

func decodeRecord(v string, now time.Time) (idempotency.Record, uint64, error) {
	if len(v) < headerLen {
		return idempotency.Record{}, 0, errors.New("redisstore: idempotency record too short")
	}
	state, err1 := strconv.ParseUint(v[0:1], 10, 8)
	token, err2 := strconv.ParseUint(v[1:17], 16, 64)
	created, err3 := strconv.ParseInt(v[17:32], 10, 64)
	locked, err4 := strconv.ParseInt(v[32:47], 10, 64)
	fp, err5 := hex.DecodeString(v[47:111])
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return idempotency.Record{}, 0, fmt.Errorf("redisstore: idempotency record: %w", err)
	}
	rec := idempotency.Record{
		State:       idempotency.State(state),
		CreatedAt:   time.UnixMilli(created),
		LockedUntil: time.UnixMilli(locked),
	}
	copy(rec.Fingerprint[:], fp)
	if len(v) > headerLen {
		rec.Result = []byte(v[headerLen:])
	}
	if rec.State == idempotency.Pending && !now.Before(rec.LockedUntil) {
		rec.State = idempotency.OutcomeUnknown
	}
	return rec, token, nil
}

// leaseCheck is the part of both scripts that tells whether ARGV[1] (token)
// still holds KEYS[1] at ARGV[2] (now, Unix ms).
const leaseCheck = `
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 1) ~= '1' or string.sub(v, 2, 17) ~= ARGV[1]
   or tonumber(string.sub(v, 33, 47)) <= tonumber(ARGV[2]) then
  return 0
end
`

// finishScript settles a held record to ARGV[3] (state digit) with result
// ARGV[4], keeping its expiry.
var finishScript = redis.NewScript(leaseCheck + `
redis.call('SET', KEYS[1], ARGV[3] .. string.sub(v, 2, 111) .. ARGV[4], 'KEEPTTL')
return 1
`)

// releaseScript deletes a held record.
var releaseScript = redis.NewScript(leaseCheck + `
redis.call('DEL', KEYS[1])
return 1
`)

func (s *IdempotencyStore) key(k idempotency.Key) string {
	return s.conn.key("idem", hex.EncodeToString(k.Scope[:]), k.Name)
}

// unavailable turns a Redis failure into ErrStoreUnavailable, and the
// caller's own cancellation into its context error.
func unavailable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: %v", idempotency.ErrStoreUnavailable, err)
}

// Begin implements idempotency.Store.
func (s *IdempotencyStore) Begin(ctx context.Context, key idempotency.Key, fp idempotency.Fingerprint, lockUntil time.Time) (idempotency.Claim, error) {
	if err := ctx.Err(); err != nil {
		return idempotency.Claim{}, err
	}
	now := time.Now()
	if !lockUntil.After(now) {
		return idempotency.Claim{}, context.DeadlineExceeded
	}
	lockUntil = minTime(lockUntil, now.Add(s.opts.MaxLock))
	var b [8]byte
	_, _ = rand.Read(b[:])
	token := binary.BigEndian.Uint64(b[:])
	rec := idempotency.Record{State: idempotency.Pending, Fingerprint: fp, CreatedAt: now, LockedUntil: lockUntil}
	var old string
	err := s.conn.call(ctx, func(ctx context.Context) error {
		var err error
		old, err = s.conn.rdb.SetArgs(ctx, s.key(key), encodeRecord(rec, token), redis.SetArgs{Mode: "NX", TTL: s.opts.TTL, Get: true}).Result()
		return err
	})
	switch {
	case errors.Is(err, redis.Nil):
		return idempotency.Claim{Lease: &idempotency.Lease{Key: key, Token: token}}, nil
	case err != nil:
		s.conn.fellBack(ComponentIdempotency)
		return idempotency.Claim{}, unavailable(ctx, err)
	}
	existing, _, err := decodeRecord(old, time.Now())
	if err != nil {
		return idempotency.Claim{}, unavailable(ctx, err)
	}
	return idempotency.Claim{Existing: existing}, nil
}

// Finish implements idempotency.Store.
func (s *IdempotencyStore) Finish(ctx context.Context, lease idempotency.Lease, state idempotency.State, result []byte) error {
	if state != idempotency.Succeeded && state != idempotency.OutcomeUnknown {
		return errors.New("idempotency: Finish needs Succeeded or OutcomeUnknown, got " + state.String())
	}
	if state == idempotency.OutcomeUnknown {
		result = nil
	}
	return s.held(ctx, finishScript, lease, strconv.Itoa(int(state)), string(result))
}

// Release implements idempotency.Store.
func (s *IdempotencyStore) Release(ctx context.Context, lease idempotency.Lease) error {
	return s.held(ctx, releaseScript, lease)
}

func (s *IdempotencyStore) held(ctx context.Context, script *redis.Script, lease idempotency.Lease, args ...any) error {
	argv := append([]any{fmt.Sprintf("%016x", lease.Token), time.Now().UnixMilli()}, args...)
	var n int64
	err := s.conn.call(ctx, func(ctx context.Context) error {
		var err error
		n, err = script.Run(ctx, s.conn.rdb, []string{s.key(lease.Key)}, argv...).Int64()
		return err
	})
	if err != nil {
		return unavailable(ctx, err)
	}
	if n == 0 {
		return idempotency.ErrLeaseLost
	}
	return nil
}

// Get implements idempotency.Store.
func (s *IdempotencyStore) Get(ctx context.Context, key idempotency.Key) (idempotency.Record, bool, error) {
	var v string
	err := s.conn.call(ctx, func(ctx context.Context) error {
		var err error
		v, err = s.conn.rdb.Get(ctx, s.key(key)).Result()
		return err
	})
	switch {
	case errors.Is(err, redis.Nil):
		return idempotency.Record{}, false, nil
	case err != nil:
		return idempotency.Record{}, false, unavailable(ctx, err)
	}
	rec, _, err := decodeRecord(v, time.Now())
	if err != nil {
		return idempotency.Record{}, false, unavailable(ctx, err)
	}
	return rec, true, nil
}

// Wait polling: from waitFirst, doubling to waitMax, never past the lock.
const (
	waitFirst = 5 * time.Millisecond
	waitMax   = 50 * time.Millisecond
)

// Wait implements idempotency.Store by polling Get: a waiter is a request
// whose twin is writing upstream, rare enough that a few GETs cost less
// than a subscription per replica.
func (s *IdempotencyStore) Wait(ctx context.Context, key idempotency.Key) (idempotency.Record, bool, error) {
	step := waitFirst
	for {
		rec, ok, err := s.Get(ctx, key)
		if err != nil || !ok || rec.State != idempotency.Pending {
			return rec, ok, err
		}
		d := min(step, time.Until(rec.LockedUntil)+time.Millisecond)
		step = min(2*step, waitMax)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return idempotency.Record{}, false, ctx.Err()
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
