package gateway_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/internal/telemetry"
)

// TestEveryCodeHasALabelOfItsOwn: an operator reads refusals and errors by
// extensions.code in the metrics; a code the gateway answers but the
// metrics fold into OTHER is invisible there. The codes are read from the
// package's Code* constants, so a new one cannot be forgotten.
func TestEveryCodeHasALabelOfItsOwn(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if !strings.HasPrefix(id.Name, "Code") || i >= len(spec.Values) {
					continue
				}
				if lit, ok := spec.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					codes = append(codes, v)
				}
			}
			return true
		})
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d Code constants: %v", len(codes), codes)
	}
	for _, code := range codes {
		tel := telemetry.New()
		tel.Refused(code)
		if n := refused(t, tel, code); n != 1 {
			t.Errorf("code %s is counted under another label (refused{code=%s} = %v)", code, code, n)
		}
	}
}
