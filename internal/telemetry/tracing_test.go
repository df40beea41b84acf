package telemetry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// newRecordingTelemetry returns Telemetry whose spans go to the returned
// recorder and whose upstream requests carry W3C trace context, without
// touching the global provider.
func newRecordingTelemetry() (*Telemetry, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	return New(WithTracerProvider(tp), WithPropagator(propagation.TraceContext{})), rec
}

func spanNamed(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var names []string
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
		names = append(names, s.Name())
	}
	t.Fatalf("no span %q among %q", name, names)
	return nil
}

func attrOf(s sdktrace.ReadOnlySpan, key attribute.Key) (string, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.Emit(), true
		}
	}
	return "", false
}

// TestOperationSpanIsTheParentOfUpstreamSpans runs a GraphQL operation whose
// resolver calls the sandbox upstream through the real Revox client, wired
// as server.go wires it.
func TestOperationSpanIsTheParentOfUpstreamSpans(t *testing.T) {
	t.Parallel()
	tel, recorder := newRecordingTelemetry()

	var (
		mu      sync.Mutex
		headers []http.Header
	)
	sb := sandbox.New(sandbox.Options{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Clone())
		mu.Unlock()
		http.StripPrefix("/api", sb).ServeHTTP(w, r)
	}))
	defer upstream.Close()
	client, err := revox.New(upstream.URL+"/api", sandbox.DefaultAPIKey,
		revox.WithObserver(tel.Observer()),
		revox.WithHTTPClient(&http.Client{Transport: tel.Transport(upstream.Client().Transport)}),
	)
	if err != nil {
		t.Fatal(err)
	}
	h := testGraphQL(t, tel, func(ctx context.Context) (string, error) {
		calls, err := client.ListCalls(ctx, revox.ListCallsOptions{PageSize: 3})
		return fmt.Sprint(len(calls)), err
	})

	resp := post(t, h, "", `query Upstream { upstream }`)
	if string(resp.Data) != `{"upstream":"3"}` || len(resp.Errors) != 0 {
		t.Fatalf("response data %s, errors %v", resp.Data, resp.Errors)
	}

	spans := recorder.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want the operation's and the upstream request's", len(spans))
	}
	op := spanNamed(t, spans, "Upstream")
	up := spanNamed(t, spans, "GET /call")
	if op.SpanKind() != trace.SpanKindServer || up.SpanKind() != trace.SpanKindClient {
		t.Errorf("kinds %v and %v, want server and client", op.SpanKind(), up.SpanKind())
	}
	if up.Parent().SpanID() != op.SpanContext().SpanID() || up.SpanContext().TraceID() != op.SpanContext().TraceID() {
		t.Errorf("upstream span's parent %v, want the operation span %v", up.Parent().SpanID(), op.SpanContext().SpanID())
	}
	if v, _ := attrOf(op, attrOperationName); v != "Upstream" {
		t.Errorf("graphql.operation.name = %q", v)
	}
	if v, _ := attrOf(op, attrOperationType); v != "query" {
		t.Errorf("graphql.operation.type = %q", v)
	}
	if op.Status().Code != codes.Unset {
		t.Errorf("operation status %v, want unset", op.Status())
	}

	if len(headers) != 1 {
		t.Fatalf("%d upstream requests, want 1", len(headers))
	}
	want := fmt.Sprintf("00-%s-%s-01", up.SpanContext().TraceID(), up.SpanContext().SpanID())
	if got := headers[0].Get("Traceparent"); got != want {
		t.Errorf("upstream traceparent %q, want %q", got, want)
	}
	if got := headers[0].Get("Authorization"); got != "Bearer "+sandbox.DefaultAPIKey {
		t.Fatalf("upstream Authorization %q: the transport must pass it on", got)
	}
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.Emit(), sandbox.DefaultAPIKey) || strings.Contains(strings.ToLower(string(kv.Key)), "authorization") {
				t.Errorf("span %q records the credential in %s=%s", s.Name(), kv.Key, kv.Value.Emit())
			}
		}
	}
}

func TestOperationSpanStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query, wantSpan string
		wantCode              codes.Code
		wantErrorCode         string
	}{
		{"ok is unset", `query Fine { hello }`, "Fine", codes.Unset, ""},
		{"errors beside data are an error", `query Partial { hello missing }`, "Partial", codes.Error, "NOT_FOUND"},
		{"null data is an error", `query Broken { broken }`, "Broken", codes.Error, "UPSTREAM_UNAVAILABLE"},
		{"a refused document gets a span too", `query Deep { hello }`, "other", codes.Error, "QUERY_TOO_DEEP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tel, recorder := newRecordingTelemetry()
			post(t, testGraphQL(t, tel, nil), "", tt.query)
			spans := recorder.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spanNamed(t, spans, tt.wantSpan)
			if s.Status().Code != tt.wantCode || s.Status().Description != tt.wantErrorCode {
				t.Errorf("status %+v, want %v %q", s.Status(), tt.wantCode, tt.wantErrorCode)
			}
			if v, _ := attrOf(s, attrErrorCode); v != tt.wantErrorCode {
				t.Errorf("graphql.error.code = %q, want %q", v, tt.wantErrorCode)
			}
		})
	}
}

func TestUpstreamSpanNames(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"https://www.getrevox.com/api/call?page=0&page_size=100&statuses=COMPLETED", "GET /call"},
		{"https://www.getrevox.com/api/call/d0b3be74-5fef-42eb-93bb-ddf116f79ba7", "GET /call/{id}"},
		{"http://127.0.0.1:8081/call/", "GET /call"},
		{"http://127.0.0.1:8081/call/call", "GET /call/{id}"},
		{"https://user:secret@example.com/api/call/abc/transcript?token=secret", "GET"},
		{"https://example.com/healthz", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.want+" for "+tt.url, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, tt.url, nil)
			if got := upstreamSpanName("", r); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTracingEnabled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    bool
		wantErr string
	}{
		{"off without any variable", nil, false, ""},
		{"on with the OTLP endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true, ""},
		{"on with the traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true, ""},
		{"on with the otlp exporter alone", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, ""},
		{"off when the SDK is disabled", map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, false, ""},
		{"on when disabled is false", map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, true, ""},
		{"off with exporter none despite an endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, false, ""},
		{"an unsupported exporter is an error", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false, "OTEL_TRACES_EXPORTER"},
		{"grpc is an error", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, false, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"the traces protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := TracingEnabled(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// clearOTelEnv unsets every OTEL_* variable for the test and restores the
// global tracing state afterwards. Tests using it cannot be parallel.
func clearOTelEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
		}
	}
	tp, eh := otel.GetTracerProvider(), otel.GetErrorHandler()
	t.Cleanup(func() {
		if otel.GetTracerProvider() == tp {
			return // SetupTracing set nothing
		}
		// The global delegates now forward to what SetupTracing set, so
		// restoring them would not undo it: install no-ops instead.
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
		otel.SetErrorHandler(eh)
	})
}

func TestSetupTracingWithoutConfigurationDoesNothing(t *testing.T) {
	clearOTelEnv(t)
	tp := otel.GetTracerProvider()
	before := runtime.NumGoroutine()

	shutdown, err := SetupTracing(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after, %d before", after, before)
	}
	if otel.GetTracerProvider() != tp {
		t.Error("the global tracer provider changed")
	}
	if err := shutdown(t.Context()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestSetupTracingHonoursSDKDisabled(t *testing.T) {
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	tp := otel.GetTracerProvider()

	shutdown, err := SetupTracing(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() != tp {
		t.Error("the global tracer provider changed")
	}
	if err := shutdown(t.Context()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestSetupTracingRefusesGRPC(t *testing.T) {
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	shutdown, err := SetupTracing(t.Context())
	if err == nil {
		t.Fatal("no error")
	}
	if err := shutdown(t.Context()); err != nil {
		t.Errorf("shutdown after an error: %v", err)
	}
}

// TestSetupTracingExportsToTheCollector points the exporter at a fake OTLP
// collector and checks that a span reaches it on shutdown, with the service
// name, and that the propagator is W3C's.
func TestSetupTracingExportsToTheCollector(t *testing.T) {
	tests := []struct{ name, serviceName, want string }{
		{"default service name", "", DefaultServiceName},
		{"OTEL_SERVICE_NAME", "calls-gateway-eu", "calls-gateway-eu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu     sync.Mutex
				bodies []string
			)
			collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/x-protobuf")
			}))
			defer collector.Close()
			clearOTelEnv(t)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
			if tt.serviceName != "" {
				t.Setenv("OTEL_SERVICE_NAME", tt.serviceName)
			}

			shutdown, err := SetupTracing(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			ctx, span := otel.Tracer("test").Start(t.Context(), "ListCallsForExport")
			carrier := propagation.MapCarrier{}
			otel.GetTextMapPropagator().Inject(ctx, carrier)
			span.End()
			if err := shutdown(t.Context()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}

			if !strings.HasPrefix(carrier["traceparent"], "00-"+span.SpanContext().TraceID().String()) {
				t.Errorf("propagated %v, want a W3C traceparent", carrier)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(bodies) != 1 {
				t.Fatalf("collector got %d requests, want 1", len(bodies))
			}
			for _, want := range []string{"POST /v1/traces application/x-protobuf ", "ListCallsForExport", tt.want} {
				if !strings.Contains(bodies[0], want) {
					t.Errorf("export lacks %q", want)
				}
			}
		})
	}
}

func TestTransportLeavesRequestsOutsideASpanUntraced(t *testing.T) {
	t.Parallel()
	tel, recorder := newRecordingTelemetry()
	var traceparent atomic.Value
	upstream := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		traceparent.Store(r.Header.Get("Traceparent"))
	}))
	defer upstream.Close()
	client := &http.Client{Transport: tel.Transport(upstream.Client().Transport)}

	get := func(ctx context.Context) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, upstream.URL+"/call?page=0&page_size=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	get(t.Context())
	if n := len(recorder.Ended()); n != 0 || traceparent.Load() != "" {
		t.Errorf("without a span: %d spans, traceparent %q; want none", n, traceparent.Load())
	}

	ctx, parent := tel.tracerProvider.Tracer("test").Start(t.Context(), "readyz")
	get(ctx)
	parent.End()
	if n := len(recorder.Ended()); n != 2 || !strings.HasPrefix(traceparent.Load().(string), "00-"+parent.SpanContext().TraceID().String()) {
		t.Errorf("within a span: %d spans, traceparent %q; want the child span and its context", n, traceparent.Load())
	}
}

// A client that sends W3C trace context gets the operation's span in its
// own trace, as a child of its span; one that sends none (or garbage)
// starts a trace.
func TestOperationSpanContinuesTheClientsTrace(t *testing.T) {
	t.Parallel()
	tel, recorder := newRecordingTelemetry()
	h := testGraphQL(t, tel, nil)
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
	)
	for _, tc := range []struct {
		name, traceparent string
		child             bool
	}{
		{"Continued", "00-" + traceID + "-" + spanID + "-01", true},
		{"Fresh", "", false},
		{"Garbage", "00-not-a-trace-01", false},
	} {
		body := fmt.Sprintf(`{"query":"query %s { hello }"}`, tc.name)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tc.traceparent != "" {
			req.Header.Set("Traceparent", tc.traceparent)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		span := spanNamed(t, recorder.Ended(), tc.name)
		parent := span.Parent()
		switch {
		case tc.child && (parent.TraceID().String() != traceID || parent.SpanID().String() != spanID || !parent.IsRemote()):
			t.Errorf("%s: parent %v, want the client's span %s in trace %s", tc.name, parent, spanID, traceID)
		case tc.child && span.SpanContext().TraceID().String() != traceID:
			t.Errorf("%s: trace %s, want the client's %s", tc.name, span.SpanContext().TraceID(), traceID)
		case !tc.child && parent.IsValid():
			t.Errorf("%s: parent %v, want none", tc.name, parent)
		}
	}
}
