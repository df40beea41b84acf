package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

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

// transcriptsWanted reports whether the current connection field selects a
// transcript field of its attempts, under edges.node or nodes (through
// fragments and aliases too, @skip and @include applied).
func transcriptsWanted(ctx context.Context) bool {
	opCtx := graphql.GetOperationContext(ctx)
	attempt := func(sel ast.SelectionSet) bool {
		for _, f := range graphql.CollectFields(opCtx, sel, callAttemptTypes) {
			if f.Name == "transcript" || f.Name == "transcriptLength" {
				return true
			}
		}
		return false
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "nodes":
			if attempt(f.Selections) {
				return true
			}
		case "edges":
			for _, ef := range graphql.CollectFields(opCtx, f.Selections, callAttemptEdgeTypes) {
				if ef.Name == "node" && attempt(ef.Selections) {
					return true
				}
			}
		}
	}
	return false
}

// The types a selection on an attempt or an edge is collected for, as the
// generated executor does (so gqlgen's collected-fields cache serves both).
var (
	callAttemptTypes     = []string{"CallAttempt"}
	callAttemptEdgeTypes = []string{"CallAttemptEdge"}
)
