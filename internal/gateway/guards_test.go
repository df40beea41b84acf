package gateway_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

// heldUpstream answers nothing until released (or the request ends),
// telling entered, when given, that a request arrived.
type heldUpstream struct{ entered, release chan struct{} }

func (u heldUpstream) ListCalls(ctx context.Context, _ revox.ListCallsOptions) ([]revox.CallAttempt, error) {
	if u.entered != nil {
		u.entered <- struct{}{}
	}
	select {
	case <-u.release:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (u heldUpstream) GetCall(ctx context.Context, _ string, _ revox.GetCallOptions) (*revox.CallOrder, error) {
	_, err := u.ListCalls(ctx, revox.ListCallsOptions{})
	return nil, err
}

func refused(t *testing.T, tel *telemetry.Telemetry, code string) float64 {
	t.Helper()
	families, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "http_requests_refused_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == code {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestGuardRefusalsAreCountedByCode(t *testing.T) {
	t.Parallel()
	query := `{"query":"{ calls(first: 1) { nodes { id } } }"}`
	jsonPost := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	for _, tt := range []struct {
		name, code string
		cfg        gateway.Config
		requests   func() []*http.Request
	}{
		{"the rate limit", "RATE_LIMITED", gateway.Config{RateLimitRPS: 0.001, RateLimitBurst: 1},
			func() []*http.Request { return []*http.Request{jsonPost(query), jsonPost(query)} }},
		{"the CSRF guard", "CSRF_PREVENTED", gateway.Config{},
			func() []*http.Request {
				return []*http.Request{httptest.NewRequest(http.MethodGet, "/query?query={__typename}", nil)}
			}},
		{"the size limit", "REQUEST_TOO_LARGE", gateway.Config{MaxBodyBytes: 1024},
			func() []*http.Request {
				return []*http.Request{jsonPost(`{"query":"` + strings.Repeat(" ", 2048) + `{__typename}"}`)}
			}},
		{"forward mode without a credential", "UNAUTHENTICATED", gateway.Config{AuthMode: gateway.AuthForward},
			func() []*http.Request { return []*http.Request{jsonPost(query)} }},
	} {
		t.Run(tt.name+" counts "+tt.code, func(t *testing.T) {
			t.Parallel()
			tel := telemetry.New()
			cfg := tt.cfg
			cfg.Upstream, cfg.Telemetry, cfg.Logger = heldUpstream{release: closed()}, tel, quietLogger()
			h := gateway.New(cfg)
			for _, r := range tt.requests() {
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			if got := refused(t, tel, tt.code); got != 1 {
				t.Fatalf("http_requests_refused_total{code=%q} = %v, want 1", tt.code, got)
			}
		})
	}
	t.Run("the in-flight bound counts OVERLOADED", func(t *testing.T) {
		t.Parallel()
		tel := telemetry.New()
		up := heldUpstream{entered: make(chan struct{}, 1), release: make(chan struct{})}
		h := gateway.New(gateway.Config{Upstream: up, Telemetry: tel, Logger: quietLogger(), MaxInFlight: 1})
		var wg sync.WaitGroup
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), jsonPost(query)) })
		<-up.entered // the first request holds the one slot
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, jsonPost(query))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d with the one slot taken", rec.Code)
		}
		close(up.release)
		wg.Wait()
		if got := refused(t, tel, "OVERLOADED"); got != 1 {
			t.Fatalf("http_requests_refused_total{code=\"OVERLOADED\"} = %v, want 1", got)
		}
	})
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func TestDeleteWithoutContentTypeIs405(t *testing.T) {
	t.Parallel()
	h := gateway.New(gateway.Config{Upstream: heldUpstream{release: closed()}, Logger: quietLogger()})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/query", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, POST" {
		t.Fatalf("status %d, Allow %q: %s", rec.Code, rec.Header().Get("Allow"), rec.Body)
	}
}

// accessRecorder keeps the access log's records: path, level, attributes.
type accessRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *accessRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *accessRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Message == "http request" {
		h.records = append(h.records, r.Clone())
	}
	return nil
}
func (h *accessRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *accessRecorder) WithGroup(string) slog.Handler      { return h }

func TestAccessLogLevelsAndDurationUnit(t *testing.T) {
	t.Parallel()
	logs := &accessRecorder{}
	h := gateway.New(gateway.Config{Upstream: heldUpstream{release: closed()}, Logger: slog.New(logs)})
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/query?query={__typename}"} {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Apollo-Require-Preflight", "true")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	want := map[string]slog.Level{"/healthz": slog.LevelDebug, "/readyz": slog.LevelDebug, "/metrics": slog.LevelDebug, "/query": slog.LevelInfo}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.records) != len(want) {
		t.Fatalf("%d access records, want %d", len(logs.records), len(want))
	}
	for _, rec := range logs.records {
		attrs := map[string]slog.Value{}
		rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
		path := attrs["path"].String()
		if rec.Level != want[path] {
			t.Errorf("%s logged at %v, want %v", path, rec.Level, want[path])
		}
		if d, ok := attrs["duration_ms"]; !ok || d.Kind() != slog.KindFloat64 {
			t.Errorf("%s: duration_ms = %v, want milliseconds as a number", path, d)
		}
	}
}
