package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
)

// config is everything read from the environment; see the README's table.
type config struct {
	Port                string
	APIKey              string
	BaseURL             string
	Sandbox             bool
	FirstPage           int
	Timeout             time.Duration
	MaxBodyBytes        int64
	DefaultPageSize     int
	MaxPageSize         int
	UpstreamPageSize    int
	UpstreamConcurrency int
	QueryCacheSize      int
	CORSAllowedOrigins  []string
	LogLevel            string
	LogFormat           string
}

// loadConfig reads the environment through getenv; every problem is
// reported at once.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []string
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	integer := func(name string, def, lo, hi int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Sprintf("%s=%q: want an integer in [%d, %d]", name, v, lo, hi))
			return def
		}
		return n
	}
	duration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s=%q: want a positive duration such as 10s", name, v))
			return def
		}
		return d
	}
	boolean := func(name string, def bool) bool {
		v := getenv(name)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: want true or false", name, v))
			return def
		}
		return b
	}

	c := config{
		Port:                str("PORT", "8080"),
		APIKey:              strings.TrimSpace(getenv("REVOX_API_KEY")),
		BaseURL:             str("REVOX_BASE_URL", revox.DefaultBaseURL),
		FirstPage:           integer("REVOX_FIRST_PAGE", 0, 0, 1),
		Timeout:             duration("REVOX_TIMEOUT", revox.DefaultTimeout),
		MaxBodyBytes:        int64(integer("REVOX_MAX_BODY_BYTES", revox.DefaultMaxBodyBytes, 1<<10, 1<<30)),
		DefaultPageSize:     integer("PAGE_SIZE_DEFAULT", gateway.DefaultPageSize, 1, 1000),
		MaxPageSize:         integer("PAGE_SIZE_MAX", gateway.DefaultMaxPageSize, 1, 1000),
		UpstreamConcurrency: integer("UPSTREAM_CONCURRENCY", gateway.DefaultUpstreamConcurrency, 1, 256),
		QueryCacheSize:      integer("QUERY_CACHE_SIZE", gateway.DefaultQueryCacheSize, 1, 1<<20),
		LogLevel:            str("LOG_LEVEL", "info"),
		LogFormat:           str("LOG_FORMAT", "json"),
	}
	c.UpstreamPageSize = integer("REVOX_PAGE_SIZE", c.MaxPageSize, 1, 1000)
	c.Sandbox = boolean("REVOX_SANDBOX", c.APIKey == "")
	if c.DefaultPageSize > c.MaxPageSize {
		errs = append(errs, fmt.Sprintf("PAGE_SIZE_DEFAULT (%d) exceeds PAGE_SIZE_MAX (%d)", c.DefaultPageSize, c.MaxPageSize))
	}
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSAllowedOrigins = append(c.CORSAllowedOrigins, o)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Sprintf("LOG_FORMAT=%q: want json or text", c.LogFormat))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}
