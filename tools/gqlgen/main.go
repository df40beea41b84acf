// Command gqlgen regenerates the GraphQL executor: gqlgen's own generation
// (the version pinned in go.mod, configured by gqlgen.yml), then one
// rewrite of its output: list elements are marshalled sequentially rather
// than one goroutine each (see graph/generated/sequential.go).
//
//	go run ./tools/gqlgen
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen/config"
)

const (
	concurrent = "graphql.MarshalSliceConcurrently("
	sequential = "marshalSliceSequentially("
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		return err
	}
	if err := api.Generate(cfg); err != nil {
		return err
	}
	path := cfg.Exec.Filename
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n := bytes.Count(src, []byte(concurrent))
	if n == 0 {
		return fmt.Errorf("%s has no %s call: has gqlgen changed? revisit tools/gqlgen", path, concurrent)
	}
	out := bytes.ReplaceAll(src, []byte(concurrent), []byte(sequential))
	return os.WriteFile(path, out, 0o644)
}
