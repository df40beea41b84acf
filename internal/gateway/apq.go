package gateway

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// CodePersistedQueryNotFound is gqlgen's code for an automatic persisted
// query hash the gateway does not know yet.
const CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

func init() {
	// A request the gateway cannot read as GraphQL is refused like a
	// document that does not validate: 400 under
	// application/graphql-response+json.
	errcode.RegisterErrorType(CodeBadRequest, errcode.KindProtocol)
}

// persistedQueries is gqlgen's automatic persisted queries with codes on
// every refusal: a hash that does not match its query, an unsupported
// version or malformed extension data are BAD_REQUEST (as in Apollo
// Server), where gqlgen gives them none. An unknown hash keeps
// PERSISTED_QUERY_NOT_FOUND, which clients answer by sending the query.
type persistedQueries struct {
	extension.AutomaticPersistedQuery
}

var _ graphql.OperationParameterMutator = persistedQueries{}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, params)
	if err != nil && err.Extensions["code"] == nil {
		errcode.Set(err, CodeBadRequest)
	}
	return err
}
