// Package graph holds the GraphQL contract; its subpackages implement it.
package graph

import _ "embed"

// SDL is the schema as written in schema.graphqls, for `go run . schema`.
//
//go:embed schema.graphqls
var SDL string
