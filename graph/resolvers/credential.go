package resolvers

import (
	"context"

	"github.com/revox-graphql/gateway/graph/loaders"
)

// credential is the upstream credential of the request: the caller's own
// key in forward auth mode, "" (the server's key) otherwise.
func credential(ctx context.Context) string { return loaders.CredentialFrom(ctx) }
