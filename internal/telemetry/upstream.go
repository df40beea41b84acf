package telemetry

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/revox-graphql/gateway/internal/revox"
)

// breakerStates maps the states revox.Observer reports to the value of the
// revox_circuit_breaker_state gauge.
var breakerStates = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

// upstreamMetrics implements revox.Observer.
type upstreamMetrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	retries     *prometheus.CounterVec
	breaker     prometheus.Gauge
	transitions *prometheus.CounterVec
	endpoints   *nameSet
}

var _ revox.Observer = (*upstreamMetrics)(nil)

func newUpstreamMetrics(reg prometheus.Registerer) *upstreamMetrics {
	u := &upstreamMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revox_upstream_requests_total",
			Help: "HTTP requests to the Revox API, by endpoint and status (2xx, 3xx, 4xx, 5xx, the exact 401, 403, 404 and 429, or error when no response came).",
		}, []string{"endpoint", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "revox_upstream_request_duration_seconds",
			Help:    "Duration of one HTTP request to the Revox API, by endpoint.",
			Buckets: durationBuckets,
		}, []string{"endpoint"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revox_upstream_retries_total",
			Help: "Retries of requests to the Revox API, by endpoint.",
		}, []string{"endpoint"}),
		breaker: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "revox_circuit_breaker_state",
			Help: "State of the circuit breaker in front of the Revox API: 0 closed, 1 half-open, 2 open.",
		}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revox_circuit_breaker_transitions_total",
			Help: "Changes of the circuit breaker's state, by the state entered.",
		}, []string{"state"}),
		endpoints: newNameSet(maxEndpointNames, maxEndpointNameLen, maxEndpointNames),
	}
	reg.MustRegister(u.requests, u.duration, u.retries, u.breaker, u.transitions)
	return u
}

// Observer returns the receiver of the Revox client's events, for
// revox.WithObserver.
func (t *Telemetry) Observer() revox.Observer { return t.upstream }

// UpstreamRequest implements revox.Observer.
func (u *upstreamMetrics) UpstreamRequest(endpoint string, status int, d time.Duration) {
	ep := u.endpoints.label(endpoint, "", true)
	u.requests.WithLabelValues(ep, statusLabel(status)).Inc()
	u.duration.WithLabelValues(ep).Observe(d.Seconds())
}

// UpstreamRetry implements revox.Observer.
func (u *upstreamMetrics) UpstreamRetry(endpoint string) {
	u.retries.WithLabelValues(u.endpoints.label(endpoint, "", true)).Inc()
}

// BreakerState implements revox.Observer.
func (u *upstreamMetrics) BreakerState(state string) {
	v, ok := breakerStates[state]
	if !ok {
		u.transitions.WithLabelValues(labelOther).Inc()
		return
	}
	u.breaker.Set(v)
	u.transitions.WithLabelValues(state).Inc()
}

// statusLabel bounds an upstream status to its class, keeping the codes that
// each mean one thing to an operator exact.
func statusLabel(status int) string {
	switch {
	case status == 0:
		return "error"
	case status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusNotFound, status == http.StatusTooManyRequests:
		return strconv.Itoa(status)
	case status >= 100 && status <= 599:
		return strconv.Itoa(status/100) + "xx"
	default:
		return labelOther
	}
}

// Transport wraps base (http.DefaultTransport when nil) so that every
// upstream request made within a span (a GraphQL operation's) gets a client
// span, child of that one, and carries the trace context in its traceparent
// header. Requests outside any span, such as readiness probes, pass through
// untraced rather than each start a trace of their own. Span names are the
// method and the route ("GET /call", "GET /call/{id}"), never a query string
// or an id; request headers, Authorization among them, are not recorded.
// Metrics stay with Observer: the transport records none.
func (t *Telemetry) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	opts := []otelhttp.Option{
		otelhttp.WithSpanNameFormatter(upstreamSpanName),
		otelhttp.WithFilter(func(r *http.Request) bool {
			return trace.SpanContextFromContext(r.Context()).IsValid()
		}),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
	}
	if t.tracerProvider != nil {
		opts = append(opts, otelhttp.WithTracerProvider(t.tracerProvider))
	}
	if t.propagator != nil {
		opts = append(opts, otelhttp.WithPropagators(t.propagator))
	}
	return otelhttp.NewTransport(base, opts...)
}

// upstreamSpanName names an upstream span after the Revox route the request
// is for, whatever path prefix the base URL has.
func upstreamSpanName(_ string, r *http.Request) string {
	if route := revoxRoute(r.URL.Path); route != "" {
		return r.Method + " " + route
	}
	return r.Method
}

// revoxRoute returns the route template of a Revox API path ("/api/call" is
// "/call", "/api/call/abc" is "/call/{id}"), or "" for any other path.
func revoxRoute(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if s != "call" {
			continue
		}
		switch len(segs) - i {
		case 1:
			return "/call"
		case 2:
			return "/call/{id}"
		}
		return ""
	}
	return ""
}
