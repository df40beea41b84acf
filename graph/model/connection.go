package model

import (
	"encoding/base64"
	"strconv"
)

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
func (e *CallAttemptEdge) Cursor() string { return string(AppendCursor(nil, e.offset, e.fingerprint)) }

// AppendCursor appends the cursor of the attempt at offset under a statuses
// filter of the given fingerprint: the unpadded URL-safe base64 of
// "c1:<offset>:<fingerprint in hex>".
func AppendCursor(b []byte, offset int, fingerprint uint32) []byte {
	var buf [40]byte
	raw := append(buf[:0], CursorPrefix...)
	raw = strconv.AppendInt(raw, int64(offset), 10)
	raw = append(raw, ':')
	raw = strconv.AppendUint(raw, uint64(fingerprint), 16)
	return base64.RawURLEncoding.AppendEncode(b, raw)
}

// AppendCursorTo appends the edge's cursor.
func (e *CallAttemptEdge) AppendCursorTo(b []byte) []byte {
	return AppendCursor(b, e.offset, e.fingerprint)
}

// CursorPrefix versions the cursor format.
const CursorPrefix = "c1:"

// PageInfo is Relay's page information.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}
