package telemetry

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Outcomes of a GraphQL operation, the outcome label.
const (
	outcomeOK     = "ok"     // no errors
	outcomeError  = "error"  // errors beside data
	outcomeFailed = "failed" // no data: refused before execution, or null data
)

// Span attribute keys of the OpenTelemetry GraphQL semantic conventions,
// plus the error code.
const (
	attrOperationName = attribute.Key("graphql.operation.name")
	attrOperationType = attribute.Key("graphql.operation.type")
	attrErrorCode     = attribute.Key("graphql.error.code")
)

// graphqlMetrics is the gqlgen handler extension recording every operation.
type graphqlMetrics struct {
	operations *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	names      *nameSet
	tracer     trace.Tracer
	propagator func() propagation.TextMapPropagator
}

func newGraphQLMetrics(reg prometheus.Registerer, tracer trace.Tracer, propagator func() propagation.TextMapPropagator) *graphqlMetrics {
	g := &graphqlMetrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphql_operations_total",
			Help: "GraphQL operations answered, by operation name, outcome (ok, error: errors beside data, failed: no data) and the first error's extensions.code.",
		}, []string{"operation", "outcome", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "graphql_operation_duration_seconds",
			Help:    "Time from receiving a GraphQL request to its last response, by operation name.",
			Buckets: durationBuckets,
		}, []string{"operation"}),
		names:      newNameSet(maxOperationNames, maxNameLength, maxNamesPerClient),
		tracer:     tracer,
		propagator: propagator,
	}
	reg.MustRegister(g.operations, g.duration)
	return g
}

// GraphQLExtension returns the gqlgen handler extension that counts and
// times every operation and makes a span of it. Use it first
// (srv.Use(t.GraphQLExtension()) before other extensions), so that it sees
// the final response and its span covers all the others.
func (t *Telemetry) GraphQLExtension() graphql.HandlerExtension { return t.graphql }

var (
	_ graphql.HandlerExtension     = (*graphqlMetrics)(nil)
	_ graphql.OperationInterceptor = (*graphqlMetrics)(nil)
	_ graphql.ResponseInterceptor  = (*graphqlMetrics)(nil)
)

// ExtensionName implements graphql.HandlerExtension.
func (g *graphqlMetrics) ExtensionName() string { return "Telemetry" }

// Validate implements graphql.HandlerExtension.
func (g *graphqlMetrics) Validate(graphql.ExecutableSchema) error { return nil }

// operationKey marks a context as inside an operation this extension records.
type operationKey struct{}

// InterceptOperation records an operation that was parsed and validated:
// it starts its span, so that resolvers and upstream calls are its children,
// and records the metrics once the last response is out.
func (g *graphqlMetrics) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	ctx = g.continueTrace(ctx, opCtx)
	rec := g.start(ctx, opCtx)
	rec.admissible = true
	ctx = trace.ContextWithSpan(context.WithValue(ctx, operationKey{}, rec), rec.span)
	subscription := opCtx.Operation != nil && opCtx.Operation.Operation == ast.Subscription

	var handler graphql.ResponseHandler
	func() {
		defer rec.finishOnPanic()
		handler = next(ctx)
	}()
	return func(ctx context.Context) *graphql.Response {
		defer rec.finishOnPanic()
		resp := handler(ctx)
		rec.observe(resp)
		// A query or mutation ends with its response (its last one under
		// @defer); a subscription when the stream ends.
		if resp == nil || !subscription && (resp.HasNext == nil || !*resp.HasNext) {
			rec.finish()
		}
		return resp
	}
}

// InterceptResponse records the requests refused before execution (parse,
// validation, limits, persisted queries): gqlgen answers those with a
// response but runs no operation interceptor. Responses of operations are
// recorded by InterceptOperation and pass through.
func (g *graphqlMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if ctx.Value(operationKey{}) != nil {
		return next(ctx)
	}
	// A body that is not a GraphQL request at all comes without an
	// operation context. A rejected request admits no name: it may only
	// use a name an operation that ran has admitted.
	opCtx := &graphql.OperationContext{Stats: graphql.Stats{OperationStart: graphql.GetStartTime(ctx)}}
	if graphql.HasOperationContext(ctx) {
		opCtx = graphql.GetOperationContext(ctx)
	}
	rec := g.start(g.continueTrace(ctx, opCtx), opCtx)
	defer rec.finishOnPanic()
	resp := next(ctx)
	rec.observe(resp)
	rec.finish()
	return resp
}

// continueTrace joins the trace a client sent (W3C traceparent and baggage,
// or whatever the propagator reads) so that the operation's span is a child
// of the client's, unless ctx is already in a span.
func (g *graphqlMetrics) continueTrace(ctx context.Context, opCtx *graphql.OperationContext) context.Context {
	if opCtx.Headers == nil || trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return g.propagator().Extract(ctx, propagation.HeaderCarrier(opCtx.Headers))
}

// operationRecord accumulates what the responses of one operation said.
type operationRecord struct {
	g      *graphqlMetrics
	label  string
	name   string // the operation's own name, for admission at the end
	client string
	start  time.Time
	span   trace.Span

	// admissible is set for operations that ran; unauthenticated when one
	// of their errors says the credential was refused.
	admissible, unauthenticated bool

	seen    bool
	outcome string
	code    string
	once    sync.Once
}

func (g *graphqlMetrics) start(ctx context.Context, opCtx *graphql.OperationContext) *operationRecord {
	name, opType := opCtx.OperationName, ""
	if opCtx.Operation != nil {
		name, opType = opCtx.Operation.Name, string(opCtx.Operation.Operation)
	}
	client := clientOf(ctx)
	label := g.names.label(name, client, false)
	start := opCtx.Stats.OperationStart
	if start.IsZero() {
		start = time.Now()
	}
	attrs := make([]attribute.KeyValue, 0, 2)
	if opType != "" {
		attrs = append(attrs, attrOperationType.String(opType))
	}
	if label != labelAnonymous && label != labelOther {
		attrs = append(attrs, attrOperationName.String(label))
	}
	_, span := g.tracer.Start(ctx, label,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(start),
		trace.WithAttributes(attrs...),
	)
	return &operationRecord{g: g, label: label, name: name, client: client, start: start, span: span, outcome: outcomeOK}
}

// observe folds one response in: the first response decides whether there
// is data, and the first error seen gives the code.
func (r *operationRecord) observe(resp *graphql.Response) {
	if resp == nil {
		return
	}
	if !r.seen && !hasData(resp.Data) {
		r.outcome = outcomeFailed
	}
	r.seen = true
	if len(resp.Errors) == 0 {
		return
	}
	if r.outcome == outcomeOK {
		r.outcome = outcomeError
	}
	if r.code == "" {
		r.code = codeLabel(resp.Errors[0].Extensions["code"])
	}
	for _, err := range resp.Errors {
		r.unauthenticated = r.unauthenticated || err.Extensions["code"] == codeUnauthenticated
	}
}

// hasData reports whether a response's data is present and not null.
func hasData(data []byte) bool {
	d := bytes.TrimSpace(data)
	return len(d) > 0 && !bytes.Equal(d, []byte("null"))
}

// finish records the metrics and ends the span, once.
func (r *operationRecord) finish() {
	r.once.Do(func() {
		if r.outcome != outcomeOK && r.code == "" {
			r.code = codeOther
		}
		if r.label == labelOther && r.admissible && !r.unauthenticated {
			if r.label = r.g.names.label(r.name, r.client, true); r.label != labelOther {
				r.span.SetName(r.label)
				r.span.SetAttributes(attrOperationName.String(r.label))
			}
		}
		r.g.operations.WithLabelValues(r.label, r.outcome, r.code).Inc()
		r.g.duration.WithLabelValues(r.label).Observe(time.Since(r.start).Seconds())
		if r.outcome != outcomeOK {
			// The code, never the message: messages may quote the upstream.
			r.span.SetAttributes(attrErrorCode.String(r.code))
			r.span.SetStatus(codes.Error, r.code)
		}
		r.span.End()
	})
}

// finishOnPanic records a panicking operation as failed with an internal
// error and lets the panic go on to gqlgen's recovery.
func (r *operationRecord) finishOnPanic() {
	if p := recover(); p != nil {
		r.outcome, r.code = outcomeFailed, "INTERNAL_SERVER_ERROR"
		r.finish()
		panic(p)
	}
}
