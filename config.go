package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/inbound"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

// config is everything read from the environment, validated in one pass.
// Each part is the options of the component it configures, under that
// component's own names: Gateway is gateway.Config as gateway.New takes it,
// Upstream the Revox client's options.
type config struct {
	// Port is the public HTTP port (PORT).
	Port string
	// MetricsAddr serves /metrics on a listener of its own when set.
	MetricsAddr   string
	ShutdownGrace time.Duration
	LogLevel      string
	LogFormat     string
	// Sandbox serves the upstream from the embedded sandbox.
	Sandbox bool
	// SandboxTimeScale speeds up the life of orders placed on the sandbox
	// (default 1: real time).
	SandboxTimeScale float64
	// Tracing is on when the OTEL_* variables ask for it.
	Tracing  bool
	Upstream upstreamConfig
	// Gateway lacks only what run builds: Upstream, Readiness, Telemetry,
	// Logger.
	Gateway gateway.Config
	// Faults are the sandbox command's fault knobs.
	Faults sandbox.Faults
	// Redis shares state between replicas when its URL is set.
	Redis redisConfig
	// Inbound authenticates the gateway's callers (INBOUND_AUTH).
	Inbound inboundConfig
	// IdempotencyTTL is how long a createCall idempotency record is kept.
	IdempotencyTTL time.Duration
	// LengthsTTL is how long a list's length is remembered once its end
	// was seen (LIST_LENGTH_TTL; 0 remembers none).
	LengthsTTL time.Duration
	// Live configures the subscriptions' pollers (config_live.go).
	Live liveConfig
}

// redisConfig is REDIS_URL and its companions.
type redisConfig struct {
	URL     string
	Prefix  string
	Timeout time.Duration
}

// inboundConfig is INBOUND_AUTH and its companions.
type inboundConfig struct {
	Mode       string // none, token or jwt
	TokensFile string
	JWT        inbound.JWTConfig
}

// upstreamConfig holds the Revox client's settings, one field per option of
// revox.New of the same name.
type upstreamConfig struct {
	BaseURL          string
	APIKey           string
	FirstPage        int
	Timeout          time.Duration
	MaxBodyBytes     int64
	MaxRetries       int
	MaxConcurrency   int
	BreakerThreshold int
	BreakerOpenFor   time.Duration
	CacheTTL         time.Duration
}

// options are the revox.New options of these settings.
func (u upstreamConfig) options() []revox.Option {
	return []revox.Option{
		revox.WithFirstPage(u.FirstPage),
		revox.WithTimeout(u.Timeout),
		revox.WithMaxBodyBytes(u.MaxBodyBytes),
		revox.WithMaxRetries(u.MaxRetries),
		revox.WithMaxConcurrency(u.MaxConcurrency),
		revox.WithBreaker(u.BreakerThreshold, u.BreakerOpenFor),
		revox.WithCache(u.CacheTTL, revox.DefaultCacheEntries),
	}
}

// Default ports of the two serving commands.
const (
	defaultPort        = 8080
	defaultSandboxPort = 8081
)

// loadConfig reads every setting of command cmd ("serve" or "sandbox")
// through getenv, once, and reports every bad value at once.
func loadConfig(cmd string, getenv func(string) string) (config, error) {
	r := &envReader{getenv: getenv}
	c := readConfig(cmd, r)
	if len(r.errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(r.errs, "; "))
	}
	return c, nil
}

// readConfig reads the settings through r, which collects bad values.
func readConfig(cmd string, r *envReader) config {
	var c config
	port := defaultPort
	if cmd == cmdSandbox {
		port = defaultSandboxPort
	}
	c.Port = strconv.Itoa(r.integer(setting{Name: "PORT", Default: "8080 (sandbox: 8081)", Meaning: "HTTP port"}, port, 1, 65535))

	u := &c.Upstream
	u.APIKey = r.str(setting{Name: "REVOX_API_KEY", Default: "unset", Meaning: "Revox API key; unset means sandbox mode"}, "")
	authMode := r.str(setting{Name: "AUTH_MODE", Meaning: "server: the gateway's key for every request; forward: each caller's Bearer key"}, gateway.AuthServer)
	c.Sandbox = r.boolean(setting{Name: "REVOX_SANDBOX", Default: "true when no key and AUTH_MODE=server", Meaning: "serve from the embedded sandbox upstream"},
		u.APIKey == "" && authMode != gateway.AuthForward)
	c.SandboxTimeScale = r.timeScale(setting{Name: "SANDBOX_TIME_SCALE", Meaning: "speed of placed orders' lives on the sandbox (60: a minute a second)"})
	u.BaseURL = r.str(setting{Name: "REVOX_BASE_URL", Meaning: "upstream API root"}, revox.DefaultBaseURL)
	u.FirstPage = r.integer(setting{Name: "REVOX_FIRST_PAGE", Meaning: "index of the upstream's first page (0 or 1)"}, 0, 0, 1)
	u.Timeout = r.duration(setting{Name: "REVOX_TIMEOUT", Meaning: "timeout of one upstream attempt"}, revox.DefaultTimeout)
	u.MaxRetries = r.integer(setting{Name: "REVOX_MAX_RETRIES", Meaning: "retries of one upstream GET"}, revox.DefaultMaxRetries, 0, 10)
	u.MaxConcurrency = r.integer(setting{Name: "REVOX_MAX_CONCURRENCY", Meaning: "upstream requests in flight from the whole gateway"}, revox.DefaultMaxConcurrency, 1, 4096)
	u.BreakerThreshold = r.integer(setting{Name: "REVOX_BREAKER_THRESHOLD", Meaning: "consecutive upstream failures that open the breaker; 0 is off"}, revox.DefaultBreakerThreshold, 0, 1000)
	u.BreakerOpenFor = r.duration(setting{Name: "REVOX_BREAKER_OPEN_FOR", Meaning: "how long the breaker stays open"}, revox.DefaultBreakerOpenFor)
	u.CacheTTL = r.ttl(setting{Name: "CACHE_TTL", Default: "0 (off)", Meaning: "keep successful upstream responses this long"}, 0)
	u.MaxBodyBytes = int64(r.integer(setting{Name: "REVOX_MAX_BODY_BYTES", Meaning: "largest upstream response body read"}, revox.DefaultMaxBodyBytes, 1<<10, 1<<30))

	g := &c.Gateway
	g.AuthMode = authMode
	switch authMode {
	case gateway.AuthServer, gateway.AuthForward:
	default:
		r.fail("AUTH_MODE=%q: want server or forward", authMode)
	}
	if authMode == gateway.AuthForward && u.APIKey != "" {
		r.fail("AUTH_MODE=forward sends each caller's own key upstream: unset REVOX_API_KEY")
	}
	g.Limits = paging.Limits{
		DefaultSize: r.integer(setting{Name: "PAGE_SIZE_DEFAULT", Meaning: "size when none of pageSize, first, last is given"}, gateway.DefaultPageSize, 1, 1000),
		MaxSize:     r.integer(setting{Name: "PAGE_SIZE_MAX", Meaning: "largest accepted pageSize, first, last"}, gateway.DefaultMaxPageSize, 1, 1000),
	}
	g.Limits.UpstreamPageSize = r.integer(setting{Name: "REVOX_PAGE_SIZE", Default: "PAGE_SIZE_MAX", Meaning: "upstream page size cursor windows are cut from"}, g.Limits.MaxSize, 1, 1000)
	if g.Limits.DefaultSize > g.Limits.MaxSize {
		r.fail("PAGE_SIZE_DEFAULT (%d) exceeds PAGE_SIZE_MAX (%d)", g.Limits.DefaultSize, g.Limits.MaxSize)
	}
	g.UpstreamConcurrency = r.integer(setting{Name: "UPSTREAM_CONCURRENCY", Meaning: "upstream requests one GraphQL request may have in flight"}, gateway.DefaultUpstreamConcurrency, 1, 256)
	g.QueryCacheSize = r.integer(setting{Name: "QUERY_CACHE_SIZE", Meaning: "parsed and validated queries kept"}, gateway.DefaultQueryCacheSize, 1, 1<<20)
	g.RequestTimeout = r.duration(setting{Name: "REQUEST_TIMEOUT", Meaning: "deadline of one GraphQL request, upstream retries included"}, gateway.DefaultRequestTimeout)
	d := gateway.DefaultOperationLimits
	g.Operation = gateway.OperationLimits{
		MaxDepth:      r.integer(setting{Name: "MAX_DEPTH", Meaning: "deepest field nesting"}, d.MaxDepth, 1, 100),
		MaxAliases:    r.integer(setting{Name: "MAX_ALIASES", Meaning: "aliased fields per operation"}, d.MaxAliases, 1, 1000),
		MaxTokens:     r.integer(setting{Name: "MAX_TOKENS", Meaning: "lexical tokens per document"}, d.MaxTokens, 10, 1000000),
		MaxDirectives: r.integer(setting{Name: "MAX_DIRECTIVES", Meaning: "directive uses per operation"}, d.MaxDirectives, 1, 10000),
		MaxCost:       r.integer(setting{Name: "MAX_COST", Meaning: "list-aware cost of one operation"}, d.MaxCost, 1, 1<<30),
	}
	g.MaxBodyBytes = int64(r.integer(setting{Name: "MAX_BODY_BYTES", Meaning: "largest request body"}, gateway.DefaultMaxBodyBytes, 1<<10, 1<<30))
	g.BodyReadTimeout = r.duration(setting{Name: "BODY_READ_TIMEOUT", Meaning: "time a request body may take to arrive"}, gateway.DefaultBodyReadTimeout)
	g.DisableIntrospection = !r.boolean(setting{Name: "INTROSPECTION", Meaning: "false turns off introspection and suggestions"}, true)
	g.APQCacheSize = r.integer(setting{Name: "APQ_CACHE_SIZE", Meaning: "automatic persisted queries kept"}, gateway.DefaultAPQCacheSize, 1, 1<<20)
	g.DisableCSRFPrevention = !r.boolean(setting{Name: "CSRF_PREVENTION", Meaning: "refuse requests a browser could send cross-site without a preflight"}, true)
	g.RateLimitRPS = r.rate(setting{Name: "RATE_LIMIT_RPS", Default: "0 (off)", Meaning: "requests per second allowed per client IP"})
	g.RateLimitBurst = r.integer(setting{Name: "RATE_LIMIT_BURST", Default: "2 × RPS", Meaning: "burst above RATE_LIMIT_RPS"}, 0, 0, 1<<20)
	g.MaxInFlight = r.integer(setting{Name: "MAX_IN_FLIGHT", Meaning: "GraphQL requests served at once"}, gateway.DefaultMaxInFlight, 1, 1<<20)
	g.CORSAllowedOrigins = r.list(setting{Name: "CORS_ALLOWED_ORIGINS", Default: "empty", Meaning: "comma-separated origins allowed cross-origin (* for any)"})

	c.ShutdownGrace = r.duration(setting{Name: "SHUTDOWN_GRACE", Meaning: "time given to in-flight requests on SIGINT/SIGTERM"}, 20*time.Second)
	if c.MetricsAddr = r.str(setting{Name: "METRICS_ADDR", Default: "empty (on PORT)", Meaning: "host:port of a listener of its own for /metrics"}, ""); c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			r.fail("METRICS_ADDR=%q: want host:port or :port", c.MetricsAddr)
		}
	}
	g.NoMetricsRoute = c.MetricsAddr != ""
	g.TrustedProxies = r.prefixes(setting{Name: "TRUSTED_PROXIES", Default: "empty", Meaning: "comma-separated IPs or CIDR prefixes of load balancers whose X-Forwarded-For the rate limit believes"})
	c.Redis = redisConfig{
		URL:     r.str(setting{Name: "REDIS_URL", Default: "unset (all state in memory)", Meaning: "redis://[:password@]host:port/db or rediss:// (TLS): replicas share APQ, cache, idempotency records and rate limits"}, ""),
		Prefix:  r.str(setting{Name: "REDIS_PREFIX", Meaning: "prefix of every Redis key"}, redisstore.DefaultPrefix),
		Timeout: r.duration(setting{Name: "REDIS_TIMEOUT", Meaning: "bound of every Redis call"}, redisstore.DefaultTimeout),
	}
	if u := c.Redis.URL; u != "" && !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") {
		r.fail("REDIS_URL: want redis://[:password@]host:port/db or rediss:// for TLS")
	}
	readWriteSettings(r, &c, authMode)
	readLiveSettings(r, &c)
	c.LogLevel = r.oneOf(setting{Name: "LOG_LEVEL", Meaning: "debug, info, warn or error"}, "info", "debug", "info", "warn", "error")
	c.LogFormat = r.oneOf(setting{Name: "LOG_FORMAT", Meaning: "json or text"}, "json", "json", "text")
	tracing, err := telemetry.TracingEnabled(r.getenv)
	if err != nil {
		r.errs = append(r.errs, err.Error())
	}
	c.Tracing = tracing

	if cmd == cmdSandbox {
		c.Faults = readFaults(r)
	}
	return c
}

// readWriteSettings reads who may write and how writes are kept once.
func readWriteSettings(r *envReader, c *config, authMode string) {
	g := &c.Gateway
	in := &c.Inbound
	in.Mode = r.oneOf(setting{Name: "INBOUND_AUTH", Meaning: "none, token (INBOUND_TOKENS_FILE) or jwt (JWT_*): how callers of the gateway authenticate"}, "none", "none", "token", "jwt")
	in.TokensFile = r.str(setting{Name: "INBOUND_TOKENS_FILE", Default: "unset", Meaning: "file of SHA-256 hex digests of accepted bearer tokens, one per line, optionally followed by scopes"}, "")
	in.JWT = inbound.JWTConfig{
		JWKSURL:  r.str(setting{Name: "JWT_JWKS_URL", Default: "unset", Meaning: "JWKS the callers' JWTs are verified against"}, ""),
		Issuer:   r.str(setting{Name: "JWT_ISSUER", Default: "unset", Meaning: "iss every JWT must carry"}, ""),
		Audience: r.str(setting{Name: "JWT_AUDIENCE", Default: "unset", Meaning: "aud every JWT must carry"}, ""),
	}
	switch {
	case in.Mode == "token" && in.TokensFile == "":
		r.fail("INBOUND_AUTH=token needs INBOUND_TOKENS_FILE")
	case in.Mode == "jwt" && (in.JWT.JWKSURL == "" || in.JWT.Issuer == "" || in.JWT.Audience == ""):
		r.fail("INBOUND_AUTH=jwt needs JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE")
	case in.Mode != "none" && authMode == gateway.AuthForward:
		r.fail("INBOUND_AUTH=%s: AUTH_MODE=forward already authenticates each caller by its own Revox key in Authorization", in.Mode)
	}
	// Against the sandbox, writes dial no one.
	g.AllowAnonymousWrites = r.boolean(setting{Name: "ALLOW_ANONYMOUS_WRITES", Default: "true against the sandbox, else false", Meaning: "let mutations through in server mode without INBOUND_AUTH (anyone reaching the gateway spends its key)"}, c.Sandbox)
	g.MaxMutations = r.integer(setting{Name: "MAX_MUTATIONS", Meaning: "mutation fields per operation"}, gateway.DefaultMaxMutations, 1, 1000)
	c.IdempotencyTTL = r.duration(setting{Name: "IDEMPOTENCY_TTL", Meaning: "how long a createCall idempotency key is remembered"}, idempotency.DefaultTTL)
	c.LengthsTTL = r.ttl(setting{Name: "LIST_LENGTH_TTL", Meaning: "how long a list's length is remembered once its end was seen, so `last: n` finds the end in one round trip (always verified; shared through Redis)"}, paging.DefaultLengthsTTL)
}

// readFaults reads the fault knobs of the sandbox command, for load, soak
// and failure tests against it.
func readFaults(r *envReader) sandbox.Faults {
	prob := func(name, what string) float64 {
		return r.probability(setting{Name: name, Default: "0", Meaning: "probability per request of " + what, Sandbox: true})
	}
	return sandbox.Faults{
		RateLimited:       prob("SANDBOX_FAULT_429", "a 429"),
		ServerError:       prob("SANDBOX_FAULT_5XX", "a 500 or 503"),
		Malformed:         prob("SANDBOX_FAULT_MALFORMED", "a truncated JSON body"),
		Reset:             prob("SANDBOX_FAULT_RESET", "a connection reset"),
		Hang:              prob("SANDBOX_FAULT_HANG", "no answer at all"),
		LostWrite:         prob("SANDBOX_FAULT_LOST_WRITE", "a write applied whose answer is lost"),
		RetryAfterSeconds: r.integer(setting{Name: "SANDBOX_RETRY_AFTER", Meaning: "Retry-After seconds of the 429s", Sandbox: true}, 0, 0, 3600),
		Latency:           r.latency(setting{Name: "SANDBOX_LATENCY", Default: "0", Meaning: "added to every request", Sandbox: true}),
	}
}
