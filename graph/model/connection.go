package model

import "github.com/revox-graphql/gateway/graph/cursor"

// CallAttemptConnection is one window of the attempt list in the Relay
// shape. Its edges are made when asked for: a request selecting nodes
// pays for none.
type CallAttemptConnection struct {
	nodes       []*CallAttempt
	start       int    // offset of nodes[0] in the list
	fingerprint uint32 // of the statuses filter, for cursors
	PageInfo    PageInfo
}

// NewCallAttemptConnection is the window of nodes starting at offset start
// of the list under a statuses filter of the given fingerprint.
func NewCallAttemptConnection(nodes []*CallAttempt, start int, fingerprint uint32) *CallAttemptConnection {
	return &CallAttemptConnection{nodes: nodes, start: start, fingerprint: fingerprint}
}

// Nodes are the attempts of the window, for clients that need no cursors.
func (c *CallAttemptConnection) Nodes() []*CallAttempt { return c.nodes }

// Edges are the attempts of the window with their cursors.
func (c *CallAttemptConnection) Edges() []CallAttemptEdge {
	out := make([]CallAttemptEdge, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = NewCallAttemptEdge(n, c.start+i, c.fingerprint)
	}
	return out
}

// CallAttemptEdge is one attempt and its opaque cursor, encoded only when
// asked for: a request selecting nodes pays for no cursor.
type CallAttemptEdge struct {
	Node        *CallAttempt
	offset      int
	fingerprint uint32
}

// NewCallAttemptEdge is the edge of the attempt at offset in the list under
// a statuses filter of the given fingerprint.
func NewCallAttemptEdge(node *CallAttempt, offset int, fingerprint uint32) CallAttemptEdge {
	return CallAttemptEdge{Node: node, offset: offset, fingerprint: fingerprint}
}

// Cursor is the edge's opaque cursor.
func (e *CallAttemptEdge) Cursor() string { return cursor.Encode(e.offset, e.fingerprint) }

// AppendCursorTo appends the edge's cursor.
func (e *CallAttemptEdge) AppendCursorTo(b []byte) []byte {
	return cursor.Append(b, e.offset, e.fingerprint)
}

// PageInfo is Relay's page information.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}
