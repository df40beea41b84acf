package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

	"github.com/revox-graphql/gateway/graph/resolvers"
)

// Codes of operations refused before execution.
const (
	CodeTooManyTokens     = "TOO_MANY_TOKENS"
	CodeQueryTooDeep      = "QUERY_TOO_DEEP"
	CodeTooManyAliases    = "TOO_MANY_ALIASES"
	CodeTooManyDirectives = "TOO_MANY_DIRECTIVES"
	CodeQueryTooComplex   = "QUERY_TOO_COMPLEX"
)

func init() {
	// A refused operation is a request error, like a validation failure:
	// 400 under application/graphql-response+json, no data entry.
	for _, code := range []string{CodeTooManyTokens, CodeQueryTooDeep, CodeTooManyAliases, CodeTooManyDirectives, CodeQueryTooComplex, CodeBadUserInput} {
		errcode.RegisterErrorType(code, errcode.KindProtocol)
	}
}

// OperationLimits bound what one operation may ask, checked before any
// resolver runs. Defaults follow GraphQL Armor where they leave
// introspection and this schema's own queries working.
type OperationLimits struct {
	// MaxTokens bounds the lexical tokens of the document (Armor: 1000).
	MaxTokens int
	// MaxDepth bounds field nesting outside introspection, which has a
	// fixed limit of its own (Armor: 6).
	MaxDepth int
	// MaxAliases bounds aliased fields (Armor: 15).
	MaxAliases int
	// MaxDirectives bounds directive uses (Armor: 50).
	MaxDirectives int
	// MaxCost bounds the list-aware cost (see resolvers.Complexity).
	MaxCost int
}

// Default operation limits. MaxCost admits one full 100-attempt window with
// every field and whole transcripts (cost about 25,000) and refuses
// anything near fifteen of them.
var DefaultOperationLimits = OperationLimits{
	MaxTokens:     1000,
	MaxDepth:      6,
	MaxAliases:    15,
	MaxDirectives: 50,
	MaxCost:       50000,
}

func (l *OperationLimits) withDefaults() {
	d := DefaultOperationLimits
	if l.MaxTokens == 0 {
		l.MaxTokens = d.MaxTokens
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxAliases == 0 {
		l.MaxAliases = d.MaxAliases
	}
	if l.MaxDirectives == 0 {
		l.MaxDirectives = d.MaxDirectives
	}
	if l.MaxCost == 0 {
		l.MaxCost = d.MaxCost
	}
}

// operationLimiter is the gqlgen extension enforcing OperationLimits. Its
// verdicts are remembered per document, operation and variables (see
// verdicts.go).
type operationLimiter struct {
	limits   OperationLimits
	schema   graphql.ExecutableSchema
	verdicts *lru.Cache[verdictKey, verdict]
}

// newOperationLimiter remembers up to entries verdicts.
func newOperationLimiter(limits OperationLimits, entries int) *operationLimiter {
	return &operationLimiter{limits: limits, verdicts: newVerdictCache(entries)}
}

// verdict is a refusal's code and message; the zero verdict admits.
type verdict struct{ code, message string }

func (v verdict) err() *gqlerror.Error {
	if v.code == "" {
		return nil
	}
	return refusal(v.code, "%s", v.message)
}

var (
	_ graphql.HandlerExtension          = (*operationLimiter)(nil)
	_ graphql.OperationParameterMutator = (*operationLimiter)(nil)
	_ graphql.OperationContextMutator   = (*operationLimiter)(nil)
)

func (l *operationLimiter) ExtensionName() string { return "OperationLimits" }

func (l *operationLimiter) Validate(schema graphql.ExecutableSchema) error {
	l.schema = schema
	return nil
}

func refusal(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
}

// MutateOperationParameters counts tokens before the document is parsed,
// so that a huge document costs a lexer pass, not a parse.
func (l *operationLimiter) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	if len(params.Query) <= l.limits.MaxTokens {
		return nil // a token is at least one byte: no need to lex
	}
	lex := lexer.New(&ast.Source{Input: params.Query})
	for n := 0; ; n++ {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return nil // a lexing error is the parser's to report
		}
		if n >= l.limits.MaxTokens {
			return refusal(CodeTooManyTokens, "the document has more than %d tokens", l.limits.MaxTokens)
		}
	}
}

// MutateOperationContext checks depth, aliases, directives, cost and
// _entities representations of the operation about to run.
func (l *operationLimiter) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	key, cacheable := verdictKeyOf(opCtx)
	if cacheable {
		if v, ok := l.verdicts.Get(key); ok {
			return v.err()
		}
	}
	v := l.judge(ctx, opCtx)
	if cacheable {
		l.verdicts.Add(key, v)
	}
	return v.err()
}

// judge measures the operation against the limits.
func (l *operationLimiter) judge(ctx context.Context, opCtx *graphql.OperationContext) verdict {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if op == nil {
		return verdict{} // the executor reports a missing operation itself
	}
	var s shapeStats
	s.walk(op.SelectionSet, 1, map[string]bool{})
	s.directives += len(op.Directives)
	refuse := func(code, format string, args ...any) verdict {
		return verdict{code: code, message: fmt.Sprintf(format, args...)}
	}
	switch {
	case s.visits > maxSelectionVisits:
		return refuse(CodeQueryTooComplex, "the operation expands to more than %d selections", maxSelectionVisits)
	case s.depth > l.limits.MaxDepth:
		return refuse(CodeQueryTooDeep, "the operation is nested %d deep; the limit is %d", s.depth, l.limits.MaxDepth)
	case s.introspectionDepth > maxIntrospectionDepth:
		return refuse(CodeQueryTooDeep, "the introspection query is nested %d deep; the limit is %d", s.introspectionDepth, maxIntrospectionDepth)
	case s.aliases > l.limits.MaxAliases:
		return refuse(CodeTooManyAliases, "the operation uses %d aliases; the limit is %d", s.aliases, l.limits.MaxAliases)
	case s.directives > l.limits.MaxDirectives:
		return refuse(CodeTooManyDirectives, "the operation uses %d directives; the limit is %d", s.directives, l.limits.MaxDirectives)
	}
	entities := &entityPricing{ExecutableSchema: l.schema}
	cost := complexity.Calculate(ctx, entities, op, opCtx.Variables)
	if entities.invalid != "" {
		return refuse(CodeBadUserInput, "invalid _entities representation: %s", entities.invalid)
	}
	if cost > l.limits.MaxCost {
		return refuse(CodeQueryTooComplex, "the operation costs %d; the limit is %d", cost, l.limits.MaxCost)
	}
	if entities.representations > resolvers.MaxEntityRepresentations {
		return refuse(CodeQueryTooComplex, "the operation has %d _entities representations; the limit is %d", entities.representations, resolvers.MaxEntityRepresentations)
	}
	return verdict{}
}

// entityPricing prices each _entities representation like a call(id:)
// field (each costs an upstream request and its selection), and counts the
// representations of the whole operation, aliased fields included.
type entityPricing struct {
	graphql.ExecutableSchema
	representations int
	// invalid says what is wrong with the first representation that is
	// not an object with a string __typename and a scalar id.
	invalid string
}

func (p *entityPricing) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if typeName != "Query" || field != "_entities" {
		return p.ExecutableSchema.Complexity(ctx, typeName, field, child, args)
	}
	n := 1 // a single value coerces to a list of one
	switch reps := args["representations"].(type) {
	case []any:
		n = len(reps)
		for i, rep := range reps {
			if p.invalid == "" {
				p.invalid = checkRepresentation(i, rep)
			}
		}
	case nil:
		n = 0
	default:
		p.invalid = checkRepresentation(0, reps)
	}
	p.representations += n
	child = max(child, 1)
	if n > (math.MaxInt-1)/child {
		return math.MaxInt, true
	}
	return 1 + n*child, true
}

// shapeStats measures an operation. Fragments are followed (once per path,
// so a cycle cannot loop); introspection fields do not count towards depth.
type shapeStats struct {
	depth, aliases, directives int
	visits                     int
	// introspection is the depth inside a __schema or __type tree (0
	// outside), introspectionDepth the deepest seen.
	introspection, introspectionDepth int
}

// maxIntrospectionDepth admits graphql-js's standard introspection query
// (depth 11: __schema types fields type and seven ofType) with room to spare,
// and refuses ofType chains built to exhaust the server.
const maxIntrospectionDepth = 15

// maxSelectionVisits bounds the walk: fragments spread repeatedly inside
// each other expand exponentially within a small document.
const maxSelectionVisits = 10000

func (s *shapeStats) walk(set ast.SelectionSet, depth int, inFragments map[string]bool) {
	for _, sel := range set {
		if s.visits++; s.visits > maxSelectionVisits {
			return
		}
		switch sel := sel.(type) {
		case *ast.Field:
			s.directives += len(sel.Directives)
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.aliases++
			}
			switch {
			case s.introspection > 0:
				s.introspection++
				s.introspectionDepth = max(s.introspectionDepth, s.introspection)
				s.walk(sel.SelectionSet, depth, inFragments)
				s.introspection--
			case strings.HasPrefix(sel.Name, "__") && sel.SelectionSet != nil:
				// __schema and __type trees nest deeply by design (ofType
				// chains); they get a limit of their own.
				s.introspection = 1
				s.introspectionDepth = max(s.introspectionDepth, 1)
				s.walk(sel.SelectionSet, depth, inFragments)
				s.introspection = 0
			default:
				s.depth = max(s.depth, depth)
				s.walk(sel.SelectionSet, depth+1, inFragments)
			}
		case *ast.InlineFragment:
			s.directives += len(sel.Directives)
			s.walk(sel.SelectionSet, depth, inFragments)
		case *ast.FragmentSpread:
			s.directives += len(sel.Directives)
			if sel.Definition == nil || inFragments[sel.Name] {
				continue
			}
			inFragments[sel.Name] = true
			s.walk(sel.Definition.SelectionSet, depth, inFragments)
			delete(inFragments, sel.Name)
		}
	}
}

// checkRepresentation finds what gqlgen's federation runtime would fail on
// as an internal error: a representation that is not an object, or whose
// __typename is not a string, or whose id (the key of Call, the one
// entity) is not a string or a number. A missing field or an unknown type
// is the runtime's to report, as BAD_USER_INPUT too.
func checkRepresentation(i int, rep any) string {
	obj, ok := rep.(map[string]any)
	if !ok {
		return fmt.Sprintf("representation %d is not an object", i)
	}
	if t, ok := obj["__typename"]; ok {
		if _, ok := t.(string); !ok {
			return fmt.Sprintf("the __typename of representation %d is not a string", i)
		}
	}
	switch obj["id"].(type) {
	case nil, string, json.Number, int, int64, float64:
		return ""
	default:
		return fmt.Sprintf("the id of representation %d is not a string or a number", i)
	}
}
