// Command gateway serves a GraphQL API in front of the Revox call API.
//
//	go run .           serve (on the embedded sandbox when REVOX_API_KEY is unset)
//	go run . schema    print the GraphQL schema (SDL) for client code generators
//	go run . schema --federation   print the subgraph SDL (as _service.sdl)
//	go run . sandbox   serve only the sandbox upstream, on PORT (default 8081)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/revox-graphql/gateway/graph"
	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "schema":
		if len(args) > 1 && args[1] == "--federation" {
			_, err := fmt.Print(graph.SDL)
			return err
		}
		sdl, err := graph.ClientSDL()
		if err != nil {
			return err
		}
		_, err = fmt.Print(sdl)
		return err
	case "", "serve", "sandbox":
	default:
		return fmt.Errorf("unknown command %q (want serve, schema or sandbox)", cmd)
	}

	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg)
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if cmd == "sandbox" {
		port := os.Getenv("PORT")
		if port == "" {
			port = "8081"
		}
		sb := sandbox.New(sandbox.Options{FirstPage: cfg.FirstPage, TimeScale: cfg.SandboxTimeScale})
		faults, err := sandboxFaults(os.Getenv)
		if err != nil {
			return err
		}
		logger.Info("serving the sandbox upstream", "addr", ":"+port, "api_key", sandbox.DefaultAPIKey, "stats", sandbox.StatsPath, "faults", fmt.Sprintf("%+v", faults), "time_scale", cfg.SandboxTimeScale)
		h := sandbox.NewFaultInjector(sb.StatsHandler(), faults, 1)
		return serve(ctx, logger, cfg.ShutdownGrace, &http.Server{Addr: ":" + port, Handler: h, ReadHeaderTimeout: 5 * time.Second})
	}

	baseURL, apiKey := cfg.BaseURL, cfg.APIKey
	if cfg.Sandbox {
		// The sandbox runs in this process on a loopback port of its own, so
		// the gateway talks to it over real HTTP exactly as to the real API.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("sandbox listener: %w", err)
		}
		var upstream http.Handler = sandbox.New(sandbox.Options{FirstPage: cfg.FirstPage, TimeScale: cfg.SandboxTimeScale})
		apiKey = sandbox.DefaultAPIKey
		if cfg.AuthMode == gateway.AuthForward {
			// Each caller's key selects its own dataset, as accounts do upstream.
			upstream = sandbox.NewTenants(sandboxTenantKeys, sandbox.Options{FirstPage: cfg.FirstPage, TimeScale: cfg.SandboxTimeScale})
			apiKey = ""
		}
		sb := &http.Server{Handler: upstream, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = sb.Serve(ln) }()
		defer sb.Close()
		baseURL = "http://" + ln.Addr().String()
	}
	logUpstream(logger, cfg, baseURL)
	shutdownTracing, err := telemetry.SetupTracing(ctx)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(flushCtx); err != nil {
			logger.Warn("flushing traces", "error", err)
		}
	}()
	tel := telemetry.New()
	client, err := revox.New(baseURL, apiKey,
		revox.WithObserver(tel.Observer()),
		revox.WithHTTPClient(&http.Client{Transport: tel.Transport(revox.NewTransport(cfg.MaxConcurrency))}),
		revox.WithFirstPage(cfg.FirstPage),
		revox.WithTimeout(cfg.Timeout),
		revox.WithMaxBodyBytes(cfg.MaxBodyBytes),
		revox.WithMaxRetries(cfg.MaxRetries),
		revox.WithMaxConcurrency(cfg.MaxConcurrency),
		revox.WithBreaker(cfg.BreakerThreshold, cfg.BreakerOpenFor),
		revox.WithCache(cfg.CacheTTL, revox.DefaultCacheEntries),
	)
	if err != nil {
		return err
	}
	h := gateway.New(gateway.Config{
		Upstream:            client,
		Readiness:           client,
		Telemetry:           tel,
		UpstreamConcurrency: cfg.UpstreamConcurrency,
		QueryCacheSize:      cfg.QueryCacheSize,
		CORSAllowedOrigins:  cfg.CORSAllowedOrigins,
		Logger:              logger,
		Limits: paging.Limits{
			DefaultSize:      cfg.DefaultPageSize,
			MaxSize:          cfg.MaxPageSize,
			UpstreamPageSize: cfg.UpstreamPageSize,
		},
		AuthMode: cfg.AuthMode,
		Operation: gateway.OperationLimits{
			MaxTokens:     cfg.MaxTokens,
			MaxDepth:      cfg.MaxDepth,
			MaxAliases:    cfg.MaxAliases,
			MaxDirectives: cfg.MaxDirectives,
			MaxCost:       cfg.MaxCost,
		},
		MaxBodyBytes:          cfg.RequestMaxBytes,
		RequestTimeout:        cfg.RequestTimeout,
		DisableIntrospection:  !cfg.Introspection,
		APQCacheSize:          cfg.APQCacheSize,
		DisableCSRFPrevention: !cfg.CSRFPrevention,
		RateLimitRPS:          cfg.RateLimitRPS,
		RateLimitBurst:        cfg.RateLimitBurst,
		MaxInFlight:           cfg.MaxInFlight,
		NoMetricsRoute:        cfg.MetricsAddr != "",
		// Against the sandbox, writes dial no one.
		AllowAnonymousWrites: cfg.Sandbox,
	})

	srv := &http.Server{
		Addr:              ":" + cfg.Port,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	servers := []*http.Server{srv}
	if cfg.MetricsAddr != "" {
		// Metrics name operations and show the load: operators may keep
		// them off the public port.
		metrics := http.NewServeMux()
		metrics.Handle("GET /metrics", tel.MetricsHandler())
		servers = append(servers, &http.Server{Addr: cfg.MetricsAddr, Handler: metrics, ReadHeaderTimeout: 5 * time.Second})
		logger.Info("metrics listening", "addr", cfg.MetricsAddr, "path", "/metrics")
	}
	logger.Info("gateway listening", "playground", "http://localhost:"+cfg.Port+"/", "graphql", "http://localhost:"+cfg.Port+"/query", "sandbox", cfg.Sandbox)
	return serve(ctx, logger, cfg.ShutdownGrace, servers...)
}

// logUpstream says at start-up which upstream the gateway talks to, loudly
// when it is not the real API, and when forwarding callers' keys to the
// real API was perhaps not meant: AUTH_MODE=forward without a key does not
// fall back to the sandbox as server mode does.
func logUpstream(logger *slog.Logger, cfg config, baseURL string) {
	switch {
	case cfg.Sandbox:
		logger.Warn("serving realistic sample data from the embedded sandbox upstream (set REVOX_API_KEY for the real API)",
			"sandbox_url", baseURL, "auth_mode", cfg.AuthMode)
	case cfg.AuthMode == gateway.AuthForward:
		logger.Warn("AUTH_MODE=forward: each caller's Bearer key is sent to the real API, not the sandbox (REVOX_SANDBOX=true serves the sandbox instead)",
			"base_url", baseURL, "auth_mode", cfg.AuthMode)
	default:
		logger.Info("serving the Revox API with the gateway's key", "base_url", baseURL, "auth_mode", cfg.AuthMode)
	}
}

// sandboxTenantKeys are the keys the sandbox accepts in forward auth mode,
// each with a dataset of its own.
var sandboxTenantKeys = []string{sandbox.DefaultAPIKey, "sk_sandbox_second_tenant"}

// serve runs the servers until ctx is done or one of them stops (it could
// not listen, say), then shuts them all down, draining in-flight requests
// for at most grace.
func serve(ctx context.Context, logger *slog.Logger, grace time.Duration, servers ...*http.Server) error {
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errc <- srv.ListenAndServe() }()
	}
	var first error
	running := len(servers)
	select {
	case first = <-errc:
		running--
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil && first == nil {
			first = fmt.Errorf("shutdown: %w", err)
		}
	}
	for range running {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
		}
	}
	if errors.Is(first, http.ErrServerClosed) {
		return nil
	}
	return first
}

func newLogger(cfg config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(os.Stderr, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(os.Stderr, opts)
	}
	return slog.New(telemetry.LogHandler(h))
}
