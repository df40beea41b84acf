package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/internal/revox"

	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/graph/paging"
)

// pageInfoWanted reports which PageInfo flags the current connection field
// selects (through fragments and aliases too).
func pageInfoWanted(ctx context.Context) paging.Want {
	var want paging.Want
	opCtx := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name != "pageInfo" {
			continue
		}
		for _, pf := range graphql.CollectFields(opCtx, f.Selections, nil) {
			switch pf.Name {
			case "hasNextPage":
				want.HasNextPage = true
			case "hasPreviousPage":
				want.HasPreviousPage = true
			}
		}
	}
	return want
}

// The types a selection is collected for, as the generated executor does
// (so gqlgen's collected-fields cache serves both).
var (
	queryTypes           = []string{"Query"}
	connectionTypes      = []string{"CallAttemptConnection"}
	callAttemptTypes     = []string{"CallAttempt"}
	callAttemptEdgeTypes = []string{"CallAttemptEdge"}
)

// attemptFieldsWanted is the union, over every calls field of the
// operation, of the upstream fields its attempts' selection reads. It is the
// same for every calls field of an operation, so that aliases asking for the
// same page still share one upstream request.
func attemptFieldsWanted(ctx context.Context) revox.AttemptFields {
	opCtx := graphql.GetOperationContext(ctx)
	var fields revox.AttemptFields
	for _, root := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, queryTypes) {
		if root.Name == "calls" {
			fields |= attemptFieldsOf(opCtx, graphql.CollectFields(opCtx, root.Selections, connectionTypes))
		}
	}
	return fields
}

// attemptFieldsOf is the upstream fields read by the attempts of one
// connection's selection, under edges.node or nodes (through fragments and
// aliases, @skip and @include applied).
func attemptFieldsOf(opCtx *graphql.OperationContext, connection []graphql.CollectedField) revox.AttemptFields {
	var fields revox.AttemptFields
	attempt := func(sel ast.SelectionSet) {
		for _, f := range graphql.CollectFields(opCtx, sel, callAttemptTypes) {
			// Generated from the schema and gqlgen.yml (tools/gqlgen).
			bits, ok := generated.CallAttemptUpstreamFields[f.Name]
			if !ok {
				bits = revox.AllAttemptFields
			}
			fields |= bits
		}
	}
	for _, f := range connection {
		switch f.Name {
		case "nodes":
			attempt(f.Selections)
		case "edges":
			for _, ef := range graphql.CollectFields(opCtx, f.Selections, callAttemptEdgeTypes) {
				if ef.Name == "node" {
					attempt(ef.Selections)
				}
			}
		}
	}
	return fields
}
