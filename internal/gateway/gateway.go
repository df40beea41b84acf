// Package gateway assembles the HTTP handler of the GraphQL gateway: the
// gqlgen server with its transports, caches and error presenter, the
// per-request loaders, CORS, the playground and the health check.
package gateway

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/graph/loaders"
	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/graph/resolvers"
)

// Config is what the handler needs; New fills zero values with defaults.
type Config struct {
	// Upstream is the Revox client (or anything with its two methods).
	Upstream loaders.Upstream
	// Limits bound connection sizes.
	Limits paging.Limits
	// UpstreamConcurrency bounds concurrent upstream requests per GraphQL request.
	UpstreamConcurrency int
	// QueryCacheSize is the number of parsed and validated queries kept.
	QueryCacheSize int
	// CORSAllowedOrigins lists origins allowed cross-origin; empty allows none.
	CORSAllowedOrigins []string
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultPageSize            = 20
	DefaultMaxPageSize         = 100
	DefaultUpstreamConcurrency = 8
	DefaultQueryCacheSize      = 1000
)

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
	if c.QueryCacheSize == 0 {
		c.QueryCacheSize = DefaultQueryCacheSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// New returns the gateway's HTTP handler: GraphQL at /query, the
// playground at /, liveness at /healthz.
func New(cfg Config) http.Handler {
	cfg.withDefaults()
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers: &resolvers.Resolver{Limits: cfg.Limits},
	}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](cfg.QueryCacheSize))
	srv.Use(extension.Introspection{})
	srv.SetErrorPresenter(presentError(cfg.Logger))
	srv.SetRecoverFunc(recoverPanic(cfg.Logger))

	mux := http.NewServeMux()
	mux.Handle("/query", loaders.Middleware(cfg.Upstream, cfg.UpstreamConcurrency)(srv))
	mux.Handle("GET /{$}", playground.Handler("Revox GraphQL", "/query"))
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
	return accessLog(cfg.Logger, h)
}

// accessLog logs one structured line per request.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
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
