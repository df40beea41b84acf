package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/graph"
	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/graph/model"
)

// loadSchema parses the client schema (the federation directives are
// declared by gqlgen, not in the SDL).
func loadSchema(t testing.TB) *ast.Schema {
	t.Helper()
	if schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: graph.SDL}); err == nil {
		return schema
	}
	sdl, err := graph.ClientSDL()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "client.graphqls", Input: sdl})
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// everyField selects every field of the schema's type, with the same for
// object fields below it (arguments left at their defaults). It is built
// from the schema, so a field added to a fast-path type is selected here
// at once.
func everyField(t testing.TB, schema *ast.Schema, typ string) string {
	t.Helper()
	def := schema.Types[typ]
	if def == nil {
		t.Fatalf("no type %s in the schema", typ)
	}
	var parts []string
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		if sub := schema.Types[f.Type.Name()]; sub.Kind == ast.Object {
			parts = append(parts, f.Name+" { "+everyField(t, schema, sub.Name)+" }")
			continue
		}
		parts = append(parts, f.Name)
	}
	return strings.Join(parts, " ")
}

// variants selects every field of typ again under aliases (aN_field),
// under @include/@skip on $yes and $no, and, for each field with
// arguments, once per argument set to a variable of the operation; nested
// objects are selected through fragments. vars collects the variables'
// declarations and values (two values each: sets[0] and sets[1]).
type variants struct {
	schema *ast.Schema
	decls  []string
	sets   [2]map[string]any
	frags  []string
}

func newVariants(schema *ast.Schema) *variants {
	v := &variants{schema: schema, decls: []string{"$yes: Boolean!", "$no: Boolean!"}}
	v.sets[0] = map[string]any{"yes": true, "no": false}
	v.sets[1] = map[string]any{"yes": false, "no": true}
	return v
}

func (v *variants) of(t testing.TB, typ string) string {
	t.Helper()
	def := v.schema.Types[typ]
	parts := []string{"__typename", "a0___typename: __typename"}
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		sub := ""
		if st := v.schema.Types[f.Type.Name()]; st.Kind == ast.Object {
			frag := "F" + st.Name + fmt.Sprint(len(v.frags))
			v.frags = append(v.frags, "") // reserve the name before recursing
			i := len(v.frags) - 1
			v.frags[i] = "fragment " + frag + " on " + st.Name + " { " + v.of(t, st.Name) + " }"
			sub = " { ..." + frag + " ... on " + st.Name + " { b_" + st.Name + ": __typename } }"
		}
		parts = append(parts,
			"a1_"+f.Name+": "+f.Name+" @include(if: $yes)"+sub,
			"a2_"+f.Name+": "+f.Name+" @skip(if: $no)"+sub,
		)
		for j, arg := range f.Arguments {
			name := f.Name + "_" + arg.Name
			vals, ok := argValues(v.schema, arg.Type)
			if !ok {
				t.Fatalf("%s.%s(%s: %s): no test values for that argument type; add them to argValues", typ, f.Name, arg.Name, arg.Type)
			}
			if _, declared := v.sets[0][name]; !declared {
				v.decls = append(v.decls, "$"+name+": "+arg.Type.String())
				v.sets[0][name], v.sets[1][name] = vals[0], vals[1]
			}
			parts = append(parts, fmt.Sprintf("a%d_%s: %s(%s: $%s)%s", 3+j, f.Name, f.Name, arg.Name, name, sub))
		}
	}
	return strings.Join(parts, " ")
}

// argValues are two values of a GraphQL input type: an ordinary one and an
// edge (null, zero, a single member, a negative the executor refuses).
func argValues(schema *ast.Schema, typ *ast.Type) ([2]any, bool) {
	// Members an input may name (OTHER only answers).
	members := func(def *ast.Definition) []string {
		var out []string
		for _, v := range def.EnumValues {
			if v.Name != model.Other {
				out = append(out, v.Name)
			}
		}
		return out
	}
	if typ.Elem != nil {
		if def := schema.Types[typ.Elem.Name()]; def != nil && def.Kind == ast.Enum && len(members(def)) > 1 {
			m := members(def)
			return [2]any{[]string{m[len(m)-1], m[0]}, nil}, true
		}
		return [2]any{}, false
	}
	switch typ.Name() {
	case "Int":
		return [2]any{2, -1}, true
	case "Boolean":
		return [2]any{true, false}, true
	case "String", "ID":
		return [2]any{"x", ""}, true
	}
	if def := schema.Types[typ.Name()]; def != nil && def.Kind == ast.Enum && len(members(def)) > 1 {
		m := members(def)
		return [2]any{m[0], m[len(m)-1]}, true
	}
	return [2]any{}, false
}

// fastPathObjects counts the objects of the fast-path types in a response
// value of type typ, by walking it with the schema (response keys are
// field names, or aN_/b_ aliases of them), and notes the types seen.
func fastPathObjects(schema *ast.Schema, typ string, value any, seen map[string]bool) int64 {
	switch v := value.(type) {
	case []any:
		var n int64
		for _, e := range v {
			n += fastPathObjects(schema, typ, e, seen)
		}
		return n
	case map[string]any:
		var n int64
		if slices.Contains(generated.FastPathTypes, typ) {
			n, seen[typ] = 1, true
		}
		def := schema.Types[typ]
		for key, fv := range v {
			name := key
			if i := strings.Index(key, "_"); i > 0 && (key[0] == 'a' || key[0] == 'b') && def.Fields.ForName(key) == nil {
				name = key[i+1:]
			}
			f := def.Fields.ForName(name)
			if f == nil {
				continue // __typename
			}
			if sub := schema.Types[f.Type.Name()]; sub.Kind == ast.Object {
				n += fastPathObjects(schema, sub.Name, fv, seen)
			}
		}
		return n
	}
	return 0
}
