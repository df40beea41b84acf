// Package fastpath is the runtime of the executor's fast path: it writes
// objects of the types it is generated for (PageInfo, CallAttemptEdge,
// CallAttempt, TranscriptEntry; see tools/gqlgen), and lists of them,
// straight to JSON
// from a plan compiled once per selection, instead of gqlgen's
// field-by-field execution (a FieldContext, a context, a Marshaler closure
// and a field set per field: about 280 allocations per attempt with a full
// transcript, most of the CPU of a page).
//
// What depends on the schema (which fields exist, how each is written,
// which gqlgen function answers a field the fast path cannot write) is
// generated into graph/generated/fastpath_gen.go by tools/gqlgen from
// gqlgen's own codegen.Data; this package holds what does not: the handler
// extension, the per-operation plan cache, plans, and the JSON writers.
//
// It only ever answers what the generated executor would, byte for byte
// (internal/gateway's differential test compares the two over the whole
// sandbox dataset):
//   - a selection it cannot plan (@defer, two fields under one alias)
//     compiles to no plan, and gqlgen's code runs as before;
//   - a field it cannot write itself is answered by gqlgen's own field
//     function, whose Marshaler it writes in place, with gqlgen's null
//     propagation;
//   - an object whose writing would produce an error (a method returning
//     one, a float that is not finite) is written by gqlgen's code, which
//     reports it with its path.
package fastpath

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// FastPath is the handler extension that enables the fast path for every
// operation of the server it is used on (srv.Use(fastpath.New())). It
// counts the objects it has written, so that a test can check the fast
// path served a handler's requests.
type FastPath struct {
	writes atomic.Int64
}

var (
	_ graphql.HandlerExtension     = (*FastPath)(nil)
	_ graphql.OperationInterceptor = (*FastPath)(nil)
)

// New returns a FastPath extension with its own counter.
func New() *FastPath { return &FastPath{} }

// ExtensionName implements graphql.HandlerExtension.
func (*FastPath) ExtensionName() string { return "FastPath" }

// Validate implements graphql.HandlerExtension.
func (*FastPath) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation gives the operation its own plan cache: plans depend
// on the operation's variables (@skip/@include, field arguments).
func (f *FastPath) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, operationKey{}, &Operation{ext: f}))
}

// Writes is the number of objects the fast path has written for the
// operations of this extension: objects of the fast-path types, those
// nested in others included.
func (f *FastPath) Writes() int64 { return f.writes.Load() }

type operationKey struct{}

// maxPlans bounds the plans one operation keeps; past it, plans are
// compiled for each object (still correct, only slower).
const maxPlans = 64

// Key identifies a selection set of a type within an operation: gqlgen's
// collected-fields cache keeps merged selection sets stable within an
// operation, and the length is part of the key because merged sets can
// share a backing array.
type Key struct {
	first *ast.Selection
	n     int
	typ   string
}

// KeyOf is the key of sel collected for the type typ.
func KeyOf(sel ast.SelectionSet, typ string) Key {
	k := Key{n: len(sel), typ: typ}
	if len(sel) > 0 {
		k.first = &sel[0]
	}
	return k
}

// Operation is the fast path's state for one operation: its plans. Root
// fields run concurrently, hence the lock.
type Operation struct {
	ext   *FastPath
	mu    sync.Mutex
	plans map[Key]*Plan // nil when the selection has no plan
}

// OperationFrom is the operation state of ctx, nil when the fast path is
// off.
func OperationFrom(ctx context.Context) *Operation {
	op, _ := ctx.Value(operationKey{}).(*Operation)
	return op
}

// Plan is the plan stored for k, and whether there is one (a nil plan is
// stored for a selection that has none).
func (op *Operation) Plan(k Key) (*Plan, bool) {
	op.mu.Lock()
	defer op.mu.Unlock()
	p, ok := op.plans[k]
	return p, ok
}

// StorePlan keeps p as the plan of k for the rest of the operation.
func (op *Operation) StorePlan(k Key, p *Plan) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.plans == nil {
		op.plans = make(map[Key]*Plan, 4)
	}
	if len(op.plans) < maxPlans {
		op.plans[k] = p
	}
}

// Wrote counts n objects written by the fast path.
func (op *Operation) Wrote(n int64) { op.ext.writes.Add(n) }
