// This file is written by hand; tools/gqlgen makes the generated executor
// call it.

package generated

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSliceSequentially replaces graphql.MarshalSliceConcurrently, which
// starts one goroutine per list element. Every field under a list in this
// schema is a struct field or a method without I/O, so the goroutines only
// cost: 16% of throughput on a 20-attempt page with transcripts at 16
// clients (go run ./bench -quick: 961 -> 1112 req/s). A resolver doing I/O
// under a list would now run its elements one after another: give it a
// loader and prime it in the parent instead.
//
// As gqlgen's, it turns a panic in one element into an error and a null for
// that element only.
func marshalSliceSequentially(ctx context.Context, length int, _ int64, omitPanicHandler bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	fcs := make([]graphql.FieldContext, length)
	for i := range length {
		fcs[i].Index = &i
		childCtx := graphql.WithFieldContext(ctx, &fcs[i])
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	return ret
}
