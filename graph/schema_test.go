package graph

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestClientSDLIsACompleteSchemaWithoutFederation(t *testing.T) {
	t.Parallel()
	sdl, err := ClientSDL()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "client.graphqls", Input: sdl})
	if err != nil {
		t.Fatalf("client SDL does not load on its own: %v", err)
	}
	if schema.Query.Fields.ForName("calls") == nil || schema.Types["CallAttempt"] == nil {
		t.Fatal("client SDL lost part of the API")
	}
	for _, d := range []string{"@link(", "@key(", "@shareable"} {
		for _, line := range strings.Split(sdl, "\n") {
			trimmed := strings.TrimSpace(line)
			if strings.Contains(trimmed, d) && !strings.Contains(trimmed, "`") {
				t.Fatalf("client SDL still uses %s: %q", d, trimmed)
			}
		}
	}
	if !strings.Contains(SDL, `@key(fields: "id")`) {
		t.Fatal("the subgraph SDL lost its @key")
	}
}

// Every type, field, argument, input field and enum value of the schema has
// a description: GraphiQL's Docs pane and code generators show them.
func TestEverythingIsDescribed(t *testing.T) {
	t.Parallel()
	sdl, err := ClientSDL()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "client.graphqls", Input: sdl})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range schema.Types {
		if d.BuiltIn || strings.HasPrefix(d.Name, "__") {
			continue
		}
		if d.Description == "" {
			t.Errorf("type %s has no description", d.Name)
		}
		for _, f := range d.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if f.Description == "" {
				t.Errorf("%s.%s has no description", d.Name, f.Name)
			}
			for _, a := range f.Arguments {
				if a.Description == "" {
					t.Errorf("argument %s.%s(%s) has no description", d.Name, f.Name, a.Name)
				}
			}
		}
		for _, v := range d.EnumValues {
			if v.Description == "" {
				t.Errorf("enum value %s.%s has no description", d.Name, v.Name)
			}
		}
	}
}
