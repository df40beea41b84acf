// Package telemetry makes the gateway observable: Prometheus metrics of
// GraphQL operations, upstream requests and the circuit breaker, optional
// OpenTelemetry traces configured by the standard OTEL_* variables, and a
// request id carried into every log line.
//
// Every label value is bounded: operation names, endpoints, status codes and
// error codes pass allow-lists or caps, so a client cannot grow the metric
// series without limit, and nothing taken from a request's credentials
// reaches a label, a span or a log.
package telemetry

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName names the tracer of the gateway's own spans.
const instrumentationName = "github.com/revox-graphql/gateway/internal/telemetry"

// durationBuckets are the latency buckets, in seconds, of every histogram:
// from a cached answer (1ms) to the upstream timeout (30s).
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Telemetry holds the gateway's metrics, on a registry of its own, and the
// tracer its spans are made with. Create it with New; it is safe for
// concurrent use.
type Telemetry struct {
	registry *prometheus.Registry

	tracerProvider trace.TracerProvider          // nil: the global provider
	propagator     propagation.TextMapPropagator // nil: the global propagator

	graphql  *graphqlMetrics
	upstream *upstreamMetrics
	inFlight prometheus.Gauge
	refused  *prometheus.CounterVec
}

// Option configures Telemetry.
type Option func(*Telemetry)

// WithTracerProvider makes spans with tp instead of the global provider
// (which SetupTracing sets); tests pass an in-memory recorder here.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(t *Telemetry) { t.tracerProvider = tp }
}

// WithPropagator reads the trace context of incoming requests and injects
// it into upstream requests with p instead of the global propagator (which
// SetupTracing sets).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(t *Telemetry) { t.propagator = p }
}

// textMapPropagator is the propagator given, or the global one as it is now
// (SetupTracing may set it after New).
func (t *Telemetry) textMapPropagator() propagation.TextMapPropagator {
	if t.propagator != nil {
		return t.propagator
	}
	return otel.GetTextMapPropagator()
}

// New returns Telemetry with every metric registered on a new registry,
// together with the Go runtime and process collectors.
func New(opts ...Option) *Telemetry {
	t := &Telemetry{registry: prometheus.NewRegistry()}
	for _, opt := range opts {
		opt(t)
	}
	tp := t.tracerProvider
	if tp == nil {
		// The global provider delegates to whatever SetupTracing installs,
		// even when that happens after New.
		tp = otel.GetTracerProvider()
	}
	t.graphql = newGraphQLMetrics(t.registry, tp.Tracer(instrumentationName), t.textMapPropagator)
	t.upstream = newUpstreamMetrics(t.registry)
	t.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "http_requests_in_flight",
		Help: "HTTP requests being served by the gateway.",
	})
	t.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_refused_total",
		Help: "Requests refused before GraphQL saw them (rate limit, CSRF, body size and time, in-flight bound, missing credential), by extensions.code.",
	}, []string{"code"})
	t.registry.MustRegister(
		t.inFlight,
		t.refused,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return t
}

// Registry returns the registry every metric of t is on, for tests and for
// registering further collectors.
func (t *Telemetry) Registry() *prometheus.Registry { return t.registry }

// MetricsHandler serves t's metrics in the Prometheus exposition format
// (mount it at /metrics). Scrapes of it are counted in
// promhttp_metric_handler_requests_total.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.InstrumentMetricHandler(t.registry,
		promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{Registry: t.registry}))
}

// InFlight counts the requests next is serving in the gauge
// http_requests_in_flight.
func (t *Telemetry) InFlight(next http.Handler) http.Handler {
	return promhttp.InstrumentHandlerInFlight(t.inFlight, next)
}

// Refused counts a request refused before GraphQL saw it, by its code.
func (t *Telemetry) Refused(code string) {
	t.refused.WithLabelValues(codeLabel(code)).Inc()
}
