package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// DefaultServiceName is the service.name of the gateway's spans when
// OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) is unset.
const DefaultServiceName = "revox-graphql-gateway"

// SetupTracing turns on OpenTelemetry tracing when the environment asks for
// it: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// set, or OTEL_TRACES_EXPORTER is "otlp". Spans then go through a batch
// processor to an OTLP/HTTP exporter, which reads its own OTEL_EXPORTER_OTLP_*
// settings (endpoint, headers, timeout, compression, certificates), under
// the sampler of OTEL_TRACES_SAMPLER; the tracer provider and the W3C
// tracecontext and baggage propagators become the global ones.
//
// Otherwise, or when OTEL_SDK_DISABLED is "true" or OTEL_TRACES_EXPORTER is
// "none", it changes nothing and starts nothing: spans stay no-ops. An
// exporter or protocol it cannot honour ("grpc", "zipkin", …) is an error,
// so that a misconfiguration stops start-up instead of losing traces.
//
// The returned shutdown flushes buffered spans; call it once, on exit.
func SetupTracing(ctx context.Context) (shutdown func(context.Context) error, err error) {
	nop := func(context.Context) error { return nil }
	on, err := TracingEnabled(os.Getenv)
	if err != nil || !on {
		return nop, err
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nop, fmt.Errorf("otlp trace exporter: %w", err)
	}
	// Later sources win: OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME
	// override the default service name.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", DefaultServiceName)),
		resource.WithFromEnv(),
	)
	if err != nil {
		_ = exporter.Shutdown(ctx)
		return nop, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(res),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		slog.Warn("opentelemetry", "error", err)
	}))
	return tp.Shutdown, nil
}

// TracingEnabled decides from the OTEL_* variables whether to trace; an
// exporter or protocol SetupTracing cannot honour is an error.
func TracingEnabled(getenv func(string) string) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false, nil
	}
	on := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	if v := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); v != "" {
		on = false
		for e := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(e)) {
			case "otlp":
				on = true
			case "none":
				return false, nil
			default:
				return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: only otlp and none are supported", v)
			}
		}
	}
	if !on {
		return false, nil
	}
	protocol, name := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	if protocol == "" {
		protocol, name = getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	if p := strings.TrimSpace(protocol); p != "" && p != "http/protobuf" {
		return false, fmt.Errorf("%s=%q: only http/protobuf is supported", name, protocol)
	}
	return true, nil
}
