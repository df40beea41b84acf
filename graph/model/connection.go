package model

// CallAttemptConnection is one window of the attempt list in the Relay shape.
type CallAttemptConnection struct {
	Edges    []CallAttemptEdge
	PageInfo PageInfo
}

// Nodes are the attempts of Edges, for clients that need no cursors.
func (c *CallAttemptConnection) Nodes() []*CallAttempt {
	out := make([]*CallAttempt, len(c.Edges))
	for i := range c.Edges {
		out[i] = c.Edges[i].Node
	}
	return out
}

// CallAttemptEdge is one attempt and its opaque cursor.
type CallAttemptEdge struct {
	Cursor string
	Node   *CallAttempt
}

// PageInfo is Relay's page information.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}
