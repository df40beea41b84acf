// Package paging turns GraphQL connection arguments into upstream page loads
// and assembles the Relay connection: cursor encoding, argument validation,
// window arithmetic and exact hasNextPage/hasPreviousPage.
package paging

import (
	"encoding/base64"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

// MaxOffset bounds positions in the attempt list, far beyond any real list,
// so that offset arithmetic never overflows.
const MaxOffset = 1 << 40

// cursorPrefix versions the cursor format.
const cursorPrefix = model.CursorPrefix

// Filter is a canonical statuses filter: sorted, without duplicates.
type Filter struct {
	Statuses []revox.OrderStatus
	// Key is the canonical text of the filter ("" for none), usable as a map key.
	Key string
	// fingerprint binds cursors to the filter they were made under.
	fingerprint uint32
}

// NewFilter canonicalises statuses. Members the upstream does not document
// as filter values are refused.
func NewFilter(statuses []revox.OrderStatus) (Filter, error) {
	for _, s := range statuses {
		if !model.FilterableStatuses[s] {
			return Filter{}, &model.InputError{Argument: "statuses", Message: "status " + strings.ToUpper(string(s)) + " cannot be used as a filter"}
		}
	}
	canon := slices.Clone(statuses)
	slices.Sort(canon)
	canon = slices.Compact(canon)
	parts := make([]string, len(canon))
	for i, s := range canon {
		parts[i] = string(s)
	}
	key := strings.Join(parts, ",")
	return Filter{Statuses: canon, Key: key, fingerprint: crc32.ChecksumIEEE([]byte(key))}, nil
}

// ParseFilterKey rebuilds the statuses of a Filter from its Key.
func ParseFilterKey(key string) []revox.OrderStatus {
	if key == "" {
		return nil
	}
	parts := strings.Split(key, ",")
	out := make([]revox.OrderStatus, len(parts))
	for i, p := range parts {
		out[i] = revox.OrderStatus(p)
	}
	return out
}

// EncodeCursor makes the opaque cursor of the attempt at offset under f.
// The same offset and filter always give the same cursor.
func EncodeCursor(offset int, f Filter) string {
	return string(model.AppendCursor(nil, offset, f.fingerprint))
}

// DecodeCursor reads a cursor made by EncodeCursor under the same filter.
// Anything else (garbage, another format, another filter) is an InputError
// naming arg.
func DecodeCursor(arg, cursor string, f Filter) (int, error) {
	bad := func(msg string) (int, error) {
		return 0, &model.InputError{Argument: arg, Message: msg}
	}
	if len(cursor) > 64 {
		return bad("not a cursor of this API")
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return bad("not a cursor of this API")
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return bad("not a cursor of this API")
	}
	offText, fpText, ok := strings.Cut(rest, ":")
	if !ok {
		return bad("not a cursor of this API")
	}
	offset, err := strconv.Atoi(offText)
	if err != nil || offset < 0 || offset > MaxOffset {
		return bad("not a cursor of this API")
	}
	fp, err := strconv.ParseUint(fpText, 16, 32)
	if err != nil {
		return bad("not a cursor of this API")
	}
	// Only the canonical spelling is accepted, so a cursor has one meaning.
	if EncodeCursor(offset, Filter{fingerprint: uint32(fp)}) != cursor {
		return bad("not a cursor of this API")
	}
	if uint32(fp) != f.fingerprint {
		return bad("cursor was made under another statuses filter")
	}
	return offset, nil
}
