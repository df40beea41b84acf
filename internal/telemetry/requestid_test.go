package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace"
)

// serveWithRequestID runs one request with incoming X-Request-Id values
// through RequestID and returns the id the handler saw and the one answered.
func serveWithRequestID(t *testing.T, incoming ...string) (seen, answered string) {
	t.Helper()
	h := RequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen = RequestIDFrom(r.Context())
	}))
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/query", nil)
	for _, v := range incoming {
		req.Header.Add(RequestIDHeader, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return seen, rec.Header().Get(RequestIDHeader)
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestRequestIDKeepsASaneIncomingID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"abc", "0f2b6c1e-2f4d-4c1a-9d55-3c0b7a9e1f20", "trace.1_A-z", strings.Repeat("x", 64)} {
		seen, answered := serveWithRequestID(t, id)
		if seen != id || answered != id {
			t.Errorf("incoming %q: handler saw %q, answered %q", id, seen, answered)
		}
	}
}

func TestRequestIDReplacesAnInsaneIncomingID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{
		"",
		strings.Repeat("x", 65),
		"two words",
		"line\nbreak",
		`quote"`,
		"Bearer sk_live_123/abc",
		"ünïcode",
	} {
		seen, answered := serveWithRequestID(t, id)
		if !generatedID.MatchString(seen) || answered != seen {
			t.Errorf("incoming %q: handler saw %q, answered %q; want a new 16-hex-digit id in both", id, seen, answered)
		}
	}
}

func TestRequestIDGeneratesDistinctIDs(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id, answered := serveWithRequestID(t)
		if !generatedID.MatchString(id) || answered != id {
			t.Fatalf("generated %q, answered %q", id, answered)
		}
		if seen[id] {
			t.Fatalf("%q generated twice", id)
		}
		seen[id] = true
	}
}

func TestRequestIDFromAContextWithout(t *testing.T) {
	t.Parallel()
	if id := RequestIDFrom(t.Context()); id != "" {
		t.Errorf("got %q", id)
	}
}

// logLine logs with a JSON handler wrapped by LogHandler and returns the
// decoded line.
func logLine(t *testing.T, ctx context.Context, build func(*slog.Logger) *slog.Logger) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	logger := build(slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))))
	logger.InfoContext(ctx, "upstream error", "code", "UPSTREAM_UNAVAILABLE")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	return line
}

func TestLogHandlerAddsTheRequestID(t *testing.T) {
	t.Parallel()
	ctx := ContextWithRequestID(t.Context(), "req-42")
	same := func(l *slog.Logger) *slog.Logger { return l }

	t.Run("with a request id", func(t *testing.T) {
		t.Parallel()
		line := logLine(t, ctx, same)
		if line["request_id"] != "req-42" || line["code"] != "UPSTREAM_UNAVAILABLE" {
			t.Errorf("line %v", line)
		}
		if _, ok := line["trace_id"]; ok {
			t.Errorf("trace_id without a span: %v", line)
		}
	})
	t.Run("without one", func(t *testing.T) {
		t.Parallel()
		line := logLine(t, t.Context(), same)
		if _, ok := line["request_id"]; ok {
			t.Errorf("line %v", line)
		}
	})
	t.Run("top level on a logger with attributes and a group", func(t *testing.T) {
		t.Parallel()
		line := logLine(t, ctx, func(l *slog.Logger) *slog.Logger {
			return l.With("component", "gateway").WithGroup("upstream").With("endpoint", "list_calls")
		})
		group, _ := line["upstream"].(map[string]any)
		if line["request_id"] != "req-42" || line["component"] != "gateway" ||
			group["endpoint"] != "list_calls" || group["code"] != "UPSTREAM_UNAVAILABLE" {
			t.Errorf("line %v", line)
		}
		if _, ok := group["request_id"]; ok {
			t.Errorf("request_id inside the group: %v", line)
		}
	})
	t.Run("with the trace of the active span", func(t *testing.T) {
		t.Parallel()
		tp := trace.NewTracerProvider()
		spanCtx, span := tp.Tracer("test").Start(ctx, "op")
		defer span.End()
		line := logLine(t, spanCtx, same)
		if line["trace_id"] != span.SpanContext().TraceID().String() ||
			line["span_id"] != span.SpanContext().SpanID().String() || line["request_id"] != "req-42" {
			t.Errorf("line %v", line)
		}
	})
}

func TestLogHandlerKeepsTheLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(LogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx := ContextWithRequestID(t.Context(), "req-1")
	logger.InfoContext(ctx, "quiet")
	logger.WithGroup("g").InfoContext(ctx, "quiet too")
	logger.WarnContext(ctx, "loud")
	if got := strings.Count(buf.String(), "\n"); got != 1 || !strings.Contains(buf.String(), `"msg":"loud"`) {
		t.Errorf("logged %q", buf.String())
	}
}
