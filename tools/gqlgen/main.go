// Command gqlgen regenerates the GraphQL executor: gqlgen's own generation
// (the version pinned in go.mod, configured by gqlgen.yml) with the fast
// path plugin, which writes graph/generated/fastpath_gen.go from gqlgen's
// codegen.Data and hooks it into the object and list marshalers of
// graph/generated/generated.go (found by parsing the file, not by text).
// The hand-written runtime the generated code calls is graph/fastpath.
//
//	go generate ./...   (runs: go run ./tools/gqlgen)
package main

import (
	"fmt"
	"os"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen/config"
)

// The fast path's configuration, in one place.
var (
	// fastPathTypes are the GraphQL object types the fast path writes,
	// and lists of them. PageInfo through gqlgen's field functions cost 47
	// allocations a request (issue 14). CallAttemptConnection is left to
	// gqlgen: written as one object, its whole list would go through one
	// scratch buffer, never flushed (a 100-attempt page allocated twice
	// its bytes), for 14 allocations saved.
	fastPathTypes = []string{"PageInfo", "CallAttemptEdge", "CallAttempt", "TranscriptEntry"}

	// upstreamMaps are the types whose fields are mapped to the upstream
	// JSON keys they read (look-ahead and projected decoding use the map).
	upstreamMaps = []upstreamMap{{
		Type:  "CallAttempt",
		Var:   "CallAttemptUpstreamFields",
		Set:   "AttemptFields",
		Of:    "AttemptFieldsOf",
		All:   "AllAttemptFields",
		Where: "github.com/revox-graphql/gateway/internal/revox",
	}}
)

// upstreamMap names the generated map of one type and the functions of
// the upstream client it is built with.
type upstreamMap struct {
	Type  string // GraphQL type
	Var   string // generated variable
	Set   string // the set type of the package Where
	Of    string // its function from JSON keys to a set
	All   string // its set of every field
	Where string // package path
}

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
	p := &fastPathPlugin{types: fastPathTypes, upstream: upstreamMaps, warn: os.Stderr}
	// The generated code of the last run calls functions gqlgen is about
	// to regenerate: it goes first, and is written again after gqlgen.
	out := genFilename(cfg)
	if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := api.Generate(cfg, api.AddPlugin(p)); err != nil {
		return err
	}
	if p.model == nil {
		return fmt.Errorf("the fast path plugin was not run by gqlgen")
	}
	// gqlgen runs plugins before it writes generated.go: hooks go in now.
	found, err := insertHooks(cfg.Exec.Filename, p.model)
	if err != nil {
		return fmt.Errorf("%s: %w: has gqlgen changed? revisit tools/gqlgen", cfg.Exec.Filename, err)
	}
	src, err := render(p.model, found)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
