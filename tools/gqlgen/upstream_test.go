package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"slices"
	"testing"
)

const attemptSrc = `package m

type Attempt struct {
	ID        string
	StartedAt int
	EndedAt   int
	Notes     []string
}

func (a *Attempt) Duration() int     { return a.EndedAt - a.StartedAt }
func (a *Attempt) Twice() int        { return a.Duration() * 2 }
func (a *Attempt) Label() string     { return a.ID + a.First() }
func (a *Attempt) First() string     { return a.Notes[0] }
func (a *Attempt) Self() *Attempt    { return a }
func (a *Attempt) Copy() Attempt     { return *a }
func (a *Attempt) Passed() int       { return length(a) }
func (a *Attempt) Constant() int     { return 1 }
func (Attempt) Unnamed() int         { return 2 }
func (a *Attempt) Loop() int         { return a.Loop2() }
func (a *Attempt) Loop2() int        { return a.Loop() + a.StartedAt }

func length(a *Attempt) int { return len(a.Notes) }
`

func TestMethodsReadTheFieldsTheirBodiesSelect(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "m.go", attemptSrc, 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	pkg, err := (&types.Config{}).Check("example.com/m", fset, []*ast.File{file}, info)
	if err != nil {
		t.Fatal(err)
	}
	named := pkg.Scope().Lookup("Attempt").Type().(*types.Named)
	a := &analyzer{
		load:  func(string) ([]*ast.File, *types.Info) { return []*ast.File{file}, info },
		named: named, st: named.Underlying().(*types.Struct),
	}
	for _, c := range []struct {
		method string
		fields []string // nil: cannot be told
	}{
		{"Duration", []string{"EndedAt", "StartedAt"}},
		{"Twice", []string{"EndedAt", "StartedAt"}},
		{"Label", []string{"ID", "Notes"}},
		{"Constant", []string{}},
		{"Unnamed", []string{}},
		{"Loop", []string{"StartedAt"}},
		{"Self", nil},
		{"Copy", nil},
		{"Passed", nil},
		{"Missing", nil},
	} {
		t.Run(c.method+" reads what it selects", func(t *testing.T) {
			got, ok := a.methodFields(c.method, map[string]bool{})
			if c.fields == nil {
				if ok {
					t.Fatalf("read %v; want unknown (every field)", slices.Sorted(maps.Keys(got)))
				}
				return
			}
			if !ok || !slices.Equal(slices.Sorted(maps.Keys(got)), c.fields) {
				t.Fatalf("read %v (known %v), want %v", slices.Sorted(maps.Keys(got)), ok, c.fields)
			}
		})
	}
}
