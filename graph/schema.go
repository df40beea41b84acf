// Package graph holds the GraphQL contract; its subpackages implement it.
package graph

import (
	"bytes"
	_ "embed"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// SDL is the schema as written in schema.graphqls: the subgraph's
// _service.sdl, printed by `go run . schema --federation`.
//
//go:embed schema.graphqls
var SDL string

// federationDirectives are the directives SDL imports from the federation
// spec; they mean nothing to a client.
var federationDirectives = []string{"key", "shareable", "link"}

// ClientSDL is SDL without its federation link and directives: a complete
// schema that client code generators and graphql-js read on their own.
func ClientSDL() (string, error) {
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphqls", Input: SDL})
	if err != nil {
		return "", err
	}
	keep := func(list ast.DirectiveList) ast.DirectiveList {
		return slices.DeleteFunc(list, func(d *ast.Directive) bool { return slices.Contains(federationDirectives, d.Name) })
	}
	doc.SchemaExtension = nil
	for _, defs := range []ast.DefinitionList{doc.Definitions, doc.Extensions} {
		for _, def := range defs {
			def.Directives = keep(def.Directives)
			for _, f := range def.Fields {
				f.Directives = keep(f.Directives)
			}
		}
	}
	var buf bytes.Buffer
	formatter.NewFormatter(&buf).FormatSchemaDocument(doc)
	return buf.String(), nil
}
