package redisstore

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
)

// DefaultAPQTTL is how long a persisted query stays in Redis after it was
// last registered or read.
const DefaultAPQTTL = 24 * time.Hour

// APQCache is gqlgen's persisted-query cache shared through Redis, in front
// of the replica's own LRU. A query is immutable under its hash, so the LRU
// answers first and Redis only on a miss: a replica reads each query from
// Redis at most once while it keeps it. Registrations go to both; while
// Redis is down the LRU alone serves, as without Redis.
type APQCache struct {
	conn  *Conn
	local graphql.Cache[string]
	ttl   time.Duration
}

// NewAPQCache returns the shared cache over local (the in-memory LRU that
// also serves during outages); ttl 0 means DefaultAPQTTL.
func NewAPQCache(conn *Conn, local graphql.Cache[string], ttl time.Duration) *APQCache {
	if ttl <= 0 {
		ttl = DefaultAPQTTL
	}
	return &APQCache{conn: conn, local: local, ttl: ttl}
}

// Get implements graphql.Cache.
func (a *APQCache) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := a.local.Get(ctx, hash); ok {
		return q, true
	}
	var q string
	err := a.conn.call(ctx, func(ctx context.Context) error {
		var err error
		q, err = a.conn.rdb.GetEx(ctx, a.key(hash), a.ttl).Result()
		return err
	})
	switch {
	case err == nil:
		a.local.Add(ctx, hash, q)
		return q, true
	case err != redis.Nil:
		a.conn.fellBack(ComponentAPQ)
	}
	return "", false
}

// Add implements graphql.Cache.
func (a *APQCache) Add(ctx context.Context, hash, query string) {
	a.local.Add(ctx, hash, query)
	err := a.conn.call(ctx, func(ctx context.Context) error {
		return a.conn.rdb.Set(ctx, a.key(hash), query, a.ttl).Err()
	})
	if err != nil {
		a.conn.fellBack(ComponentAPQ)
	}
}

// key hashes the client's hash again: it bounds the key's length whatever a
// client sends as its sha256Hash.
func (a *APQCache) key(hash string) string { return a.conn.key("apq", hashed(hash)) }
