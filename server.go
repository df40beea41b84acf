// Command gateway serves a GraphQL API in front of the Revox call API.
//
//	go run .           serve (on the embedded sandbox when REVOX_API_KEY is unset)
//	go run . schema    print the GraphQL schema (SDL) for client code generators
//	go run . schema --federation   print the subgraph SDL (as _service.sdl)
//	go run . sandbox   serve only the sandbox upstream, on PORT (default 8081)
//	go run . help      the commands and every setting with its default
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
	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/inbound"
	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		var usage *usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run parses the command line, then prints, or reads the settings and
// serves until SIGINT or SIGTERM.
func run(args []string) error {
	inv, err := parseArgs(args)
	if err != nil {
		return err
	}
	switch inv.cmd {
	case cmdHelp:
		return writeHelp(os.Stdout)
	case cmdSchema:
		return printSchema(inv.federation)
	}
	cfg, err := loadConfig(inv.cmd, os.Getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg)
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if inv.cmd == cmdSandbox {
		return serveSandbox(ctx, logger, cfg)
	}
	return serveGateway(ctx, logger, cfg)
}

// printSchema prints the client schema, or the subgraph SDL.
func printSchema(federation bool) error {
	sdl := graph.SDL
	if !federation {
		var err error
		if sdl, err = graph.ClientSDL(); err != nil {
			return err
		}
	}
	_, err := fmt.Print(sdl)
	return err
}

// serveSandbox serves only the sandbox upstream, with its fault knobs.
func serveSandbox(ctx context.Context, logger *slog.Logger, cfg config) error {
	sb := sandbox.New(sandbox.Options{FirstPage: cfg.Upstream.FirstPage, TimeScale: cfg.SandboxTimeScale})
	logger.Info("serving the sandbox upstream", "addr", ":"+cfg.Port, "api_key", sandbox.DefaultAPIKey, "stats", sandbox.StatsPath, "faults", fmt.Sprintf("%+v", cfg.Faults), "time_scale", cfg.SandboxTimeScale)
	h := sandbox.NewFaultInjector(sb.StatsHandler(), cfg.Faults, 1)
	return serve(ctx, logger, cfg.ShutdownGrace, &http.Server{Addr: ":" + cfg.Port, Handler: h, ReadHeaderTimeout: 5 * time.Second})
}

// serveGateway wires the upstream, the client, telemetry and the handler,
// and serves them.
func serveGateway(ctx context.Context, logger *slog.Logger, cfg config) error {
	if cfg.Sandbox {
		stopSandbox, err := startEmbeddedSandbox(logger, &cfg)
		if err != nil {
			return err
		}
		defer stopSandbox()
	}
	logUpstream(logger, cfg)
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
	shared, err := openShared(cfg, logger, tel)
	if err != nil {
		return err
	}
	defer shared.close()
	opts := append(cfg.Upstream.options(),
		revox.WithObserver(tel.Observer()),
		revox.WithHTTPClient(&http.Client{Transport: tel.Transport(revox.NewTransport(cfg.Upstream.MaxConcurrency))}),
	)
	if shared.cache != nil {
		opts = append(opts, revox.WithSharedCache(shared.cache))
	}
	client, err := revox.New(cfg.Upstream.BaseURL, cfg.Upstream.APIKey, opts...)
	if err != nil {
		return err
	}
	gw := cfg.Gateway
	gw.Upstream, gw.Readiness, gw.Telemetry, gw.Logger = client, client, tel, logger
	gw.APQCache, gw.RateLimiter, gw.Idempotency, gw.Redis = shared.apq, shared.rateLimiter, shared.idempotency, shared.status
	if gw.Idempotency == nil {
		gw.Idempotency = idempotency.NewMemory(idempotency.MemoryOptions{TTL: cfg.IdempotencyTTL})
	}
	gw.Lengths = paging.NewLengths(cfg.LengthsTTL, paging.DefaultLengthsEntries)
	if shared.lengths != nil {
		gw.Lengths.Share(shared.lengths)
	}
	if gw.Inbound, err = inboundAuthenticator(ctx, cfg.Inbound); err != nil {
		return err
	}
	if gw.AllowAnonymousWrites && !cfg.Sandbox && gw.Inbound == nil && gw.AuthMode == gateway.AuthServer {
		logger.Warn("ALLOW_ANONYMOUS_WRITES=true: anyone who reaches this gateway can place calls with its Revox key")
	}
	subscriptions := gw.Subscriptions
	liveOpts := live.MemoryOptions{
		Interval:         cfg.Live.PollInterval,
		MaxSubscriptions: cfg.Live.MaxSubscriptions,
		Logger:           logger,
	}
	if shared.conn != nil {
		// One replica polls each watched thing; the others hear it from Redis.
		subscriptions.Registry = redisstore.NewLiveRegistry(shared.conn, liveOpts)
	} else {
		subscriptions.Registry = live.NewMemory(liveOpts)
	}
	// Pollers never take more than half the upstream slots: queries keep the rest.
	subscriptions.PollSlots = max(cfg.Upstream.MaxConcurrency/2, 1)
	servers := []*http.Server{{
		Addr:              ":" + cfg.Port,
		Handler:           gateway.New(gw),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      gw.RequestTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}}
	// Shutdown completes every subscription (its stream or socket then
	// ends) while the server drains, within SHUTDOWN_GRACE.
	servers[0].RegisterOnShutdown(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		if err := subscriptions.Shutdown(ctx); err != nil {
			logger.Warn("subscriptions did not all end within SHUTDOWN_GRACE", "error", err)
		}
	})
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

// startEmbeddedSandbox serves the sandbox in this process on a loopback
// port of its own, so that the gateway talks to it over real HTTP exactly
// as to the real API, and points cfg's upstream at it.
func startEmbeddedSandbox(logger *slog.Logger, cfg *config) (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox listener: %w", err)
	}
	opts := sandbox.Options{FirstPage: cfg.Upstream.FirstPage, TimeScale: cfg.SandboxTimeScale}
	var upstream http.Handler = sandbox.New(opts)
	cfg.Upstream.APIKey = sandbox.DefaultAPIKey
	if cfg.Gateway.AuthMode == gateway.AuthForward {
		// Each caller's key selects its own dataset, as accounts do upstream.
		upstream = sandbox.NewTenants(sandboxTenantKeys, opts)
		cfg.Upstream.APIKey = ""
	}
	sb := &http.Server{Handler: upstream, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = sb.Serve(ln) }()
	cfg.Upstream.BaseURL = "http://" + ln.Addr().String()
	return func() { _ = sb.Close() }, nil
}

// logUpstream says at start-up which upstream the gateway talks to, loudly
// when it is not the real API, and when forwarding callers' keys to the
// real API was perhaps not meant: AUTH_MODE=forward without a key does not
// fall back to the sandbox as server mode does.
func logUpstream(logger *slog.Logger, cfg config) {
	baseURL, authMode := cfg.Upstream.BaseURL, cfg.Gateway.AuthMode
	switch {
	case cfg.Sandbox:
		logger.Warn("serving realistic sample data from the embedded sandbox upstream (set REVOX_API_KEY for the real API)",
			"sandbox_url", baseURL, "auth_mode", authMode)
	case authMode == gateway.AuthForward:
		logger.Warn("AUTH_MODE=forward: each caller's Bearer key is sent to the real API, not the sandbox (REVOX_SANDBOX=true serves the sandbox instead)",
			"base_url", baseURL, "auth_mode", authMode)
	default:
		logger.Info("serving the Revox API with the gateway's key", "base_url", baseURL, "auth_mode", authMode)
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

// inboundAuthenticator builds INBOUND_AUTH's authenticator; nil for none.
func inboundAuthenticator(ctx context.Context, in inboundConfig) (inbound.Authenticator, error) {
	switch in.Mode {
	case "token":
		return inbound.LoadTokens(in.TokensFile)
	case "jwt":
		return inbound.NewJWT(ctx, in.JWT)
	}
	return nil, nil
}
