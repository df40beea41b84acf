// Package resolvers implements the GraphQL schema. Resolvers are thin: they
// read arguments, call one collaborator (a loader or the paging package),
// and return what they got; errors are shaped by the server's presenter.
package resolvers

import (
	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/idempotency"
)

// Resolver is the root resolver: the only place dependencies are injected.
// Upstream access goes through the per-request loaders (loaders.For).
type Resolver struct {
	// Limits bound the sizes of the calls connection.
	Limits paging.Limits
	// Writer places and cancels call orders.
	Writer CallWriter
	// Idempotency keeps the records that make createCall happen once per key.
	Idempotency idempotency.Store
	// Live runs the subscriptions' shared pollers.
	Live Live
}

// MaxEntityRepresentations bounds the Call representations of one
// _entities request: each distinct id is an upstream request, as an aliased
// call(id:) would be, and aliases are bounded too.
const MaxEntityRepresentations = 100
