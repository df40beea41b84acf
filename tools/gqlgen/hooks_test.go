package main

import (
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// generatedGo is the shape of gqlgen's generated.go the hooks go into.
const generatedGo = `package generated

import (
	"bytes"
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"example.com/app/model"
)

var callAttemptImplementors = []string{"CallAttempt"}

func (ec *executionContext) _CallAttempt(ctx context.Context, sel ast.SelectionSet, obj *model.CallAttempt) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, callAttemptImplementors)
	return fields
}

func (e *executableSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	return func(ctx context.Context) *graphql.Response {
		var response graphql.Response
		var buf bytes.Buffer
		data.MarshalGQL(&buf)
		response.Data = buf.Bytes()
		return &response
	}
}
`

func testModel() *model {
	pkg := types.NewPackage("example.com/app/model", "model")
	named := types.NewNamed(types.NewTypeName(0, pkg, "CallAttempt", nil), types.NewStruct(nil, nil), nil)
	t := &fpType{name: "CallAttempt", goType: named}
	t.fields = []*fpField{{kind: "fastCallAttemptTypename", typename: true}}
	return &model{types: []*fpType{t}}
}

func TestHooksGoAtTheTopOfTheMarshalersTheyAreNamedFor(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(path, []byte(generatedGo), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := insertHooks(path, testModel()); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(path)
	for _, want := range []string{
		"obj *model.CallAttempt) graphql.Marshaler {\n\tif m := ec.fastCallAttempt(ctx, sel, obj); m != nil {\n\t\treturn m\n\t}\n\tfields :=",
		"var buf bytes.Buffer = responseBuffer(opCtx)\n",
		"response.Data = buf.Bytes()\n\t\trememberResponseSize(opCtx, buf.Len())\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("hooked file lacks %q:\n%s", want, out)
		}
	}
}

func TestHooksFailNamingWhatGqlgenNoLongerWrites(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"an object marshaler renamed", "func (ec *executionContext) _CallAttempt(", "func (ec *executionContext) _CallAttemptObject(",
			"func (ec *executionContext) _CallAttempt(ctx context.Context, sel ast.SelectionSet, obj *model.CallAttempt) graphql.Marshaler"},
		{"an object marshaler with another signature", "sel ast.SelectionSet, obj *model.CallAttempt)", "sel ast.SelectionSet, obj model.CallAttempt)",
			"found _CallAttempt(ctx context.Context, sel ast.SelectionSet, obj model.CallAttempt)"},
		{"the implementors variable renamed", "var callAttemptImplementors", "var callAttemptTypes", "var callAttemptImplementors"},
		{"the response buffer written otherwise", "var buf bytes.Buffer\n", "buf := new(bytes.Buffer)\n", "var buf bytes.Buffer"},
	} {
		t.Run(c.name+" is an error naming it", func(t *testing.T) {
			t.Parallel()
			src := strings.Replace(generatedGo, c.old, c.new, 1)
			if src == generatedGo {
				t.Fatalf("%q not in the fixture", c.old)
			}
			path := filepath.Join(t.TempDir(), "generated.go")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := insertHooks(path, testModel())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming %q", err, c.want)
			}
			if out, _ := os.ReadFile(path); string(out) != src {
				t.Fatal("the file was changed")
			}
		})
	}
}
