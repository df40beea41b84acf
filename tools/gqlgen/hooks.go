package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// insertHooks makes gqlgen's object and list marshalers of the fast-path
// types try the fast path first, and the query's data buffer start at the
// size of the last response to it. Every place is found by parsing
// generated.go for functions whose names derive from codegen.Data, with
// their signatures checked: when gqlgen changes, the error names what is
// missing. It returns the list marshalers found (gqlgen writes only those
// the schema uses).
func insertHooks(filename string, m *model) (map[string]bool, error) {
	src, err := os.ReadFile(filename)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filename, src, 0)
	if err != nil {
		return nil, err
	}
	g := &genFile{fset: fset, file: file, funcs: map[string]*ast.FuncDecl{}, vars: map[string]bool{}, imports: map[string]string{}}
	g.index()
	var edits []edit
	var missing []string
	for _, t := range m.types {
		name := "_" + t.name
		fd, err := g.method(name, "ctx context.Context", "sel ast.SelectionSet", "obj *"+g.typeString(t.goType))
		if err != nil {
			missing = append(missing, err.Error())
			continue
		}
		edits = append(edits, g.atTop(fd, fmt.Sprintf("\tif m := ec.fast%s(ctx, sel, obj); m != nil {\n\t\treturn m\n\t}\n", t.name)))
		if impl := implementorsVar(t.name); !g.vars[impl] {
			missing = append(missing, "var "+impl)
		}
		for _, f := range t.fields {
			if f.typename {
				continue
			}
			if f.fallback() || f.nested != nil {
				fn := "_" + t.name + "_" + f.f.Name
				if _, err := g.method(fn, "ctx context.Context", "field graphql.CollectedField", "obj *"+g.typeString(t.goType)); err != nil {
					missing = append(missing, err.Error())
				}
			}
			if len(f.args) > 0 {
				if _, ok := g.funcs[f.f.ArgsFunc()]; !ok {
					missing = append(missing, "func (ec *executionContext) "+f.f.ArgsFunc())
				}
			}
		}
	}
	found := map[string]bool{}
	for _, l := range m.lists {
		if _, ok := g.funcs[l.fn]; !ok {
			continue // a list type gqlgen writes no marshaler for
		}
		fd, err := g.method(l.fn, "ctx context.Context", "sel ast.SelectionSet", "v "+g.typeString(l.ref.GO))
		if err != nil {
			missing = append(missing, err.Error())
			continue
		}
		if _, ok := g.funcs[l.elemFn]; !ok {
			missing = append(missing, "func (ec *executionContext) "+l.elemFn)
			continue
		}
		found[l.fn] = true
		edits = append(edits, g.atTop(fd, fmt.Sprintf("\tif m := ec.fast_%s(ctx, sel, v); m != nil {\n\t\treturn m\n\t}\n", l.fn)))
	}
	buf, err := g.responseBuffer()
	if err != nil {
		missing = append(missing, err.Error())
	}
	edits = append(edits, buf...)
	if len(missing) > 0 {
		return nil, errors.New("not found: " + strings.Join(missing, "; "))
	}
	slices.SortFunc(edits, func(a, b edit) int { return b.at - a.at })
	for _, e := range edits {
		src = slices.Concat(src[:e.at], []byte(e.text), src[e.end:])
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("hooked file does not parse: %w", err)
	}
	return found, os.WriteFile(filename, out, 0o644)
}

// implementorsVar is the variable of gqlgen's object template listing the
// types a selection of typ is collected for.
func implementorsVar(typ string) string {
	return strings.ToLower(typ[:1]) + typ[1:] + "Implementors"
}

// edit replaces src[at:end] with text.
type edit struct {
	at, end int
	text    string
}

// genFile is the parsed generated.go.
type genFile struct {
	fset    *token.FileSet
	file    *ast.File
	funcs   map[string]*ast.FuncDecl // methods of *executionContext and *executableSchema, by name
	vars    map[string]bool
	imports map[string]string // path -> name
}

func (g *genFile) index() {
	for _, imp := range g.file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := path.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		g.imports[p] = name
	}
	for _, d := range g.file.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil {
				g.funcs[d.Name.Name] = d
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				if vs, ok := s.(*ast.ValueSpec); ok {
					for _, n := range vs.Names {
						g.vars[n.Name] = true
					}
				}
			}
		}
	}
}

// typeString writes t as generated.go spells it, with its import names.
func (g *genFile) typeString(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if name, ok := g.imports[p.Path()]; ok {
			return name
		}
		return p.Name()
	})
}

// method is the method of *executionContext called name, if its
// parameters are params and its result graphql.Marshaler.
func (g *genFile) method(name string, params ...string) (*ast.FuncDecl, error) {
	want := "func (ec *executionContext) " + name + "(" + strings.Join(params, ", ") + ") graphql.Marshaler"
	fd, ok := g.funcs[name]
	if !ok || fd.Body == nil {
		return nil, errors.New(want)
	}
	var got []string
	for _, p := range fd.Type.Params.List {
		for _, n := range p.Names {
			got = append(got, n.Name+" "+types.ExprString(p.Type))
		}
	}
	var res []string
	if fd.Type.Results != nil {
		for _, r := range fd.Type.Results.List {
			res = append(res, types.ExprString(r.Type))
		}
	}
	recv := types.ExprString(fd.Recv.List[0].Type)
	if recv != "*executionContext" || !slices.Equal(got, params) || !slices.Equal(res, []string{"graphql.Marshaler"}) {
		return nil, fmt.Errorf("%s (found %s(%s) %s)", want, name, strings.Join(got, ", "), strings.Join(res, ", "))
	}
	return fd, nil
}

// atTop inserts text at the top of fd's body.
func (g *genFile) atTop(fd *ast.FuncDecl, text string) edit {
	at := g.fset.Position(fd.Body.Lbrace).Offset + 1
	return edit{at: at, end: at, text: "\n" + strings.TrimSuffix(text, "\n")}
}

// responseBuffer finds, in executableSchema.Exec, the query's data buffer
// (var buf bytes.Buffer ... response.Data = buf.Bytes()) and makes it start
// at the size of the last response to the same operation.
func (g *genFile) responseBuffer() ([]edit, error) {
	const want = "in (*executableSchema).Exec: one `var buf bytes.Buffer` followed by `response.Data = buf.Bytes()`"
	fd, ok := g.funcs["Exec"]
	if !ok || types.ExprString(fd.Recv.List[0].Type) != "*executableSchema" {
		return nil, errors.New(want)
	}
	var edits []edit
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		block, ok := n.(*ast.BlockStmt)
		if !ok {
			return true
		}
		for i, s := range block.List {
			if !isBufDecl(s) {
				continue
			}
			for _, later := range block.List[i+1:] {
				if isDataAssign(later) {
					edits = append(edits,
						edit{at: g.offset(s.End()), end: g.offset(s.End()), text: " = responseBuffer(opCtx)"},
						edit{at: g.offset(later.End()), end: g.offset(later.End()), text: "\nrememberResponseSize(opCtx, buf.Len())"})
					break
				}
			}
		}
		return true
	})
	if len(edits) != 2 {
		return nil, errors.New(want)
	}
	return edits, nil
}

func (g *genFile) offset(p token.Pos) int { return g.fset.Position(p).Offset }

// isBufDecl reports whether s is `var buf bytes.Buffer`.
func isBufDecl(s ast.Stmt) bool {
	ds, ok := s.(*ast.DeclStmt)
	if !ok {
		return false
	}
	gd, ok := ds.Decl.(*ast.GenDecl)
	if !ok || gd.Tok != token.VAR || len(gd.Specs) != 1 {
		return false
	}
	vs, ok := gd.Specs[0].(*ast.ValueSpec)
	return ok && len(vs.Names) == 1 && vs.Names[0].Name == "buf" && len(vs.Values) == 0 &&
		vs.Type != nil && types.ExprString(vs.Type) == "bytes.Buffer"
}

// isDataAssign reports whether s is `response.Data = buf.Bytes()`.
func isDataAssign(s ast.Stmt) bool {
	as, ok := s.(*ast.AssignStmt)
	if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
		return false
	}
	var lhs, rhs bytes.Buffer
	lhs.WriteString(types.ExprString(as.Lhs[0]))
	rhs.WriteString(types.ExprString(as.Rhs[0]))
	return lhs.String() == "response.Data" && rhs.String() == "buf.Bytes()"
}
