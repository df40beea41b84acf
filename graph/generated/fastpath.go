// This file is written by hand; tools/gqlgen makes the generated executor
// call it.

package generated

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

// The fast path writes CallAttemptEdge, CallAttempt and TranscriptEntry
// objects, and lists of them, straight to JSON from a plan compiled once
// per selection and set of variables (kept for the operation, and shared
// with later operations of the same query), instead of gqlgen's
// field-by-field execution (a FieldContext,
// a context, a Marshaler closure and a field set per field: about 280
// allocations per attempt with a full transcript, most of the CPU of a
// page). Every field of these types is a struct field or a method without
// I/O, so nothing is lost by not running them as resolvers: there is no
// field middleware in this server (graphql.FieldInterceptor).
//
// It only ever answers what the generated executor would, byte for byte
// (fastpath_test.go compares the two over the whole sandbox dataset):
//   - a selection it does not know (a field added to the schema and not
//     here, @defer, arguments that would be an error) compiles to no plan,
//     and the generated code runs as before;
//   - an object that would produce an error or a null for a non-null field
//     is written by the generated code, which reports it with its path.
//
// It is enabled per operation by the FastPath extension; without it the
// executor is gqlgen's alone.

// FastPath is the handler extension that enables the fast path for every
// operation (srv.Use(generated.FastPath{})).
type FastPath struct{}

var (
	_ graphql.HandlerExtension     = FastPath{}
	_ graphql.OperationInterceptor = FastPath{}
)

// ExtensionName implements graphql.HandlerExtension.
func (FastPath) ExtensionName() string { return "FastPath" }

// Validate implements graphql.HandlerExtension.
func (FastPath) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation gives the operation its own plan cache: plans depend on
// the operation's variables (@skip/@include, transcript arguments).
func (FastPath) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, planCacheKey{}, &planCache{}))
}

type planCacheKey struct{}

// fastWrites counts the objects the fast path has written.
var fastWrites atomic.Int64

// FastPathWrites is the number of objects (edges, and attempts, those in
// edges included) the fast path has written since the process started:
// tests check with it that the fast path is taken.
func FastPathWrites() int64 { return fastWrites.Load() }

// maxPlans bounds the plans one operation keeps; past it, plans are
// compiled for each object (still correct, only slower).
const maxPlans = 64

// selKey identifies a selection set: the collected-fields cache of gqlgen
// keeps merged selection sets stable within an operation, and the length is
// part of the key because merged sets can share a backing array.
type selKey struct {
	first *ast.Selection
	n     int
	edge  bool
}

// planCache holds the plans of one operation. Root fields run concurrently,
// hence the lock.
type planCache struct {
	mu    sync.Mutex
	plans map[selKey]any // *attemptPlan or *edgePlan; nil when the selection has no plan
	// vars is the operation's variables as canonical JSON, computed on
	// first use; varsOK is false when they are too large to key plans by.
	vars     string
	varsDone bool
	varsOK   bool
}

// variablesKey is the operation's variables as the key of shared plans.
func (c *planCache) variablesKey(vars map[string]any) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.varsDone {
		c.varsDone = true
		if len(vars) == 0 {
			c.varsOK = true
		} else if b, err := json.Marshal(vars); err == nil && len(b) <= maxSharedVariables {
			c.vars, c.varsOK = string(b), true
		}
	}
	return c.vars, c.varsOK
}

func (c *planCache) lookup(k selKey) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.plans[k]
	return p, ok
}

func (c *planCache) store(k selKey, p any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plans == nil {
		c.plans = make(map[selKey]any, 4)
	}
	if len(c.plans) < maxPlans {
		c.plans[k] = p
	}
}

func planCacheFrom(ctx context.Context) *planCache {
	c, _ := ctx.Value(planCacheKey{}).(*planCache)
	return c
}

func keyOf(sel ast.SelectionSet, edge bool) selKey {
	return selKey{first: unsafe.SliceData(sel), n: len(sel), edge: edge}
}

// plan returns the plan of sel in this operation (compiling it on first
// use), or nil when the fast path is off or the selection has no plan.
func (ec *executionContext) plan(ctx context.Context, sel ast.SelectionSet, edge bool) any {
	c := planCacheFrom(ctx)
	if c == nil {
		return nil
	}
	k := keyOf(sel, edge)
	if p, ok := c.lookup(k); ok {
		return p
	}
	p := ec.sharedPlan(ctx, c, sel, edge)
	c.store(k, p)
	return p
}

// Plans are also shared between operations: a plan depends on the AST
// nodes of its selection (the same for every request of a query, which the
// query cache parses once) and on the variables (@skip, @include,
// transcript arguments). gqlgen builds a new selection slice for every
// request, so the key is made of its first and last nodes, its length and
// the variables, and a hit is checked node by node.
type sharedKey struct {
	first, last ast.Selection
	n           int
	edge        bool
	vars        string
}

type sharedEntry struct {
	sel  ast.SelectionSet // the entry's own copy; it keeps the nodes alive
	plan any
}

const (
	maxSharedPlans = 1024
	// maxSharedVariables bounds the variables plans are shared under.
	maxSharedVariables = 1 << 10
)

var sharedPlans, _ = lru.New[sharedKey, *sharedEntry](maxSharedPlans)

func (ec *executionContext) sharedPlan(ctx context.Context, c *planCache, sel ast.SelectionSet, edge bool) any {
	vars, ok := c.variablesKey(ec.Variables)
	if !ok || len(sel) == 0 {
		return ec.compile(ctx, sel, edge)
	}
	k := sharedKey{first: sel[0], last: sel[len(sel)-1], n: len(sel), edge: edge, vars: vars}
	if e, hit := sharedPlans.Get(k); hit && slices.Equal(e.sel, sel) {
		return e.plan
	}
	p := ec.compile(ctx, sel, edge)
	sharedPlans.Add(k, &sharedEntry{sel: slices.Clone(sel), plan: p})
	return p
}

func (ec *executionContext) compile(ctx context.Context, sel ast.SelectionSet, edge bool) any {
	if edge {
		if p := ec.compileEdge(ctx, sel); p != nil {
			return p
		}
		return nil
	}
	if p := ec.compileAttempt(ctx, sel); p != nil {
		return p
	}
	return nil
}

// fastCallAttempt returns the fast path's Marshaler of obj, or nil when
// the generated code must write it.
func (ec *executionContext) fastCallAttempt(ctx context.Context, sel ast.SelectionSet, obj *model.CallAttempt) graphql.Marshaler {
	p, _ := ec.plan(ctx, sel, false).(*attemptPlan)
	if p == nil || obj == nil || !p.check(obj) {
		return nil
	}
	fastWrites.Add(1)
	return &attemptWriter{p: p, one: obj}
}

// fastCallAttempts is fastCallAttempt for a list, [CallAttempt!]!: one
// Marshaler for the list, no context, closure or Marshaler per element. If
// the fast path cannot write an element, the generated code writes the list.
func (ec *executionContext) fastCallAttempts(ctx context.Context, sel ast.SelectionSet, v []*model.CallAttempt) graphql.Marshaler {
	p, _ := ec.plan(ctx, sel, false).(*attemptPlan)
	if p == nil {
		return nil
	}
	for _, a := range v {
		if a == nil || !p.check(a) {
			return nil
		}
	}
	fastWrites.Add(int64(len(v)))
	return &attemptWriter{p: p, list: v}
}

// fastCallAttemptEdge is fastCallAttempt for an edge and its node.
func (ec *executionContext) fastCallAttemptEdge(ctx context.Context, sel ast.SelectionSet, obj *model.CallAttemptEdge) graphql.Marshaler {
	p, _ := ec.plan(ctx, sel, true).(*edgePlan)
	if p == nil || obj == nil || !p.check(obj) {
		return nil
	}
	fastWrites.Add(p.objects)
	return &edgeWriter{p: p, list: []model.CallAttemptEdge{*obj}, one: true}
}

// fastCallAttemptEdges is fastCallAttempts for [CallAttemptEdge!]!.
func (ec *executionContext) fastCallAttemptEdges(ctx context.Context, sel ast.SelectionSet, v []model.CallAttemptEdge) graphql.Marshaler {
	p, _ := ec.plan(ctx, sel, true).(*edgePlan)
	if p == nil {
		return nil
	}
	for i := range v {
		if !p.check(&v[i]) {
			return nil
		}
	}
	fastWrites.Add(p.objects * int64(len(v)))
	return &edgeWriter{p: p, list: v}
}

// The writers write when the response is written, straight into it through
// a pooled scratch buffer: the objects are not held as bytes meanwhile.
// check has run on every object, so writing cannot fail.

type attemptWriter struct {
	p    *attemptPlan
	one  *model.CallAttempt // a single object, or
	list []*model.CallAttempt
}

func (aw *attemptWriter) MarshalGQL(w io.Writer) {
	if aw.one != nil {
		writeJSON(w, -1, func(b []byte, _ int) []byte { return aw.p.append(b, aw.one) })
		return
	}
	writeJSON(w, len(aw.list), func(b []byte, i int) []byte { return aw.p.append(b, aw.list[i]) })
}

type edgeWriter struct {
	p    *edgePlan
	list []model.CallAttemptEdge
	one  bool // list holds a single edge, written as an object
}

func (ew *edgeWriter) MarshalGQL(w io.Writer) {
	n := len(ew.list)
	if ew.one {
		n = -1
	}
	writeJSON(w, n, func(b []byte, i int) []byte { return ew.p.append(b, &ew.list[max(i, 0)]) })
}

// writeJSON writes item(0) alone when n is negative, else the array of
// item(0) to item(n-1), through a scratch buffer.
func writeJSON(w io.Writer, n int, item func(b []byte, i int) []byte) {
	sw := newScratchWriter(w)
	if n < 0 {
		sw.b = item(sw.b, 0)
		sw.close()
		return
	}
	sw.b = append(sw.b, '[')
	for i := range n {
		if i > 0 {
			sw.b = append(sw.b, ',')
		}
		sw.b = item(sw.b, i)
		sw.flushIfFull()
	}
	sw.b = append(sw.b, ']')
	sw.close()
}

// scratchWriter appends into a pooled buffer and passes it on to w in
// pieces of about flushAt bytes.
type scratchWriter struct {
	w   io.Writer
	buf *[]byte
	b   []byte
}

const (
	flushAt       = 16 << 10
	maxPooledSize = 64 << 10
)

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, flushAt+flushAt/2); return &b }}

func newScratchWriter(w io.Writer) scratchWriter {
	buf := scratchPool.Get().(*[]byte)
	return scratchWriter{w: w, buf: buf, b: (*buf)[:0]}
}

func (sw *scratchWriter) flushIfFull() {
	if len(sw.b) >= flushAt {
		_, _ = sw.w.Write(sw.b)
		sw.b = sw.b[:0]
	}
}

func (sw *scratchWriter) close() {
	_, _ = sw.w.Write(sw.b)
	if cap(sw.b) <= maxPooledSize {
		*sw.buf = sw.b[:0]
		scratchPool.Put(sw.buf)
	}
}

type attemptFieldKind uint8

const (
	aTypename attemptFieldKind = iota
	aID
	aPhoneNumber
	aStatus
	aStatusRaw
	aResult
	aResultRaw
	aDialError
	aDialErrorRaw
	aStartedAt
	aAnsweredAt
	aEndedAt
	aDurationSeconds
	aRecordingURL
	aEndReason
	aEndedBy
	aEndedByRaw
	aStructuredOutput
	aTranscript
	aTranscriptLength
)

// attemptFields are the CallAttempt fields the fast path writes: every
// field of the type (TestFastPathCoversEveryField).
var attemptFields = map[string]attemptFieldKind{
	"__typename":       aTypename,
	"id":               aID,
	"phoneNumber":      aPhoneNumber,
	"status":           aStatus,
	"statusRaw":        aStatusRaw,
	"result":           aResult,
	"resultRaw":        aResultRaw,
	"dialError":        aDialError,
	"dialErrorRaw":     aDialErrorRaw,
	"startedAt":        aStartedAt,
	"answeredAt":       aAnsweredAt,
	"endedAt":          aEndedAt,
	"durationSeconds":  aDurationSeconds,
	"recordingUrl":     aRecordingURL,
	"endReason":        aEndReason,
	"endedBy":          aEndedBy,
	"endedByRaw":       aEndedByRaw,
	"structuredOutput": aStructuredOutput,
	"transcript":       aTranscript,
	"transcriptLength": aTranscriptLength,
}

type entryFieldKind uint8

const (
	eTypename entryFieldKind = iota
	eRole
	eRoleRaw
	eContent
	eToolName
	eToolArguments
	eToolIsError
)

// entryFields are the TranscriptEntry fields the fast path writes.
var entryFields = map[string]entryFieldKind{
	"__typename":    eTypename,
	"role":          eRole,
	"roleRaw":       eRoleRaw,
	"content":       eContent,
	"toolName":      eToolName,
	"toolArguments": eToolArguments,
	"toolIsError":   eToolIsError,
}

type attemptField struct {
	key  []byte // "alias":
	kind attemptFieldKind
	// transcript's arguments and selection
	roles       []revox.Role
	first, last *int
	entry       []entryField
}

type entryField struct {
	key  []byte
	kind entryFieldKind
}

type attemptPlan struct {
	fields []attemptField
	// what check must look at: fields whose value can be an error
	turns, duration bool
}

type edgePlan struct {
	fields  []edgeField
	node    *attemptPlan // nil when node is not selected
	objects int64        // the edge, and its node when selected
}

type edgeField struct {
	key  []byte
	kind uint8 // 0 __typename, 1 cursor, 2 node (written with the plan's node plan)
}

// collect is graphql.CollectFields, refusing @defer and keeping the first of
// fields with the same alias as marshalFieldSet does.
func collect(oc *graphql.OperationContext, sel ast.SelectionSet, implementors []string) ([]graphql.CollectedField, bool) {
	fields := graphql.CollectFields(oc, sel, implementors)
	for i, f := range fields {
		if len(f.Deferrables) > 0 {
			return nil, false
		}
		for _, g := range fields[:i] {
			if g.Alias == f.Alias {
				return nil, false
			}
		}
	}
	return fields, true
}

func fieldKey(alias string) []byte {
	return append(appendString(nil, alias), ':')
}

func (ec *executionContext) compileAttempt(ctx context.Context, sel ast.SelectionSet) *attemptPlan {
	fields, ok := collect(ec.OperationContext, sel, callAttemptImplementors)
	if !ok {
		return nil
	}
	p := &attemptPlan{fields: make([]attemptField, 0, len(fields))}
	for _, f := range fields {
		kind, ok := attemptFields[f.Name]
		if !ok {
			return nil
		}
		af := attemptField{key: fieldKey(f.Alias), kind: kind}
		switch kind {
		case aTranscript, aTranscriptLength:
			p.turns = true
		case aDurationSeconds:
			p.duration = true
		}
		if kind == aTranscript {
			args, err := ec.field_CallAttempt_transcript_args(ctx, f.ArgumentMap(ec.Variables))
			if err != nil {
				return nil
			}
			af.roles, _ = args["roles"].([]revox.Role)
			af.first, _ = args["first"].(*int)
			af.last, _ = args["last"].(*int)
			// Arguments TranscriptTurns refuses are reported by the
			// generated code.
			if _, err := (&model.CallAttempt{}).TranscriptTurns(af.roles, af.first, af.last); err != nil {
				return nil
			}
			entries, ok := collect(ec.OperationContext, f.Selections, transcriptEntryImplementors)
			if !ok {
				return nil
			}
			for _, e := range entries {
				ek, ok := entryFields[e.Name]
				if !ok {
					return nil
				}
				af.entry = append(af.entry, entryField{key: fieldKey(e.Alias), kind: ek})
			}
		}
		p.fields = append(p.fields, af)
	}
	return p
}

func (ec *executionContext) compileEdge(ctx context.Context, sel ast.SelectionSet) *edgePlan {
	fields, ok := collect(ec.OperationContext, sel, callAttemptEdgeImplementors)
	if !ok {
		return nil
	}
	p := &edgePlan{fields: make([]edgeField, 0, len(fields)), objects: 1}
	for _, f := range fields {
		ef := edgeField{key: fieldKey(f.Alias)}
		switch f.Name {
		case "__typename":
			ef.kind = 0
		case "cursor":
			ef.kind = 1
		case "node":
			ef.kind = 2
			if p.node != nil {
				return nil // node twice under two aliases: left to the generated code
			}
			if p.node = ec.compileAttempt(ctx, f.Selections); p.node == nil {
				return nil
			}
			p.objects++
		default:
			return nil
		}
		p.fields = append(p.fields, ef)
	}
	return p
}

// check reports whether the fast path can write a: the values that can be
// errors (a transcript the upstream sent unreadable, a duration that is
// not a number) are not. Decoded transcripts are kept, so that writing a
// afterwards gets the same answers.
func (p *attemptPlan) check(a *model.CallAttempt) bool {
	if p.turns {
		if _, err := a.Transcript.Turns(); err != nil {
			return false
		}
	}
	if p.duration {
		if d := a.DurationSeconds(); d != nil && !isFinite(*d) {
			return false
		}
	}
	return true
}

func (p *edgePlan) check(e *model.CallAttemptEdge) bool {
	if p.node == nil {
		return true
	}
	return e.Node != nil && p.node.check(e.Node)
}

func (p *edgePlan) append(b []byte, e *model.CallAttemptEdge) []byte {
	b = append(b, '{')
	for i := range p.fields {
		f := &p.fields[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		switch f.kind {
		case 0:
			b = append(b, `"CallAttemptEdge"`...)
		case 1:
			b = append(b, '"')
			b = e.AppendCursorTo(b) // base64: nothing to escape
			b = append(b, '"')
		case 2:
			b = p.node.append(b, e.Node)
		}
	}
	return append(b, '}')
}

// append writes a, which check has accepted.
func (p *attemptPlan) append(b []byte, a *model.CallAttempt) []byte {
	b = append(b, '{')
	for i := range p.fields {
		f := &p.fields[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		switch f.kind {
		case aTypename:
			b = append(b, `"CallAttempt"`...)
		case aID:
			b = appendString(b, a.ID)
		case aPhoneNumber:
			b = appendString(b, a.PhoneNumber)
		case aStatus:
			b = model.AppendCallAttemptStatus(b, a.Status)
		case aStatusRaw:
			b = appendString(b, string(a.Status))
		case aResult:
			b = appendOpt(b, a.Result, model.AppendCallResult)
		case aResultRaw:
			b = appendOptString(b, (*string)(a.Result))
		case aDialError:
			b = appendOpt(b, a.DialError, model.AppendDialError)
		case aDialErrorRaw:
			b = appendOptString(b, (*string)(a.DialError))
		case aStartedAt:
			b = appendTime(b, a.StartedAt)
		case aAnsweredAt:
			b = appendTime(b, a.AnsweredAt)
		case aEndedAt:
			b = appendTime(b, a.EndedAt)
		case aDurationSeconds:
			if d := a.DurationSeconds(); d == nil {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendFloat(b, *d, 'g', -1, 64) // finite: checked
			}
		case aRecordingURL:
			b = appendOptString(b, a.RecordingURL)
		case aEndReason:
			b = appendOptString(b, a.EndReason)
		case aEndedBy:
			b = appendOpt(b, a.EndedBy, model.AppendEndedBy)
		case aEndedByRaw:
			b = appendOptString(b, (*string)(a.EndedBy))
		case aStructuredOutput:
			b = appendJSON(b, a.StructuredOutput)
		case aTranscript:
			// No error: the arguments were checked when compiling and the
			// turns decoded by check.
			turns, _ := a.TranscriptTurns(f.roles, f.first, f.last)
			if turns == nil {
				b = append(b, "null"...)
				break
			}
			b = append(b, '[')
			for j, t := range turns {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendEntry(b, f.entry, t)
			}
			b = append(b, ']')
		case aTranscriptLength:
			n, _ := a.TranscriptLength() // decoded by check
			b = strconv.AppendInt(b, int64(n), 10)
		}
	}
	return append(b, '}')
}

func appendEntry(b []byte, fields []entryField, e *model.TranscriptEntry) []byte {
	b = append(b, '{')
	for i := range fields {
		f := &fields[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		switch f.kind {
		case eTypename:
			b = append(b, `"TranscriptEntry"`...)
		case eRole:
			b = model.AppendTranscriptRole(b, e.Role)
		case eRoleRaw:
			b = appendString(b, string(e.Role))
		case eContent:
			b = appendString(b, e.Content)
		case eToolName:
			b = appendOptString(b, e.ToolName)
		case eToolArguments:
			b = appendJSON(b, e.ToolArguments)
		case eToolIsError:
			switch {
			case e.ToolIsError == nil:
				b = append(b, "null"...)
			case *e.ToolIsError:
				b = append(b, "true"...)
			default:
				b = append(b, "false"...)
			}
		}
	}
	return append(b, '}')
}

func appendTime(b []byte, t revox.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	return model.AppendDateTime(b, t)
}

func appendJSON(b []byte, raw []byte) []byte {
	if model.IsNullJSON(raw) {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

// appendOpt appends null for a nil v, else what appendValue appends for *v.
func appendOpt[T any](b []byte, v *T, appendValue func([]byte, T) []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return appendValue(b, *v)
}

func appendOptString(b []byte, s *string) []byte { return appendOpt(b, s, appendString) }

func isFinite(f float64) bool { return f-f == 0 }

const hexDigits = "0123456789ABCDEF"

// appendString quotes s as graphql.MarshalString does: only ", \ and control
// characters are escaped, every other byte is copied.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
