package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/trace"
)

// RequestIDHeader is the header a request id is taken from and answered in.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLength bounds an incoming request id.
const maxRequestIDLength = 64

type requestIDKey struct{}

// RequestID gives every request an id: the incoming X-Request-Id when it is
// sane (1 to 64 characters of [A-Za-z0-9._-]), so that a proxy's id runs
// through, else a new random one. The id is answered in X-Request-Id and
// stored in the request's context (see RequestIDFrom and LogHandler).
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(ContextWithRequestID(r.Context(), id)))
	})
}

// ContextWithRequestID returns a context carrying id, as RequestID stores it;
// for work that starts outside an HTTP request.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id in ctx, or "" when there is none.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// validRequestID reports whether an incoming id is safe to log and echo:
// short, and made of characters that cannot forge log fields or headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 16 random hex digits.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand.Read crashes the program instead
	return hex.EncodeToString(b[:])
}

// LogHandler wraps h so that every record logged with a context carrying a
// request id gets a request_id attribute, and one logged inside a span
// trace_id and span_id attributes. They are top-level attributes even on a
// logger made with WithGroup.
func LogHandler(h slog.Handler) slog.Handler {
	return &logHandler{base: h, inner: h}
}

// logHandler keeps the handler it wraps (base) and what WithAttrs and
// WithGroup did to it (ops, applied in inner), so that the request
// attributes can be added before any group is opened.
type logHandler struct {
	base   slog.Handler
	inner  slog.Handler
	ops    []func(slog.Handler) slog.Handler
	groups bool
}

// Enabled implements slog.Handler.
func (h *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := contextAttrs(ctx)
	if len(attrs) == 0 {
		return h.inner.Handle(ctx, r)
	}
	if !h.groups {
		r = r.Clone()
		r.AddAttrs(attrs...)
		return h.inner.Handle(ctx, r)
	}
	// Inside a group, attributes added to the record would land in the
	// group: rebuild the handler with them ahead of the group instead.
	inner := h.base.WithAttrs(attrs)
	for _, op := range h.ops {
		inner = op(inner)
	}
	return inner.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(func(in slog.Handler) slog.Handler { return in.WithAttrs(attrs) }, false)
}

// WithGroup implements slog.Handler.
func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(func(in slog.Handler) slog.Handler { return in.WithGroup(name) }, true)
}

func (h *logHandler) with(op func(slog.Handler) slog.Handler, group bool) *logHandler {
	return &logHandler{
		base:   h.base,
		inner:  op(h.inner),
		ops:    append(h.ops[:len(h.ops):len(h.ops)], op),
		groups: h.groups || group,
	}
}

// contextAttrs returns the attributes ctx adds to a record.
func contextAttrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	var attrs []slog.Attr
	if id := RequestIDFrom(ctx); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return attrs
}
