// Command gateway serves a GraphQL API in front of the Revox call API.
//
//	go run .           serve (on the embedded sandbox when REVOX_API_KEY is unset)
//	go run . schema    print the GraphQL schema (SDL)
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
		_, err := fmt.Print(graph.SDL)
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
		sb := sandbox.New(sandbox.Options{FirstPage: cfg.FirstPage})
		logger.Info("serving the sandbox upstream", "addr", ":"+port, "api_key", sandbox.DefaultAPIKey)
		return serve(ctx, logger, &http.Server{Addr: ":" + port, Handler: sb, ReadHeaderTimeout: 5 * time.Second})
	}

	baseURL, apiKey := cfg.BaseURL, cfg.APIKey
	if cfg.Sandbox {
		// The sandbox runs in this process on a loopback port of its own, so
		// the gateway talks to it over real HTTP exactly as to the real API.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("sandbox listener: %w", err)
		}
		sb := &http.Server{Handler: sandbox.New(sandbox.Options{FirstPage: cfg.FirstPage}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = sb.Serve(ln) }()
		defer sb.Close()
		baseURL, apiKey = "http://"+ln.Addr().String(), sandbox.DefaultAPIKey
		logger.Warn("REVOX_API_KEY is unset: serving realistic sample data from the embedded sandbox upstream", "sandbox_url", baseURL)
	}
	client, err := revox.New(baseURL, apiKey,
		revox.WithFirstPage(cfg.FirstPage),
		revox.WithTimeout(cfg.Timeout),
		revox.WithMaxBodyBytes(cfg.MaxBodyBytes),
	)
	if err != nil {
		return err
	}
	h := gateway.New(gateway.Config{
		Upstream:            client,
		UpstreamConcurrency: cfg.UpstreamConcurrency,
		QueryCacheSize:      cfg.QueryCacheSize,
		CORSAllowedOrigins:  cfg.CORSAllowedOrigins,
		Logger:              logger,
		Limits: paging.Limits{
			DefaultSize:      cfg.DefaultPageSize,
			MaxSize:          cfg.MaxPageSize,
			UpstreamPageSize: cfg.UpstreamPageSize,
		},
	})

	srv := &http.Server{
		Addr:              ":" + cfg.Port,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.Timeout + 30*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	logger.Info("gateway listening", "playground", "http://localhost:"+cfg.Port+"/", "graphql", "http://localhost:"+cfg.Port+"/query", "sandbox", cfg.Sandbox)
	return serve(ctx, logger, srv)
}

// serve runs srv until ctx is done, then drains in-flight requests.
func serve(ctx context.Context, logger *slog.Logger, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newLogger(cfg config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
