package redisstore

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter is what the gateway's rate limit asks: whether client may make one
// more request and, if not, how long until it may.
type Limiter interface {
	Allow(ctx context.Context, client string) (bool, time.Duration)
}

// RateLimiter is a GCRA (the generic cell rate algorithm, as in
// go-redis/redis_rate) in Redis: one key per client holds its theoretical
// arrival time, so that the limit holds across replicas together. The
// script reads Redis's clock, not the replicas'. While Redis is down the
// replica's own limiter decides, so that a client gets at most the limit
// per replica during an outage.
type RateLimiter struct {
	conn     *Conn
	interval float64 // µs between requests at the sustained rate
	burst    int
	local    Limiter
}

// NewRateLimiter allows rps requests per second per client with burst,
// across replicas; local decides while Redis is down.
func NewRateLimiter(conn *Conn, rps float64, burst int, local Limiter) *RateLimiter {
	return &RateLimiter{conn: conn, interval: 1e6 / rps, burst: max(burst, 1), local: local}
}

// gcraScript allows one request at KEYS[1] with burst ARGV[1] and emission
// interval ARGV[2] µs. It answers 0 when allowed, else the µs to wait.
var gcraScript = redis.NewScript(`
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if allow_at > now then
  return math.ceil(allow_at - now)
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0
`)

// Allow implements the gateway's rate limiter.
func (r *RateLimiter) Allow(ctx context.Context, client string) (bool, time.Duration) {
	var wait int64
	err := r.conn.call(ctx, func(ctx context.Context) error {
		var err error
		wait, err = gcraScript.Run(ctx, r.conn.rdb, []string{r.conn.key("rate", client)},
			r.burst, strconv.FormatFloat(math.Max(r.interval, 1), 'f', 0, 64)).Int64()
		return err
	})
	if err != nil {
		r.conn.fellBack(ComponentRateLimit)
		return r.local.Allow(ctx, client)
	}
	if wait > 0 {
		return false, time.Duration(wait) * time.Microsecond
	}
	return true, 0
}
