// Package gateway assembles the HTTP handler of the GraphQL gateway: the
// gqlgen server with its transports, caches and error presenter, the
// per-request loaders, CORS, the playground and the health check.
package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/graph/fastpath"
	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/graph/loaders"
	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/graph/resolvers"
	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/inbound"
	"github.com/revox-graphql/gateway/internal/playground"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

// Config is what the handler needs; New fills zero values with defaults.
type Config struct {
	// Upstream is the Revox client (or anything with its two methods).
	Upstream loaders.Upstream
	// Limits bound connection sizes.
	Limits paging.Limits
	// UpstreamConcurrency bounds concurrent upstream requests per GraphQL request.
	UpstreamConcurrency int
	// Lengths remembers how long lists were when their end was seen, so
	// that `last: n` finds it in one round trip (LIST_LENGTH_TTL); nil
	// means paging.NewLengths with its defaults. Share it through Redis
	// between replicas with its Share method.
	Lengths *paging.Lengths
	// QueryCacheSize is the number of parsed and validated queries kept.
	QueryCacheSize int
	// CORSAllowedOrigins lists origins allowed cross-origin; empty allows none.
	CORSAllowedOrigins []string
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// Telemetry records metrics and spans and serves /metrics; nil means a
	// telemetry.New() of the handler's own.
	Telemetry *telemetry.Telemetry

	// AuthMode is AuthServer (default: the upstream client's own key) or
	// AuthForward (each caller's Bearer credential is sent upstream).
	AuthMode string
	// Operation bounds what one operation may ask.
	Operation OperationLimits
	// MaxBodyBytes bounds a request body (default 1 MiB), after
	// decompression when it is sent gzipped.
	MaxBodyBytes int64
	// BodyReadTimeout bounds the time a request body takes to arrive,
	// from the end of its headers (default 10s).
	BodyReadTimeout time.Duration
	// Compression sets how responses are compressed (zstd, br, gzip, as
	// Accept-Encoding asks); the zero value is the measured defaults.
	Compression Compression
	// DisableIntrospection turns off introspection and field suggestions.
	DisableIntrospection bool
	// APQCacheSize is the number of automatic persisted queries kept.
	APQCacheSize int
	// APQCache keeps the automatic persisted queries; nil means an LRU of
	// APQCacheSize in this process (redisstore.APQCache shares them).
	APQCache graphql.Cache[string]
	// DisableCSRFPrevention lets simple (preflight-free) requests through.
	DisableCSRFPrevention bool
	// RateLimitRPS limits requests per second per client IP; 0 is off.
	RateLimitRPS float64
	// RateLimitBurst is the burst allowed above RateLimitRPS (default 2×RPS).
	RateLimitBurst int
	// RateLimiter applies RateLimitRPS; nil means NewLocalRateLimiter
	// (redisstore.RateLimiter shares the limit between replicas).
	RateLimiter RateLimiter
	// TrustedProxies are the load balancers whose X-Forwarded-For names the
	// client the rate limit counts (TRUSTED_PROXIES); empty trusts none.
	TrustedProxies []netip.Prefix
	// Redis, when set, is reported by /readyz.
	Redis StatusReporter
	// MaxInFlight bounds the GraphQL requests served at once; beyond it
	// requests are refused with 503 OVERLOADED (default 1024).
	MaxInFlight int
	// NoMetricsRoute leaves /metrics out: the caller serves
	// Telemetry.MetricsHandler elsewhere (METRICS_ADDR).
	NoMetricsRoute bool
	// RequestTimeout is the deadline of one GraphQL request, retries
	// included (default 30s).
	RequestTimeout time.Duration
	// Readiness answers /readyz; nil reports ready.
	Readiness ReadinessChecker
	// Writer places and cancels call orders; nil means Upstream, when it
	// can (the revox client can).
	Writer resolvers.CallWriter
	// Idempotency keeps createCall's idempotency records; nil means an
	// in-memory store with idempotency.MemoryOptions' defaults.
	Idempotency idempotency.Store
	// Inbound authenticates the gateway's own callers (INBOUND_AUTH); nil
	// admits everyone.
	Inbound inbound.Authenticator
	// AllowAnonymousWrites lets mutations through in server auth mode
	// without inbound authentication (ALLOW_ANONYMOUS_WRITES).
	AllowAnonymousWrites bool
	// MaxMutations bounds the mutation fields of one operation (default 10).
	MaxMutations int
	// Subscriptions is the live side (subscriptions.go); nil means one with
	// its defaults. Its Shutdown ends the subscriptions.
	Subscriptions *Subscriptions
	// DisableFastPath leaves every field to gqlgen's generated executor
	// (no graph/fastpath); tests compare the two.
	DisableFastPath bool
	// FastPath is the fast path extension to use, nil for a new one: a
	// test passes its own to read how many objects it wrote.
	FastPath *fastpath.FastPath
}

// Defaults for Config.
const (
	DefaultPageSize            = 20
	DefaultMaxPageSize         = 100
	DefaultUpstreamConcurrency = 8
	DefaultQueryCacheSize      = 1000
	DefaultMaxBodyBytes        = 1 << 20
	DefaultAPQCacheSize        = 1000
	DefaultRequestTimeout      = 30 * time.Second
	DefaultMaxInFlight         = 1024
	DefaultBodyReadTimeout     = 10 * time.Second
)

// DefaultRateLimitBurst is the burst when RATE_LIMIT_BURST is unset: two
// seconds' worth, at least one request.
func DefaultRateLimitBurst(rps float64) int { return max(int(2*rps), 1) }

func (c *Config) withDefaults() {
	if c.Limits.DefaultSize == 0 {
		c.Limits.DefaultSize = DefaultPageSize
	}
	if c.Limits.MaxSize == 0 {
		c.Limits.MaxSize = DefaultMaxPageSize
	}
	c.Limits.DefaultSize = min(c.Limits.DefaultSize, c.Limits.MaxSize)
	if c.Limits.UpstreamPageSize == 0 {
		c.Limits.UpstreamPageSize = c.Limits.MaxSize
	}
	if c.UpstreamConcurrency == 0 {
		c.UpstreamConcurrency = DefaultUpstreamConcurrency
	}
	if c.Lengths == nil {
		c.Lengths = paging.NewLengths(paging.DefaultLengthsTTL, paging.DefaultLengthsEntries)
	}
	if c.QueryCacheSize == 0 {
		c.QueryCacheSize = DefaultQueryCacheSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Telemetry == nil {
		c.Telemetry = telemetry.New()
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Readiness == nil {
		c.Readiness = alwaysReady{}
	}
	if c.AuthMode == "" {
		c.AuthMode = AuthServer
	}
	c.Operation.withDefaults()
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.BodyReadTimeout == 0 {
		c.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if c.APQCacheSize == 0 {
		c.APQCacheSize = DefaultAPQCacheSize
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Writer == nil {
		c.Writer, _ = c.Upstream.(resolvers.CallWriter)
	}
	if c.Idempotency == nil {
		c.Idempotency = idempotency.NewMemory(idempotency.MemoryOptions{})
	}
	if c.MaxMutations == 0 {
		c.MaxMutations = DefaultMaxMutations
	}
	if c.Subscriptions == nil {
		c.Subscriptions = &Subscriptions{}
	}
	c.Subscriptions.withDefaults(c.Upstream)
	if c.RateLimitBurst == 0 {
		c.RateLimitBurst = DefaultRateLimitBurst(c.RateLimitRPS)
	}
	if c.APQCache == nil {
		c.APQCache = lru.New[string](c.APQCacheSize)
	}
	if c.RateLimiter == nil && c.RateLimitRPS > 0 {
		c.RateLimiter = NewLocalRateLimiter(c.RateLimitRPS, c.RateLimitBurst)
	}
}

// New returns the gateway's HTTP handler: GraphQL at /query, the
// playground at /, liveness at /healthz.
func New(cfg Config) http.Handler {
	cfg.withDefaults()
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  &resolvers.Resolver{Limits: cfg.Limits, Writer: cfg.Writer, Idempotency: cfg.Idempotency, Live: cfg.Subscriptions.live()},
		Complexity: resolvers.Complexity(cfg.Limits),
	}))
	cfg.Subscriptions.registerMetrics(cfg.Telemetry.Registry())
	present := presentError(cfg.Logger)
	addSubscriptionTransports(srv, cfg, present)
	addTransports(srv)
	// First, so that its span and timing cover every other extension and it
	// sees the final response, refusals by the limits included.
	srv.Use(cfg.Telemetry.GraphQLExtension())
	srv.SetQueryCache(lru.New[*ast.QueryDocument](cfg.QueryCacheSize))
	if !cfg.DisableIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.SetDisableSuggestion(cfg.DisableIntrospection)
	srv.SetParserTokenLimit(cfg.Operation.MaxTokens + 1)
	srv.Use(persistedQueries{extension.AutomaticPersistedQuery{Cache: cfg.APQCache}})
	srv.Use(newOperationLimiter(cfg.Operation, cfg.QueryCacheSize))
	srv.Use(accessGuard{
		inboundAuth:    cfg.Inbound != nil,
		anonymousWrite: cfg.AuthMode == AuthForward || cfg.AllowAnonymousWrites,
		maxMutations:   cfg.MaxMutations,
	})
	if !cfg.DisableFastPath {
		if cfg.FastPath == nil {
			cfg.FastPath = fastpath.New()
		}
		srv.Use(cfg.FastPath)
	}
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(recoverPanic(cfg.Logger))

	// Compressed: GraphQL answers (refusals included) and the playground.
	// Not /metrics (Prometheus negotiates its own), not the health checks
	// (a few bytes).
	compress := newCompressor(cfg.Compression).handler
	mux := http.NewServeMux()
	// Event streams and WebSockets are routed around compression: a
	// compressor would hold events back until its buffer fills.
	// An event stream is one operation, a query too (graphql-sse): it gets
	// per-request loaders as /query does. A WebSocket carries many
	// operations over its life, so it gets none (a loader's cache would
	// outlive the operation that filled it).
	srv.AroundOperations(loaders.PerOperation(cfg.Upstream, cfg.UpstreamConcurrency, cfg.Lengths))
	withLoaders := loaders.Middleware(cfg.Upstream, cfg.UpstreamConcurrency, cfg.Lengths)(srv)
	mux.Handle("/query", routeQuery(cfg, srv, withLoaders, compress(protectQuery(cfg, withLoaders))))
	if cfg.Subscriptions.WebhookSecret != "" {
		mux.Handle("POST "+WebhookPath, webhook(cfg.Subscriptions.WebhookSecret, cfg.Subscriptions.Registry))
	}
	mux.Handle("GET /{$}", compress(playground.Handler("Revox GraphQL", "/query")))
	mux.Handle("GET "+playground.AssetPath, compress(playground.Handler("Revox GraphQL", "/query")))
	mux.HandleFunc("GET /readyz", readyz(cfg.Readiness, cfg.Redis))
	if !cfg.NoMetricsRoute {
		mux.Handle("GET /metrics", cfg.Telemetry.MetricsHandler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})

	var h http.Handler = mux
	if len(cfg.CORSAllowedOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins:   cfg.CORSAllowedOrigins,
			AllowedMethods:   []string{http.MethodGet, http.MethodPost},
			AllowedHeaders:   []string{"Content-Type", "Authorization", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
			MaxAge:           600,
			AllowCredentials: false,
		}).Handler(h)
	}
	h = accessLog(cfg.Logger, h)
	h = cfg.Telemetry.InFlight(h)
	return telemetry.RequestID(h) // outermost: every log line of the request carries its id
}

// protectQuery wraps the GraphQL endpoint with the checks that run before
// GraphQL sees a request, cheapest refusal first.
func protectQuery(cfg Config, next http.Handler) http.Handler {
	f := refuser{cfg.Telemetry}
	h := withDeadline(cfg.RequestTimeout, idempotencyHeader(next))
	if cfg.AuthMode == AuthForward {
		h = forwardCredential(f, h)
	}
	if cfg.Inbound != nil {
		h = authenticate(f, cfg.Inbound, h)
	}
	h = identifyClient(cfg.TrustedProxies, h)
	// After the body is read: a client sending its body slowly holds a
	// connection, never an execution slot.
	h = limitInFlight(f, cfg.MaxInFlight, h)
	h = limitBody(f, cfg.MaxBodyBytes, cfg.BodyReadTimeout, h)
	if !cfg.DisableCSRFPrevention {
		h = preventCSRF(f, h)
	}
	if cfg.RateLimitRPS > 0 {
		h = rateLimit(f, cfg.RateLimiter, cfg.TrustedProxies, h)
	}
	return h
}

// withDeadline bounds a request's work: upstream retries never outlive it.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// alwaysReady is the readiness of a gateway given no checker.
type alwaysReady struct{}

func (alwaysReady) Ready(context.Context) error { return nil }

// accessLog logs one structured line per request: at DEBUG for probes
// and scrapes, which come every few seconds, at INFO for the rest.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			level = slog.LevelDebug
		}
		logger.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
