package resolvers

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"github.com/revox-graphql/gateway/graph/loaders"
	"github.com/revox-graphql/gateway/graph/model"
)

// maxNodeIDs bounds Query.nodes as _entities representations are bounded.
const maxNodeIDs = MaxEntityRepresentations

// nodesOf loads the Calls of ids together; an id that fails costs its own
// position only (null, with its error at nodes[i]).
func nodesOf(ctx context.Context, ids []string) ([]model.Node, error) {
	if len(ids) > maxNodeIDs {
		return nil, &model.InputError{Argument: "ids", Message: fmt.Sprintf("at most %d ids per request", maxNodeIDs)}
	}
	orders, errs := loaders.For(ctx).Calls(ctx, ids)
	out := make([]model.Node, len(ids))
	for i, order := range orders {
		if i < len(errs) && errs[i] != nil {
			graphql.AddError(graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i}), errs[i])
			continue
		}
		if order != nil {
			out[i] = (*model.Call)(order)
		}
	}
	return out, nil
}
