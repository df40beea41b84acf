package resolvers

import (
	"context"

	"github.com/revox-graphql/gateway/internal/revox"
)

// attemptsDecoded is the attempt fields the pages of the operation's calls
// fields are decoded for: those they read, and at least the ids (a
// selection reading none still counts the attempts, and no fields at all
// would mean every field to the client).
func attemptsDecoded(ctx context.Context) revox.AttemptFields {
	return attemptFieldsWanted(ctx) | idField
}

var idField = revox.AttemptFieldsOf("id")
