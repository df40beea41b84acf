package main

import (
	"fmt"
	"go/ast"
	"go/types"
	"reflect"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/codegen/config"
)

// upstreamFields maps each GraphQL field of t to the upstream JSON keys it
// reads: a field bound to a struct field reads that field's json key; one
// bound to a method reads the receiver's fields the method body touches,
// through the receiver's other methods too (static analysis of the
// packages gqlgen loaded). Anything else (a resolver, a method using its
// receiver other than by selecting fields and methods, a field without a
// json tag) reads every field.
func upstreamFields(cfg *config.Config, t *fpType, u upstreamMap) (*fpMap, error) {
	named, ok := t.goType.(*types.Named)
	if !ok {
		return nil, fmt.Errorf("upstream map of %s: bound to %s, not a named struct", t.name, t.goType)
	}
	st, ok := named.Underlying().(*types.Struct)
	if !ok {
		return nil, fmt.Errorf("upstream map of %s: %s is not a struct", t.name, named)
	}
	tags := map[string]string{}
	for i := range st.NumFields() {
		key, _, _ := strings.Cut(reflect.StructTag(st.Tag(i)).Get("json"), ",")
		if key != "" && key != "-" {
			tags[st.Field(i).Name()] = key
		}
	}
	a := &analyzer{load: func(path string) ([]*ast.File, *types.Info) {
		pkg := cfg.Packages.Load(path)
		if pkg == nil {
			return nil, nil
		}
		return pkg.Syntax, pkg.TypesInfo
	}, named: named, st: st}
	fm := &fpMap{cfg: u, fields: []fpMapEntry{{name: "__typename"}}}
	for _, f := range t.obj.Fields {
		e := fpMapEntry{name: f.Name}
		var goFields []string
		ok := true
		switch {
		case f.Name == "__typename":
		case f.IsResolver:
			ok = false
		case f.IsVariable():
			goFields = []string{f.GoFieldName}
		case f.IsMethod():
			var fields map[string]bool
			fields, ok = a.methodFields(f.GoFieldName, map[string]bool{})
			goFields = slices.Sorted(func(yield func(string) bool) {
				for k := range fields {
					if !yield(k) {
						return
					}
				}
			})
		default:
			ok = false
		}
		for _, gf := range goFields {
			key, tagged := tags[gf]
			if !tagged {
				ok = false
				break
			}
			e.keys = append(e.keys, key)
		}
		if !ok {
			e.keys, e.all = nil, true
		}
		fm.fields = append(fm.fields, e)
	}
	return fm, nil
}

// analyzer finds the struct fields methods of one type read.
type analyzer struct {
	// load is the syntax and type information of a package.
	load  func(path string) ([]*ast.File, *types.Info)
	named *types.Named
	st    *types.Struct
}

// methodFields is the set of the receiver's struct fields method reads,
// through the other methods of the type it calls on its receiver; ok is
// false when that cannot be told.
func (a *analyzer) methodFields(method string, visiting map[string]bool) (fields map[string]bool, ok bool) {
	fields = map[string]bool{}
	if visiting[method] {
		return fields, true
	}
	visiting[method] = true
	files, info := a.load(a.named.Obj().Pkg().Path())
	if info == nil {
		return nil, false
	}
	decl := findMethod(files, a.named.Obj().Name(), method)
	if decl == nil || decl.Body == nil {
		return nil, false
	}
	names := decl.Recv.List[0].Names
	if len(names) == 0 || names[0].Name == "_" {
		return fields, true // the receiver is not used
	}
	recv := info.Defs[names[0]]
	selected := map[*ast.Ident]bool{}
	ok = true
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		sel, isSel := n.(*ast.SelectorExpr)
		if !isSel || !ok {
			return ok
		}
		id, isIdent := sel.X.(*ast.Ident)
		if !isIdent || info.Uses[id] != recv {
			return true
		}
		selected[id] = true
		s := info.Selections[sel]
		switch {
		case s == nil:
			ok = false
		case s.Kind() == types.FieldVal:
			fields[a.st.Field(s.Index()[0]).Name()] = true
		case s.Kind() == types.MethodVal && len(s.Index()) == 1:
			sub, subOK := a.methodFields(sel.Sel.Name, visiting)
			if !subOK {
				ok = false
			}
			for k := range sub {
				fields[k] = true
			}
		default:
			ok = false
		}
		return true
	})
	if !ok {
		return nil, false
	}
	// Any other use of the receiver (passed on, dereferenced) may read
	// anything.
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		if id, isIdent := n.(*ast.Ident); isIdent && info.Uses[id] == recv && !selected[id] {
			ok = false
		}
		return ok
	})
	if !ok {
		return nil, false
	}
	return fields, true
}

// findMethod is the declaration of typeName's method in files.
func findMethod(files []*ast.File, typeName, method string) *ast.FuncDecl {
	for _, file := range files {
		for _, d := range file.Decls {
			fd, isFunc := d.(*ast.FuncDecl)
			if !isFunc || fd.Recv == nil || len(fd.Recv.List) != 1 || fd.Name.Name != method {
				continue
			}
			rt := fd.Recv.List[0].Type
			if star, isStar := rt.(*ast.StarExpr); isStar {
				rt = star.X
			}
			if id, isIdent := rt.(*ast.Ident); isIdent && id.Name == typeName {
				return fd
			}
		}
	}
	return nil
}
