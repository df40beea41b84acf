package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

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
