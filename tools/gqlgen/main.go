// Command gqlgen regenerates the GraphQL executor: gqlgen's own generation
// (the version pinned in go.mod, configured by gqlgen.yml), then three
// rewrites of its output: list elements are marshalled sequentially rather
// than one goroutine each (see graph/generated/sequential.go),
// CallAttemptEdge and CallAttempt objects and lists try the fast path
// first (graph/generated/fastpath.go), and a query's data buffer starts at
// the size of the last response to it (graph/generated/responsesize.go).
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

// The query's data buffer starts at the size of the last response to the
// same operation (see graph/generated/responsesize.go).
const (
	responseBufferOld = "\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n"
	responseBufferNew = "\t\t\tvar buf *bytes.Buffer = responseBuffer(opCtx)\n\t\t\tdata.MarshalGQL(buf)\n\t\t\tresponse.Data = buf.Bytes()\n\t\t\trememberResponseSize(opCtx, buf.Len())\n"
)

// fastPathHooks are inserted at the top of the generated marshalers of the
// types the fast path writes, and of the lists of them.
var fastPathHooks = []struct{ signature, hook string }{
	{
		"func (ec *executionContext) _CallAttemptEdge(ctx context.Context, sel ast.SelectionSet, obj *model.CallAttemptEdge) graphql.Marshaler {\n",
		"\tif m := ec.fastCallAttemptEdge(ctx, sel, obj); m != nil {\n\t\treturn m\n\t}\n",
	},
	{
		"func (ec *executionContext) _CallAttempt(ctx context.Context, sel ast.SelectionSet, obj *model.CallAttempt) graphql.Marshaler {\n",
		"\tif m := ec.fastCallAttempt(ctx, sel, obj); m != nil {\n\t\treturn m\n\t}\n",
	},
	{
		"func (ec *executionContext) marshalNCallAttempt2ᚕᚖgithubᚗcomᚋrevoxᚑgraphqlᚋgatewayᚋgraphᚋmodelᚐCallAttemptᚄ(ctx context.Context, sel ast.SelectionSet, v []*model.CallAttempt) graphql.Marshaler {\n",
		"\tif m := ec.fastCallAttempts(ctx, sel, v); m != nil {\n\t\treturn m\n\t}\n",
	},
	{
		"func (ec *executionContext) marshalNCallAttemptEdge2ᚕgithubᚗcomᚋrevoxᚑgraphqlᚋgatewayᚋgraphᚋmodelᚐCallAttemptEdgeᚄ(ctx context.Context, sel ast.SelectionSet, v []model.CallAttemptEdge) graphql.Marshaler {\n",
		"\tif m := ec.fastCallAttemptEdges(ctx, sel, v); m != nil {\n\t\treturn m\n\t}\n",
	},
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
	if bytes.Count(out, []byte(responseBufferOld)) != 1 {
		return fmt.Errorf("%s has no single %q: has gqlgen changed? revisit tools/gqlgen", path, responseBufferOld)
	}
	out = bytes.Replace(out, []byte(responseBufferOld), []byte(responseBufferNew), 1)
	for _, h := range fastPathHooks {
		if bytes.Count(out, []byte(h.signature)) != 1 {
			return fmt.Errorf("%s has no single %q: has gqlgen changed? revisit tools/gqlgen", path, h.signature)
		}
		out = bytes.Replace(out, []byte(h.signature), []byte(h.signature+h.hook), 1)
	}
	return os.WriteFile(path, out, 0o644)
}
