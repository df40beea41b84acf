package resolvers

import (
	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/revox"
)

// TranscriptCostTurns is the number of turns a transcript selection is
// assumed to return when neither first nor last bounds it.
const TranscriptCostTurns = 20

// maxTranscriptCostTurns caps the price of one transcript selection, so that
// a huge first/last cannot overflow the arithmetic.
const maxTranscriptCostTurns = 10000

// Complexity prices lists by the size they can have, so that the cost limit
// sees what an operation asks of the gateway: a calls window multiplies its
// selection by its size, a transcript by its first/last or
// TranscriptCostTurns.
func Complexity(limits paging.Limits) generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Calls = func(child int, page, pageSize *int, _ []revox.OrderStatus, first *int, _ *string, last *int, _ *string) int {
		n := limits.DefaultSize
		for _, v := range []*int{pageSize, first, last} {
			if v != nil {
				n = *v
			}
		}
		// Out-of-range sizes are priced at the maximum and then refused by
		// the resolver as BAD_USER_INPUT, a clearer answer than a cost error.
		return 1 + min(max(n, 1), limits.MaxSize)*child
	}
	c.CallAttempt.TranscriptTurns = func(child int, _ []revox.Role, first, last *int) int {
		n := TranscriptCostTurns
		for _, v := range []*int{first, last} {
			if v != nil {
				n = *v
			}
		}
		return 1 + min(max(n, 1), maxTranscriptCostTurns)*child
	}
	return c
}
