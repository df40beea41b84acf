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
