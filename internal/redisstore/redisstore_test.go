package redisstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/idempotency/storetest"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
)

// logBuffer is a slog destination tests read; safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	srv    *redistest.Server
	conn   *redisstore.Conn
	reg    *prometheus.Registry
	logs   *logBuffer
	prefix string
}

var prefixes atomic.Int64

// newPrefix returns a key prefix no other test uses.
func newPrefix() string { return "test" + strconv.FormatInt(prefixes.Add(1), 10) + ":" }

// open connects to srv under prefix (a new one when empty), as one replica.
func open(t *testing.T, srv *redistest.Server, prefix string) fixture {
	t.Helper()
	if prefix == "" {
		prefix = newPrefix()
	}
	f := fixture{srv: srv, prefix: prefix, reg: prometheus.NewRegistry(), logs: &logBuffer{}}
	conn, err := redisstore.Open(redisstore.Options{
		URL:        srv.URL(),
		Prefix:     prefix,
		Timeout:    time.Second,
		Logger:     slog.New(slog.NewTextHandler(f.logs, nil)),
		Registerer: f.reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	f.conn = conn
	return f
}

func TestIdempotencyStoreKeepsTheStoreContract(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t,
		func(t *testing.T) idempotency.Store {
			return redisstore.NewIdempotencyStore(open(t, srv, "").conn, redisstore.IdempotencyOptions{TTL: time.Minute})
		},
		func(t *testing.T, f func(*testing.T)) { f(t) })
}

func TestIdempotencyStoreAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	var stores []idempotency.Store
	for range 3 {
		stores = append(stores, redisstore.NewIdempotencyStore(open(t, srv, prefix).conn, redisstore.IdempotencyOptions{}))
	}
	key := idempotency.Key{Scope: idempotency.ScopeOf("sk_x"), Name: "order-1"}
	fp := idempotency.FingerprintOf([]byte("in"))

	t.Run("one key run at three replicas at once runs its action once and answers its result everywhere", func(t *testing.T) {
		var mu sync.Mutex
		runs := 0
		results := make([]string, 30)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				res, err := idempotency.Run(t.Context(), stores[i%3], key, fp, func(context.Context) ([]byte, error) {
					mu.Lock()
					runs++
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
					return []byte(`{"id":"o1"}`), nil
				})
				if err != nil {
					t.Errorf("replica %d: %v", i%3, err)
				}
				results[i] = string(res)
			})
		}
		wg.Wait()
		if runs != 1 {
			t.Fatalf("the action ran %d times", runs)
		}
		for i, r := range results {
			if r != `{"id":"o1"}` {
				t.Fatalf("request %d got %q", i, r)
			}
		}
	})
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
