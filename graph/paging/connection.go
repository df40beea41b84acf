// Package paging turns GraphQL connection arguments into upstream page loads
// and assembles the Relay connection: the statuses filter, argument
// validation, window arithmetic and exact hasNextPage/hasPreviousPage. The
// cursors' format is package cursor's.
package paging

import (
	"context"
	"fmt"

	"github.com/revox-graphql/gateway/graph/cursor"
	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

// Source is where a connection's attempts come from.
type Source struct {
	// Load starts loading one upstream page (0-based index, size attempts
	// per page) and returns a function that waits for it. Starting several
	// pages before waiting on any lets them load concurrently.
	Load func(ctx context.Context, index, size int) func() ([]revox.CallAttempt, error)
	// Lengths remembers list lengths between requests; nil remembers none.
	Lengths *Lengths
	// Scope says whose list Load reads (a digest of the credential): a
	// length remembered under one scope is never used under another.
	Scope string
}

// Limits are the sizes a connection accepts.
type Limits struct {
	// DefaultSize applies when no pageSize, first or last is given.
	DefaultSize int
	// MaxSize bounds pageSize, first and last.
	MaxSize int
	// UpstreamPageSize is the largest upstream page a cursor window is
	// loaded with (page mode loads its own page whatever its size).
	UpstreamPageSize int
}

// Args are the connection arguments of Query.calls.
type Args struct {
	Page, PageSize *int
	First, Last    *int
	After, Before  *string
}

// Want says which PageInfo flags were selected: computing one may cost an
// upstream request, so it is done only when asked for.
type Want struct {
	HasNextPage     bool
	HasPreviousPage bool
}

// MaxOffset bounds positions in the attempt list (see cursor.MaxOffset).
const MaxOffset = cursor.MaxOffset

// plan is a validated request: the window [start, start+count) (page mode
// or forward), [start, end) (backward from a cursor) or, backward without a
// cursor, the last count attempts of the list (fromEnd).
type plan struct {
	pageMode bool
	start    int
	count    int
	backward bool
	fromEnd  bool
	end      int
}

// inRange refuses v outside [least, most] in plain words.
func inRange(name string, v, least, most int) error {
	msg := ""
	switch {
	case v < 0:
		msg = "must not be negative"
	case v < least:
		msg = fmt.Sprintf("must be at least %d", least)
	case v > most:
		msg = fmt.Sprintf("must be at most %d", most)
	default:
		return nil
	}
	return &model.InputError{Argument: name, Message: msg}
}

// validate checks the arguments and makes the plan, without any upstream
// request.
func validate(a Args, f Filter, lim Limits) (plan, error) {
	pageMode := a.Page != nil || a.PageSize != nil
	forward := a.First != nil || a.After != nil
	backward := a.Last != nil || a.Before != nil
	switch {
	case pageMode && (forward || backward):
		return plan{}, &model.InputError{Message: "page/pageSize cannot be combined with first/after/last/before"}
	case forward && backward:
		return plan{}, &model.InputError{Message: "first/after cannot be combined with last/before"}
	}
	// first and last may be 0, as Relay's specification says: an empty
	// window whose pageInfo still answers. pageSize may not: a page of
	// nothing has no position in the list.
	size := func(name string, v *int, least int) (int, error) {
		if v == nil {
			return lim.DefaultSize, nil
		}
		if err := inRange(name, *v, least, lim.MaxSize); err != nil {
			return 0, err
		}
		return *v, nil
	}
	if pageMode {
		n, err := size("pageSize", a.PageSize, 1)
		if err != nil {
			return plan{}, err
		}
		page := 0
		if a.Page != nil {
			page = *a.Page
		}
		if err := inRange("page", page, 0, MaxOffset/n); err != nil {
			return plan{}, err
		}
		return plan{pageMode: true, start: page * n, count: n}, nil
	}
	if backward {
		n, err := size("last", a.Last, 0)
		if err != nil {
			return plan{}, err
		}
		p := plan{count: n, backward: true, fromEnd: a.Before == nil}
		if a.Before != nil {
			if p.end, err = DecodeCursor("before", *a.Before, f); err != nil {
				return plan{}, err
			}
			p.start = max(0, p.end-n)
		}
		return p, nil
	}
	n, err := size("first", a.First, 0)
	if err != nil {
		return plan{}, err
	}
	p := plan{count: n}
	if a.After != nil {
		off, err := DecodeCursor("after", *a.After, f)
		if err != nil {
			return plan{}, err
		}
		p.start = off + 1
	}
	return p, nil
}

// Resolve validates the arguments, loads the upstream pages the window
// needs and builds the connection. The pages are chosen to fetch little
// more than the window (see cover), and whatever pageInfo needs (the
// attempt after the window for hasNextPage) is fetched in the same round
// trip: a window costs one round trip, two when hasPreviousPage is asked of
// a window past the end of the list. Only `last` without `before` may take
// more, to find the end (see findEnd).
func Resolve(ctx context.Context, src Source, a Args, f Filter, lim Limits, want Want) (*model.CallAttemptConnection, error) {
	p, err := validate(a, f, lim)
	if err != nil {
		return nil, err
	}
	maxSize := lim.UpstreamPageSize
	if p.pageMode {
		// The page asked for is always one upstream request.
		maxSize = max(maxSize, p.count)
	}
	fe := newFetcher(ctx, src)
	switch {
	case p.fromEnd && p.count == 0:
		// No window to load; hasPreviousPage below asks whether the list
		// has any attempt.
	case p.fromEnd:
		remembered, ok := src.Lengths.get(ctx, src.Scope, f.Key)
		total, err := findEnd(fe, p.count, maxSize, remembered, ok)
		if err != nil {
			return nil, err
		}
		p.end, p.start = total, max(0, total-p.count)
	default:
		if !p.backward {
			p.end = p.start + p.count
		}
		var pages []pageRef
		var probe *pageRef
		if p.pageMode {
			pages, probe = planPage(p.start/p.count, p.count, want.HasNextPage, maxSize)
		} else {
			pages, probe = planWindow(p.start, p.end, want.HasNextPage, maxSize)
		}
		for _, r := range pages {
			fe.start(r)
		}
		if probe != nil {
			fe.start(*probe)
		}
		if err := fe.round(); err != nil {
			return nil, err
		}
	}
	items := fe.collect(p.start, p.end)
	conn := model.NewCallAttemptConnection(items, p.start, f.fingerprint)
	if len(items) > 0 {
		start, end := EncodeCursor(p.start, f), EncodeCursor(p.start+len(items)-1, f)
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &start, &end
	}
	if want.HasPreviousPage && (p.start > 0 || p.fromEnd && p.count == 0) {
		// Items are contiguous from offset 0: if the window has one, all
		// before it exist; an empty window past the end has items before
		// it exactly when the list is not empty.
		if conn.PageInfo.HasPreviousPage, err = hasAny(fe, len(items)); err != nil {
			return nil, err
		}
	}
	if want.HasNextPage && !p.fromEnd {
		conn.PageInfo.HasNextPage, _ = fe.exists(p.end)
	}
	if t, ok := fe.total(); ok {
		src.Lengths.put(ctx, src.Scope, f.Key, t)
	}
	return conn, nil
}

// hasAny reports whether the list has an attempt, knowing that the window
// held n of them.
func hasAny(fe *fetcher, n int) (bool, error) {
	if n > 0 {
		return true, nil
	}
	if ok, known := fe.exists(0); known {
		return ok, nil
	}
	fe.start(pageRef{0, 1})
	if err := fe.round(); err != nil {
		return false, err
	}
	ok, _ := fe.exists(0)
	return ok, nil
}
