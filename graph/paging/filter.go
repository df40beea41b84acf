package paging

import (
	"slices"
	"strings"

	"github.com/revox-graphql/gateway/graph/cursor"
	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

// Filter is a canonical statuses filter of Query.calls: sorted, without
// duplicates. Windows are cut from the list under it, and its cursors are
// bound to it.
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
	return Filter{Statuses: canon, Key: key, fingerprint: cursor.Fingerprint(key)}, nil
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

// EncodeCursor is the cursor of the attempt at offset under f.
func EncodeCursor(offset int, f Filter) string { return cursor.Encode(offset, f.fingerprint) }

// DecodeCursor reads the cursor given as argument arg under f; anything
// but a cursor of f is an InputError naming arg.
func DecodeCursor(arg, s string, f Filter) (int, error) {
	off, err := cursor.Decode(s, f.fingerprint)
	if err != nil {
		return 0, &model.InputError{Argument: arg, Message: err.Error()}
	}
	return off, nil
}
