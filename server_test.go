package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A server that cannot listen stops the others and its error is returned:
// the process must not run half-configured (without its metrics port, say).
func TestServeStopsEverythingWhenOneServerCannotListen(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	public := &http.Server{Addr: "127.0.0.1:0", Handler: http.NotFoundHandler()}
	metrics := &http.Server{Addr: taken.Addr().String(), Handler: http.NotFoundHandler()}
	done := make(chan error, 1)
	go func() { done <- serve(t.Context(), quiet(), time.Second, public, metrics) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("serve returned %v, want the listen error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve kept running with a server that could not listen")
	}
}

func TestServeShutsDownEveryServerWhenDone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	a := &http.Server{Addr: "127.0.0.1:0", Handler: http.NotFoundHandler()}
	b := &http.Server{Addr: "127.0.0.1:0", Handler: http.NotFoundHandler()}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, quiet(), time.Second, a, b) }()
	time.Sleep(50 * time.Millisecond) // let both listen; a Shutdown before that is also fine
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after a clean shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after its context was done")
	}
}

func TestStartUpSaysWhichUpstreamServes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // in the start-up line, level first
	}{
		{"no key serves the sandbox", map[string]string{}, []string{"level=WARN", "sandbox", "auth_mode=server"}},
		{"forward mode without a key points at the real API and says so",
			map[string]string{"AUTH_MODE": "forward"},
			[]string{"level=WARN", "AUTH_MODE=forward", "real API", "REVOX_SANDBOX=true", "base_url=https://www.getrevox.com/api"}},
		{"forward mode with REVOX_SANDBOX=true serves the sandbox",
			map[string]string{"AUTH_MODE": "forward", "REVOX_SANDBOX": "true"},
			[]string{"level=WARN", "embedded sandbox", "auth_mode=forward"}},
		{"a key serves the real API", map[string]string{"REVOX_API_KEY": "sk_live"},
			[]string{"level=INFO", "gateway's key", "base_url=https://www.getrevox.com/api"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(cmdServe, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			var buf strings.Builder
			logUpstream(slog.New(slog.NewTextHandler(&buf, nil)), cfg)
			for _, w := range tc.want {
				if !strings.Contains(buf.String(), w) {
					t.Fatalf("start-up line %q lacks %q", buf.String(), w)
				}
			}
			if strings.Contains(buf.String(), "sk_live") {
				t.Fatal("the key is logged")
			}
		})
	}
}
