package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lengths shares the list lengths the replicas learn (paging.SharedLengths):
// the end of a list one replica searched for is found by the others in one
// round trip. A length is a verified guess, so a lost or stale one costs
// round trips, never a wrong page; while Redis is down each replica keeps
// its own.
type Lengths struct {
	conn *Conn
}

// NewLengths returns the shared list lengths on conn.
func NewLengths(conn *Conn) *Lengths { return &Lengths{conn: conn} }

// GetLength returns the length stored under key, false on a miss, on a
// value that is not a length, or while Redis cannot answer.
func (l *Lengths) GetLength(ctx context.Context, key string) (int, bool) {
	var v string
	err := l.conn.call(ctx, func(ctx context.Context) error {
		var err error
		v, err = l.conn.rdb.Get(ctx, l.key(key)).Result()
		return err
	})
	switch {
	case err == redis.Nil:
		return 0, false
	case err != nil:
		l.conn.fellBack(ComponentLengths)
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// SetLength stores n under key for ttl.
func (l *Lengths) SetLength(ctx context.Context, key string, n int, ttl time.Duration) {
	err := l.conn.call(ctx, func(ctx context.Context) error {
		return l.conn.rdb.Set(ctx, l.key(key), strconv.Itoa(n), ttl).Err()
	})
	if err != nil {
		l.conn.fellBack(ComponentLengths)
	}
}

func (l *Lengths) key(key string) string { return l.conn.key("len", hashed(key)) }
