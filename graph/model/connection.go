package model

import (
	"encoding/base64"
	"strconv"
)

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
