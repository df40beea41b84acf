package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// ResponseCache keeps the upstream's response bodies in Redis, shared by the
// replicas, under a SHA-256 of the client's cache key (which holds the
// credential: it never reaches Redis in clear). It implements the client's
// shared-cache interface; the client keeps its in-memory cache in front, so
// Redis is asked only on a local miss, and alone serves while Redis is down.
type ResponseCache struct {
	conn *Conn
}

// NewResponseCache returns the shared response cache on conn.
func NewResponseCache(conn *Conn) *ResponseCache { return &ResponseCache{conn: conn} }

// Get returns the body stored under key, and false on a miss or while Redis
// cannot answer.
func (r *ResponseCache) Get(ctx context.Context, key string) ([]byte, bool) {
	var body []byte
	err := r.conn.call(ctx, func(ctx context.Context) error {
		var err error
		body, err = r.conn.rdb.Get(ctx, r.key(key)).Bytes()
		return err
	})
	switch {
	case err == nil:
		return body, true
	case err != redis.Nil:
		r.conn.fellBack(ComponentCache)
	}
	return nil, false
}

// Set stores body under key for ttl.
func (r *ResponseCache) Set(ctx context.Context, key string, body []byte, ttl time.Duration) {
	err := r.conn.call(ctx, func(ctx context.Context) error {
		return r.conn.rdb.Set(ctx, r.key(key), body, ttl).Err()
	})
	if err != nil {
		r.conn.fellBack(ComponentCache)
	}
}

func (r *ResponseCache) key(key string) string { return r.conn.key("cache", hashed(key)) }
