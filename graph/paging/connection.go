package paging

import (
	"context"
	"errors"
	"fmt"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

// Source starts loading one upstream page (0-based index, size attempts per
// page) and returns a function that waits for it. Starting several pages
// before waiting on any lets them load concurrently.
type Source func(ctx context.Context, index, size int) func() ([]revox.CallAttempt, error)

// Limits are the sizes a connection accepts.
type Limits struct {
	// DefaultSize applies when no pageSize, first or last is given.
	DefaultSize int
	// MaxSize bounds pageSize, first and last.
	MaxSize int
	// UpstreamPageSize is the page size cursor windows are cut from.
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

// ErrListTooLong is returned when the end of the list cannot be found
// within MaxOffset (the upstream keeps returning full pages).
var ErrListTooLong = errors.New("paging: upstream list has no end within reach")

// plan is a validated request: the window [start, start+count) over pages
// of pageSize attempts, or, backward without a cursor, the last count
// attempts of the list (fromEnd).
type plan struct {
	pageSize int
	start    int
	count    int
	backward bool
	fromEnd  bool
	end      int
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
	size := func(name string, v *int, min int) (int, error) {
		if v == nil {
			return lim.DefaultSize, nil
		}
		if *v < min || *v > lim.MaxSize {
			return 0, &model.InputError{Argument: name, Message: fmt.Sprintf("must be between %d and %d", min, lim.MaxSize)}
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
		if page < 0 || page > MaxOffset/n {
			return plan{}, &model.InputError{Argument: "page", Message: fmt.Sprintf("must be between 0 and %d", MaxOffset/n)}
		}
		return plan{pageSize: n, start: page * n, count: n}, nil
	}
	if backward {
		n, err := size("last", a.Last, 0)
		if err != nil {
			return plan{}, err
		}
		p := plan{pageSize: lim.UpstreamPageSize, count: n, backward: true, fromEnd: a.Before == nil}
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
	p := plan{pageSize: lim.UpstreamPageSize, count: n}
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
// touches (concurrently) and builds the connection.
func Resolve(ctx context.Context, src Source, a Args, f Filter, lim Limits, want Want) (*model.CallAttemptConnection, error) {
	p, err := validate(a, f, lim)
	if err != nil {
		return nil, err
	}
	if !p.backward && p.start == 0 {
		// The first window is one upstream page holding exactly what it
		// needs, one attempt more when hasNextPage is asked: one request
		// instead of a window and a look-ahead page, and no attempt decoded
		// in vain. Page 0 is what most clients ask for most often.
		size := p.count
		if want.HasNextPage {
			size++
		}
		if size >= 1 && size <= lim.UpstreamPageSize {
			p.pageSize = size
		}
	}
	w := &walker{ctx: ctx, src: src, size: p.pageSize, pages: map[int]*pageLoad{}}
	if p.fromEnd {
		total, err := w.total()
		if err != nil {
			return nil, err
		}
		p.end = total
		p.start = max(0, total-p.count)
	} else if !p.backward {
		p.end = p.start + p.count
	}
	items, err := w.collect(p.start, p.end)
	if err != nil {
		return nil, err
	}
	conn := model.NewCallAttemptConnection(items, p.start, f.fingerprint)
	if len(items) > 0 {
		start, end := EncodeCursor(p.start, f), EncodeCursor(p.start+len(items)-1, f)
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &start, &end
	}
	if want.HasPreviousPage && p.start > 0 {
		// Items are contiguous from offset 0: if the window has one, all
		// before it exist; an empty window past the end has items before it
		// exactly when the list is not empty.
		conn.PageInfo.HasPreviousPage = len(items) > 0
		if len(items) == 0 {
			if conn.PageInfo.HasPreviousPage, err = w.exists(0); err != nil {
				return nil, err
			}
		}
	}
	if want.HasNextPage && !p.fromEnd {
		if conn.PageInfo.HasNextPage, err = w.exists(p.end); err != nil {
			return nil, err
		}
	}
	return conn, nil
}

// pageLoad is one upstream page, started and perhaps finished.
type pageLoad struct {
	wait  func() ([]revox.CallAttempt, error)
	items []revox.CallAttempt
	err   error
	done  bool
}

// walker loads pages of one size for one connection, each at most once.
type walker struct {
	ctx   context.Context
	src   Source
	size  int
	pages map[int]*pageLoad
	// shortAt is the index of the first page known to be short (the last
	// page of the list), nil while none is.
	shortAt *int
}

// start starts loading page i unless it is already. A page started only to
// learn whether the list goes on (probe) is decoded without its transcripts;
// were its attempts used after all, their transcripts decode on first use.
func (w *walker) start(i int, probe bool) *pageLoad {
	if pl, ok := w.pages[i]; ok {
		return pl
	}
	ctx := w.ctx
	if probe {
		ctx = revox.WithoutTranscripts(ctx)
	}
	pl := &pageLoad{wait: w.src(ctx, i, w.size)}
	w.pages[i] = pl
	return pl
}

func (w *walker) page(i int, probe bool) ([]revox.CallAttempt, error) {
	if w.shortAt != nil && i > *w.shortAt {
		return nil, nil // past the last page: no need to ask
	}
	pl := w.start(i, probe)
	if !pl.done {
		pl.items, pl.err = pl.wait()
		pl.done = true
		if pl.err == nil && len(pl.items) < w.size && (w.shortAt == nil || i < *w.shortAt) {
			w.shortAt = &i
		}
	}
	return pl.items, pl.err
}

// exists reports whether the list has an attempt at offset.
func (w *walker) exists(offset int) (bool, error) {
	items, err := w.page(offset/w.size, true)
	return offset%w.size < len(items), err
}

// collect returns the attempts at offsets [start, end), fewer if the list
// ends first. All pages are started before any is waited on.
func (w *walker) collect(start, end int) ([]*model.CallAttempt, error) {
	if end <= start {
		return nil, nil
	}
	first, last := start/w.size, (end-1)/w.size
	for i := first; i <= last; i++ {
		if w.shortAt != nil && i > *w.shortAt {
			break
		}
		w.start(i, false)
	}
	out := make([]*model.CallAttempt, 0, end-start)
	for i := first; i <= last; i++ {
		items, err := w.page(i, false)
		if err != nil {
			return nil, err
		}
		base := i * w.size
		lo, hi := max(start-base, 0), min(end-base, len(items))
		for j := lo; j < hi; j++ {
			out = append(out, (*model.CallAttempt)(&items[j]))
		}
		if len(items) < w.size {
			break
		}
	}
	return out, nil
}

// total finds the length of the list: the API reports none, so it gallops
// over page indexes (0, 1, 3, 7, ...) to a short page, then bisects to the
// first short one; O(log n) upstream requests.
func (w *walker) total() (int, error) {
	lo, hi := -1, 0 // page lo is full (or none), page hi is the probe
	for {
		items, err := w.page(hi, true)
		if err != nil {
			return 0, err
		}
		if len(items) < w.size {
			break
		}
		lo = hi
		hi = 2*hi + 1
		if hi > MaxOffset/w.size {
			return 0, ErrListTooLong
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		items, err := w.page(mid, true)
		if err != nil {
			return 0, err
		}
		if len(items) < w.size {
			hi = mid
		} else {
			lo = mid
		}
	}
	items, err := w.page(hi, true)
	if err != nil {
		return 0, err
	}
	return hi*w.size + len(items), nil
}
