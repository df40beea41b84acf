package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
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

	MaxRetries       int
	MaxConcurrency   int
	BreakerThreshold int
	BreakerOpenFor   time.Duration
	CacheTTL         time.Duration

	AuthMode        string
	MaxDepth        int
	MaxAliases      int
	MaxTokens       int
	MaxDirectives   int
	MaxCost         int
	RequestMaxBytes int64
	Introspection   bool
	APQCacheSize    int
	CSRFPrevention  bool
	RateLimitRPS    float64
	RateLimitBurst  int
	MaxInFlight     int
	MetricsAddr     string
	ShutdownGrace   time.Duration
	RequestTimeout  time.Duration

	// RedisURL, when set, shares state between replicas (REDIS_URL);
	// RedisPrefix starts every key, RedisTimeout bounds every call.
	RedisURL     string
	RedisPrefix  string
	RedisTimeout time.Duration
	// TrustedProxies name the load balancers whose X-Forwarded-For the
	// rate limit believes (TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix

	// SandboxTimeScale speeds up the life of orders placed on the sandbox
	// (SANDBOX_TIME_SCALE, default 1: real time).
	SandboxTimeScale float64
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
		MaxRetries:          integer("REVOX_MAX_RETRIES", revox.DefaultMaxRetries, 0, 10),
		MaxConcurrency:      integer("REVOX_MAX_CONCURRENCY", revox.DefaultMaxConcurrency, 1, 4096),
		BreakerThreshold:    integer("REVOX_BREAKER_THRESHOLD", revox.DefaultBreakerThreshold, 0, 1000),
		BreakerOpenFor:      duration("REVOX_BREAKER_OPEN_FOR", revox.DefaultBreakerOpenFor),
		AuthMode:            str("AUTH_MODE", gateway.AuthServer),
		MaxDepth:            integer("MAX_DEPTH", gateway.DefaultOperationLimits.MaxDepth, 1, 100),
		MaxAliases:          integer("MAX_ALIASES", gateway.DefaultOperationLimits.MaxAliases, 1, 1000),
		MaxTokens:           integer("MAX_TOKENS", gateway.DefaultOperationLimits.MaxTokens, 10, 1000000),
		MaxDirectives:       integer("MAX_DIRECTIVES", gateway.DefaultOperationLimits.MaxDirectives, 1, 10000),
		MaxCost:             integer("MAX_COST", gateway.DefaultOperationLimits.MaxCost, 1, 1<<30),
		RequestMaxBytes:     int64(integer("MAX_BODY_BYTES", gateway.DefaultMaxBodyBytes, 1<<10, 1<<30)),
		Introspection:       boolean("INTROSPECTION", true),
		APQCacheSize:        integer("APQ_CACHE_SIZE", gateway.DefaultAPQCacheSize, 1, 1<<20),
		CSRFPrevention:      boolean("CSRF_PREVENTION", true),
		RateLimitBurst:      integer("RATE_LIMIT_BURST", 0, 0, 1<<20),
		MaxInFlight:         integer("MAX_IN_FLIGHT", gateway.DefaultMaxInFlight, 1, 1<<20),
		ShutdownGrace:       duration("SHUTDOWN_GRACE", 20*time.Second),
		RequestTimeout:      duration("REQUEST_TIMEOUT", gateway.DefaultRequestTimeout),
		MaxBodyBytes:        int64(integer("REVOX_MAX_BODY_BYTES", revox.DefaultMaxBodyBytes, 1<<10, 1<<30)),
		DefaultPageSize:     integer("PAGE_SIZE_DEFAULT", gateway.DefaultPageSize, 1, 1000),
		MaxPageSize:         integer("PAGE_SIZE_MAX", gateway.DefaultMaxPageSize, 1, 1000),
		UpstreamConcurrency: integer("UPSTREAM_CONCURRENCY", gateway.DefaultUpstreamConcurrency, 1, 256),
		QueryCacheSize:      integer("QUERY_CACHE_SIZE", gateway.DefaultQueryCacheSize, 1, 1<<20),
		LogLevel:            str("LOG_LEVEL", "info"),
		LogFormat:           str("LOG_FORMAT", "json"),
		RedisURL:            strings.TrimSpace(getenv("REDIS_URL")),
		RedisPrefix:         str("REDIS_PREFIX", redisstore.DefaultPrefix),
		RedisTimeout:        duration("REDIS_TIMEOUT", redisstore.DefaultTimeout),
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, "REDIS_URL: want redis://[:password@]host:port/db or rediss:// for TLS")
	}
	c.UpstreamPageSize = integer("REVOX_PAGE_SIZE", c.MaxPageSize, 1, 1000)
	if v := getenv("CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			errs = append(errs, fmt.Sprintf("CACHE_TTL=%q: want a duration such as 1s (0 turns the cache off)", v))
		}
		c.CacheTTL = d
	}
	if v := getenv("RATE_LIMIT_RPS"); v != "" {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1e6 {
			errs = append(errs, fmt.Sprintf("RATE_LIMIT_RPS=%q: want a number of requests per second (0 is off)", v))
		}
		c.RateLimitRPS = f
	}
	switch c.AuthMode {
	case gateway.AuthServer, gateway.AuthForward:
	default:
		errs = append(errs, fmt.Sprintf("AUTH_MODE=%q: want server or forward", c.AuthMode))
	}
	if c.AuthMode == gateway.AuthForward && c.APIKey != "" {
		errs = append(errs, "AUTH_MODE=forward sends each caller's own key upstream: unset REVOX_API_KEY")
	}
	c.Sandbox = boolean("REVOX_SANDBOX", c.APIKey == "" && getenv("AUTH_MODE") != gateway.AuthForward)
	c.SandboxTimeScale = 1
	if v := strings.TrimSpace(getenv("SANDBOX_TIME_SCALE")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 3600) {
			errs = append(errs, fmt.Sprintf("SANDBOX_TIME_SCALE=%q: want a factor in (0, 3600], 1 being real time", v))
		} else {
			c.SandboxTimeScale = f
		}
	}
	if c.DefaultPageSize > c.MaxPageSize {
		errs = append(errs, fmt.Sprintf("PAGE_SIZE_DEFAULT (%d) exceeds PAGE_SIZE_MAX (%d)", c.DefaultPageSize, c.MaxPageSize))
	}
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSAllowedOrigins = append(c.CORSAllowedOrigins, o)
		}
	}
	for _, p := range strings.Split(getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				errs = append(errs, fmt.Sprintf("TRUSTED_PROXIES: %q is neither an IP nor a CIDR prefix", p))
				continue
			}
			prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	if c.MetricsAddr = strings.TrimSpace(getenv("METRICS_ADDR")); c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			errs = append(errs, fmt.Sprintf("METRICS_ADDR=%q: want host:port or :port", c.MetricsAddr))
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

// sandboxFaults reads the fault knobs of the sandbox subcommand, for load,
// soak and failure tests against it.
func sandboxFaults(getenv func(string) string) (sandbox.Faults, error) {
	var f sandbox.Faults
	var errs []string
	prob := func(name string) float64 {
		v := getenv(name)
		if v == "" {
			return 0
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || p < 0 || p > 1 {
			errs = append(errs, fmt.Sprintf("%s=%q: want a probability between 0 and 1", name, v))
		}
		return p
	}
	f.RateLimited = prob("SANDBOX_FAULT_429")
	f.ServerError = prob("SANDBOX_FAULT_5XX")
	f.Malformed = prob("SANDBOX_FAULT_MALFORMED")
	f.Reset = prob("SANDBOX_FAULT_RESET")
	f.Hang = prob("SANDBOX_FAULT_HANG")
	f.LostWrite = prob("SANDBOX_FAULT_LOST_WRITE")
	if v := getenv("SANDBOX_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Sprintf("SANDBOX_LATENCY=%q: want a duration", v))
		}
		f.Latency = d
	}
	if v := getenv("SANDBOX_RETRY_AFTER"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Sprintf("SANDBOX_RETRY_AFTER=%q: want seconds", v))
		}
		f.RetryAfterSeconds = n
	}
	if len(errs) > 0 {
		return f, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return f, nil
}
