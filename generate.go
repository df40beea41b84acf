package main

// The GraphQL executor (graph/generated) and its fast path are generated
// from gqlgen.yml and the schema.
//go:generate go run ./tools/gqlgen
