package main

import (
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"

	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

// sharedState is what replicas share through Redis (REDIS_URL). Without
// REDIS_URL every field is nil and the gateway keeps its in-memory defaults.
type sharedState struct {
	conn        *redisstore.Conn
	apq         graphql.Cache[string]
	cache       revox.SharedCache
	idempotency idempotency.Store
	rateLimiter gateway.RateLimiter
	status      gateway.StatusReporter
	lengths     paging.SharedLengths
}

// openShared connects to Redis when REDIS_URL is set. It does not wait for
// Redis: a replica starts, and serves reads, while Redis is down.
func openShared(cfg config, logger *slog.Logger, tel *telemetry.Telemetry) (*sharedState, error) {
	s := &sharedState{}
	if cfg.Redis.URL == "" {
		return s, nil
	}
	conn, err := redisstore.Open(redisstore.Options{
		URL:        cfg.Redis.URL,
		Prefix:     cfg.Redis.Prefix,
		Timeout:    cfg.Redis.Timeout,
		Logger:     logger,
		Registerer: tel.Registry(),
	})
	if err != nil {
		return nil, err
	}
	s.conn = conn
	s.status = conn
	g := cfg.Gateway
	apqSize := g.APQCacheSize
	if apqSize == 0 {
		apqSize = gateway.DefaultAPQCacheSize
	}
	s.apq = redisstore.NewAPQCache(conn, lru.New[string](apqSize), 0)
	if cfg.Upstream.CacheTTL > 0 {
		s.cache = redisstore.NewResponseCache(conn)
	}
	s.lengths = redisstore.NewLengths(conn)
	s.idempotency = redisstore.NewIdempotencyStore(conn, redisstore.IdempotencyOptions{TTL: cfg.IdempotencyTTL})
	if g.RateLimitRPS > 0 {
		burst := g.RateLimitBurst
		if burst == 0 {
			burst = gateway.DefaultRateLimitBurst(g.RateLimitRPS)
		}
		s.rateLimiter = redisstore.NewRateLimiter(conn, g.RateLimitRPS, burst, gateway.NewLocalRateLimiter(g.RateLimitRPS, burst))
	}
	logger.Info("sharing state through redis", "prefix", cfg.Redis.Prefix, "timeout", cfg.Redis.Timeout)
	return s, nil
}

func (s *sharedState) close() {
	if s.conn != nil {
		_ = s.conn.Close()
	}
}
