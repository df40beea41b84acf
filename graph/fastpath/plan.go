package fastpath

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Plan is how the objects of one type are written for one selection: the
// selected fields in the order gqlgen writes them.
type Plan struct {
	Fields []Field
	// Fallbacks is the number of fields answered by gqlgen's field
	// functions: each object carries that many Marshalers.
	Fallbacks int
	// Check is set when objects must be checked before they are written
	// (a field whose value can be an error, a nested object to look into).
	Check bool
}

// Field is one selected field of a plan.
type Field struct {
	// Key is the field's response key, quoted, and a colon.
	Key []byte
	// Kind says which field of the type this is (the generated constants
	// of each type).
	Kind int
	// Fallback is set when gqlgen's field function answers the field.
	Fallback bool
	// Collected is the field as gqlgen collected it, what a fallback
	// passes to gqlgen's field function; nil for the others.
	Collected *graphql.CollectedField
	// Args are the field's arguments, in the order of the schema.
	Args []any
	// Sub is the plan of a nested fast-path object or list.
	Sub *Plan
}

// NewPlan returns a plan with room for n fields.
func NewPlan(n int) *Plan { return &Plan{Fields: make([]Field, 0, n)} }

// Add appends f to the plan's fields, counting it if it is a fallback.
func (p *Plan) Add(f Field) {
	if f.Fallback {
		p.Fallbacks++
	}
	p.Fields = append(p.Fields, f)
}

// Collect is graphql.CollectFields, refusing (ok false) @defer and fields
// that share an alias, which gqlgen's field sets merge in ways a plan does
// not follow.
func Collect(oc *graphql.OperationContext, sel ast.SelectionSet, implementors []string) (fields []graphql.CollectedField, ok bool) {
	fields = graphql.CollectFields(oc, sel, implementors)
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

// FieldKey is the response key of alias as a plan writes it: "alias":.
func FieldKey(alias string) []byte {
	return append(AppendString(nil, alias), ':')
}

// FieldKeys are the FieldKey of each of names, made once: a field not
// aliased is keyed by its name, and compiling a plan then allocates no key.
func FieldKeys(names ...string) [][]byte {
	keys := make([][]byte, len(names))
	for i, n := range names {
		keys[i] = FieldKey(n)
	}
	return keys
}

// KeyFor is the response key of f, collected as c: keys[kind] when f is
// not aliased.
func (f *Field) KeyFor(c *graphql.CollectedField, keys [][]byte) []byte {
	if c.Alias == c.Name {
		return keys[f.Kind]
	}
	return FieldKey(c.Alias)
}
