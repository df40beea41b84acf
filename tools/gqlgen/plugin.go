package main

import (
	"fmt"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/99designs/gqlgen/codegen/templates"
	"github.com/99designs/gqlgen/plugin"
	"github.com/vektah/gqlparser/v2/ast"
)

// fastPathPlugin is the fast path's gqlgen plugin: from codegen.Data it works out,
// for each field of each fast-path type, how the fast path writes it (or
// that gqlgen's field function must), and which upstream JSON keys it reads.
type fastPathPlugin struct {
	types    []string
	upstream []upstreamMap
	warn     io.Writer
	model    *model
}

var _ plugin.CodeGenerator = (*fastPathPlugin)(nil)

// Name implements plugin.Plugin.
func (*fastPathPlugin) Name() string { return "fastpath" }

// model is what fastpath_gen.go is rendered from.
type model struct {
	pkgPath string // of the generated package
	types   []*fpType
	lists   []*fpList
	maps    []*fpMap
	imports *importSet
	memo    []string // Go types of the slots of fastMemo
}

// fpType is one fast-path object type.
type fpType struct {
	obj    *codegen.Object
	name   string // GraphQL name
	goType types.Type
	fields []*fpField
}

// fpField is one field of a fast-path type.
type fpField struct {
	f        *codegen.Field
	kind     string // constant naming the field
	typename bool   // __typename
	// write is the statement appending the value v to b; empty when
	// gqlgen's field function answers the field (fallback).
	write string
	// value is the expression of the field's value for obj (args from f).
	value  string
	hasErr bool // value is (v, err)
	// checked is set when objects are checked for this field before they
	// are written: its value may be an error (hasErr), or checkBody has
	// statements about the value v (returning 0, false on values gqlgen
	// reports as errors, adding nested objects to the count).
	checked   bool
	checkBody string
	// memo is the slot of fastMemo the value is kept in between its check
	// and its writing, -1 for none (struct fields are read twice).
	memo int
	// nested is the fast-path type of a nested object or list.
	nested *fpType
	args   []string // Go types of the arguments, in order
	// noValue is set when write reads obj, not v.
	noValue bool
	why     string // why the field is a fallback
}

func (f *fpField) fallback() bool { return f.write == "" && !f.typename }

// fpList is a list marshaler of generated.go that gets a hook.
type fpList struct {
	typ      *fpType
	ref      *config.TypeReference
	fn       string // marshal function of the list
	elemFn   string // marshal function of one element
	elemPtr  bool
	nullable bool // the list itself may be null
	nonNull  bool // the elements are non-null
}

// fpMap is a generated map from fields to upstream fields.
type fpMap struct {
	cfg    upstreamMap
	fields []fpMapEntry
}

type fpMapEntry struct {
	name string
	keys []string // nil: every field
	all  bool
}

// GenerateCode implements plugin.CodeGenerator. It runs before gqlgen
// writes generated.go: it builds the model, and main renders it once
// generated.go is there to hook into.
func (p *fastPathPlugin) GenerateCode(data *codegen.Data) error {
	m := &model{pkgPath: data.Config.Exec.ImportPath(), imports: newImportSet(data.Config.Exec.ImportPath())}
	byName := map[string]*fpType{}
	for _, name := range p.types {
		obj := data.Objects.ByName(name)
		if obj == nil {
			return fmt.Errorf("fast path type %s is not an object of the schema", name)
		}
		t := &fpType{obj: obj, name: name, goType: obj.Type}
		byName[name] = t
		m.types = append(m.types, t)
	}
	for _, t := range m.types {
		// gqlgen answers __typename itself; it is no field of the object.
		t.fields = append(t.fields, &fpField{
			f:    &codegen.Field{FieldDefinition: &ast.FieldDefinition{Name: "__typename"}},
			kind: "fast" + t.name + "Typename", typename: true, memo: -1,
		})
		for _, f := range t.obj.Fields {
			ff := p.field(m, byName, t, f)
			if ff.fallback() {
				fmt.Fprintf(p.warn, "fastpath: %s.%s is written by gqlgen's field function, not the fast path: %s\n", t.name, f.Name, ff.why)
			}
			t.fields = append(t.fields, ff)
		}
	}
	// Values of methods checked before writing are kept for the writing,
	// one slot of fastMemo per Go type.
	for _, t := range m.types {
		for _, f := range t.fields {
			if f.checked && !f.fallback() && f.f.IsMethod() {
				typ := m.imports.typeString(f.f.TypeReference.GO)
				i := slices.Index(m.memo, typ)
				if i < 0 {
					i = len(m.memo)
					m.memo = append(m.memo, typ)
				}
				f.memo = i
			}
		}
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range data.ReferencedTypes {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		ref := data.ReferencedTypes[k]
		if ref.Definition == nil || byName[ref.Definition.Name] == nil || !ref.IsSlice() || ref.GQL.Elem == nil || ref.GQL.Elem.Elem != nil {
			continue
		}
		elem := ref.Elem()
		m.lists = append(m.lists, &fpList{
			typ: byName[ref.Definition.Name], ref: ref, fn: ref.MarshalFunc(), elemFn: elem.MarshalFunc(),
			elemPtr: elem.IsPtr(), nullable: !ref.GQL.NonNull, nonNull: ref.GQL.Elem.NonNull,
		})
	}
	for _, u := range p.upstream {
		t := byName[u.Type]
		if t == nil {
			return fmt.Errorf("upstream map of %s: not a fast path type", u.Type)
		}
		fm, err := upstreamFields(data.Config, t, u)
		if err != nil {
			return err
		}
		m.maps = append(m.maps, fm)
	}
	p.model = m
	src, err := renderFields(m)
	if err != nil {
		return err
	}
	return os.WriteFile(fieldsFilename(data.Config), src, 0o644)
}

// field works out how the fast path writes f.
func (p *fastPathPlugin) field(m *model, byName map[string]*fpType, t *fpType, f *codegen.Field) *fpField {
	ff := &fpField{f: f, kind: "fast" + t.name + templates.ToGo(f.Name), memo: -1}
	if f.Name == "__typename" {
		ff.kind = "fast" + t.name + "Typename"
		ff.typename = true
		return ff
	}
	switch {
	case f.IsResolver:
		ff.why = "it has a resolver"
		return ff
	case len(f.ImplDirectives()) > 0:
		ff.why = "it has directives"
		return ff
	case f.IsMethod() && f.MethodHasContext:
		ff.why = "its method takes a context"
		return ff
	case f.IsMethod():
		var args []string
		for i, a := range f.Args {
			ff.args = append(ff.args, m.imports.typeString(a.TypeReference.GO))
			args = append(args, fmt.Sprintf("f.Args[%d].(%s)", i, ff.args[i]))
		}
		ff.value = "obj." + f.GoFieldName + "(" + strings.Join(args, ", ") + ")"
		ff.hasErr = !f.NoErr
		if f.VOkFunc {
			ff.why = "its method returns (value, ok)"
			return ff
		}
	case f.IsVariable():
		ff.value = "obj." + f.GoFieldName
	default:
		ff.why = "it is bound to a map"
		return ff
	}
	if ff.hasErr {
		ff.checked = true
	}
	w, why := p.writer(m, byName, t, f, ff)
	if w == "" {
		ff.why = why
		ff.checked, ff.checkBody = false, ""
		return ff
	}
	ff.write = w
	return ff
}

// writer is the statement appending the value v of f to b, chosen from its
// Go and GraphQL types; empty, with the reason, when the fast path cannot
// write it. It sets ff's check and nested when the value needs them.
func (p *fastPathPlugin) writer(m *model, byName map[string]*fpType, t *fpType, f *codegen.Field, ff *fpField) (string, string) {
	ref := f.TypeReference
	gql := ref.GQL
	goType := ref.GO
	imp := m.imports
	if gql.Elem != nil {
		return p.listWriter(m, byName, f, ff)
	}
	def := ref.Definition
	nonNull := gql.NonNull
	ptr, isPtr := goType.(*types.Pointer)
	if isPtr && nonNull && !(def.Kind == ast.Object && byName[def.Name] != nil) {
		return "", "a pointer bound to a non-null type"
	}
	base := goType
	if isPtr {
		base = ptr.Elem()
	}
	opt := func(appendFn string) string {
		if isPtr {
			return "b = fastpath.AppendOpt(b, v, " + appendFn + ")\n"
		}
		return "b = " + appendFn + "(b, v)\n"
	}
	basic := func(kind types.BasicKind) bool {
		b, ok := base.(*types.Basic)
		return ok && b.Kind() == kind && types.Identical(base, types.Typ[kind])
	}
	switch {
	case def.Kind == ast.Object && byName[def.Name] != nil:
		nt := byName[def.Name]
		ff.nested = nt
		if !isPtr {
			if !f.IsVariable() {
				return "", "a nested object returned by value"
			}
			ff.checkValue("n, ok := ec.fastCheck" + nt.name + "(f.Sub, &v, m)\nif !ok {\n\treturn 0, false\n}\nobjects += n\n")
			return "b = ec.fastAppend" + nt.name + "(b, f.Sub, &v, nil, m)\n", ""
		}
		onNil := "continue"
		if nonNull {
			onNil = "return 0, false"
		}
		ff.checkValue("if v == nil {\n\t" + onNil + "\n}\nn, ok := ec.fastCheck" + nt.name + "(f.Sub, v, m)\nif !ok {\n\treturn 0, false\n}\nobjects += n\n")
		return "if v == nil {\n\tb = fastpath.AppendNull(b)\n} else {\n\tb = ec.fastAppend" + nt.name + "(b, f.Sub, v, nil, m)\n}\n", ""
	case def.Kind == ast.Enum:
		if ref.Marshaler == nil {
			return "", "an enum without a marshal function"
		}
		appendFn, ok := appendFuncFor(ref, base)
		if !ok {
			return "", fmt.Sprintf("%s has no Append%s([]byte, %s) []byte beside %s", ref.Marshaler.Pkg().Path(), def.Name, imp.typeString(base), ref.Marshaler.Name())
		}
		return opt(imp.qualify(appendFn.Pkg(), appendFn.Name())), ""
	case def.Name == "String" || def.Name == "ID":
		if basic(types.String) {
			if !isPtr && f.IsMethod() && hasAppendTo(t.goType, f.GoFieldName) {
				ff.noValue = true
				return "b = append(b, '\"')\nstart := len(b)\nb = obj.Append" + f.GoFieldName + "To(b)\nb = fastpath.CloseString(b, start)\n", ""
			}
			return opt("fastpath.AppendString"), ""
		}
	case def.Name == "Boolean":
		if basic(types.Bool) {
			return opt("fastpath.AppendBoolean"), ""
		}
	case def.Name == "Int":
		if basic(types.Int) {
			return opt("fastpath.AppendInt"), ""
		}
	case def.Name == "Float":
		if basic(types.Float64) {
			c := "if !fastpath.IsFinite(v) {\n\treturn 0, false\n}\n"
			if isPtr {
				c = "if v != nil && !fastpath.IsFinite(*v) {\n\treturn 0, false\n}\n"
			}
			ff.checkValue(c)
			return opt("fastpath.AppendFloat"), ""
		}
	default:
		if w, ok := scalarWriters[types.TypeString(goType, nil)]; ok {
			if nonNull {
				return "", "a non-null " + def.Name + ", which may marshal to null"
			}
			return "b = " + w + "(b, v)\n", ""
		}
	}
	return "", fmt.Sprintf("the fast path has no writer for %s bound to %s", gql.String(), types.TypeString(goType, nil))
}

// scalarWriters write custom scalars that marshal to null for some values:
// Go type -> the fast path's function.
var scalarWriters = map[string]string{
	"github.com/revox-graphql/gateway/internal/revox.Time": "fastpath.AppendDateTime",
	"encoding/json.RawMessage":                             "fastpath.AppendJSON",
}

// listWriter is writer for a list of fast-path objects.
func (p *fastPathPlugin) listWriter(m *model, byName map[string]*fpType, f *codegen.Field, ff *fpField) (string, string) {
	ref := f.TypeReference
	gql := ref.GQL
	nt := byName[ref.Definition.Name]
	if nt == nil && gql.Elem.Elem == nil && (ref.Definition.Name == "String" || ref.Definition.Name == "ID") {
		if sl, ok := ref.GO.(*types.Slice); ok && types.Identical(sl.Elem(), types.Typ[types.String]) {
			return stringListWriter(gql.NonNull), ""
		}
	}
	if nt == nil || gql.Elem.Elem != nil {
		return "", "the fast path writes lists of fast path types and of strings only"
	}
	sl, ok := ref.GO.(*types.Slice)
	if !ok {
		return "", "a list not bound to a slice"
	}
	_, elemPtr := sl.Elem().(*types.Pointer)
	ff.nested = nt
	elem := "e"
	if !elemPtr {
		elem = "&v[j]"
	}
	onNilList, onNilElem := "continue", "continue"
	if gql.NonNull {
		onNilList = "return 0, false"
	}
	if gql.Elem.NonNull {
		onNilElem = "return 0, false"
	}
	loop := "for j := range v {\n"
	if elemPtr {
		loop = "for _, e := range v {\n"
	}
	check := "if v == nil {\n\t" + onNilList + "\n}\n" + loop
	if elemPtr {
		check += "if e == nil {\n\t" + onNilElem + "\n}\n"
	}
	check += "n, ok := ec.fastCheck" + nt.name + "(f.Sub, " + elem + ", m)\nif !ok {\n\treturn 0, false\n}\nobjects += n\n}\n"
	ff.checkValue(check)
	loop = "for j := range v {\n"
	if elemPtr {
		loop = "for j, e := range v {\n"
	}
	w := "if v == nil {\n\tb = fastpath.AppendNull(b)\n\tbreak\n}\nb = append(b, '[')\n" + loop + "if j > 0 {\n\tb = append(b, ',')\n}\n"
	if elemPtr {
		w += "if e == nil {\n\tb = fastpath.AppendNull(b)\n\tcontinue\n}\n"
	}
	w += "b = ec.fastAppend" + nt.name + "(b, f.Sub, " + elem + ", nil, m)\n}\nb = append(b, ']')\n"
	return w, ""
}

// stringListWriter writes a []string bound to [String!] or [ID!]: a nil
// slice is null when the list is nullable, [] otherwise, as gqlgen writes them.
func stringListWriter(nonNull bool) string {
	w := ""
	if !nonNull {
		w = "if v == nil {\n\tb = fastpath.AppendNull(b)\n\tbreak\n}\n"
	}
	return w + "b = append(b, '[')\nfor j, e := range v {\nif j > 0 {\n\tb = append(b, ',')\n}\nb = fastpath.AppendString(b, e)\n}\nb = append(b, ']')\n"
}

// checkValue makes c the check of the field's value v.
func (ff *fpField) checkValue(c string) {
	ff.checked, ff.checkBody = true, c
}

// appendFuncFor finds Append<Name>([]byte, T) []byte beside the marshal
// function of an enum, T being the value type.
func appendFuncFor(ref *config.TypeReference, base types.Type) (*types.Func, bool) {
	pkg := ref.Marshaler.Pkg()
	fn, ok := pkg.Scope().Lookup("Append" + ref.Definition.Name).(*types.Func)
	if !ok {
		return nil, false
	}
	sig := fn.Type().(*types.Signature)
	bytes := types.NewSlice(types.Typ[types.Byte])
	ok = sig.Params().Len() == 2 && sig.Results().Len() == 1 &&
		types.Identical(sig.Params().At(0).Type(), bytes) &&
		types.Identical(sig.Params().At(1).Type(), base) &&
		types.Identical(sig.Results().At(0).Type(), bytes)
	return fn, ok
}

// hasAppendTo reports whether *T has a method Append<name>To([]byte) []byte
// appending what the string method name returns.
func hasAppendTo(t types.Type, name string) bool {
	obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(t), true, nil, "Append"+name+"To")
	fn, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	sig := fn.Type().(*types.Signature)
	bytes := types.NewSlice(types.Typ[types.Byte])
	return sig.Params().Len() == 1 && sig.Results().Len() == 1 &&
		types.Identical(sig.Params().At(0).Type(), bytes) && types.Identical(sig.Results().At(0).Type(), bytes)
}

// genFilename is where fastpath_gen.go goes: beside generated.go.
func genFilename(cfg *config.Config) string {
	return filepath.Join(filepath.Dir(cfg.Exec.Filename), "fastpath_gen.go")
}

// fieldsFilename is where fields_gen.go goes: beside generated.go.
func fieldsFilename(cfg *config.Config) string {
	return filepath.Join(filepath.Dir(cfg.Exec.Filename), "fields_gen.go")
}
