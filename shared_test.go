package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

func TestOpenShared(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Run("without REDIS_URL everything stays in memory", func(t *testing.T) {
		cfg, err := loadConfig(cmdServe, env(map[string]string{"CACHE_TTL": "1s", "RATE_LIMIT_RPS": "5"}))
		if err != nil {
			t.Fatal(err)
		}
		s, err := openShared(cfg, logger, telemetry.New())
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		if s.apq != nil || s.cache != nil || s.idempotency != nil || s.rateLimiter != nil || s.status != nil {
			t.Fatalf("shared state without REDIS_URL: %+v", s)
		}
	})
	t.Run("with REDIS_URL the persisted queries, cache, idempotency and rate limit are shared", func(t *testing.T) {
		srv := redistest.Start(t)
		cfg, err := loadConfig(cmdServe, env(map[string]string{"REDIS_URL": srv.URL(), "CACHE_TTL": "1s", "RATE_LIMIT_RPS": "5"}))
		if err != nil {
			t.Fatal(err)
		}
		tel := telemetry.New()
		s, err := openShared(cfg, logger, tel)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		if s.apq == nil || s.cache == nil || s.idempotency == nil || s.rateLimiter == nil || s.status == nil {
			t.Fatalf("missing shared state: %+v", s)
		}
		mfs, err := tel.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, mf := range mfs {
			found[mf.GetName()] = true
		}
		if !found["revoxgw_redis_up"] || !found["revoxgw_redis_fallbacks_total"] {
			t.Fatalf("the Redis metrics are not on /metrics: %v", found)
		}
	})
	t.Run("a REDIS_URL Redis cannot parse is refused at startup", func(t *testing.T) {
		for _, url := range []string{"redis://:secret@host:notaport/0", "redis://:secret@host:6379/notadb", "rediss://user:secret@host:6379/0?dial_timeout=x"} {
			cfg, err := loadConfig(cmdServe, env(map[string]string{"REDIS_URL": url}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = openShared(cfg, logger, telemetry.New())
			if err == nil {
				t.Fatalf("%s: no error", url)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error shows the password: %v", err)
			}
		}
	})
}
