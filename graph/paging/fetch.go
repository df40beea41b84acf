package paging

import (
	"context"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

// load is one upstream page, started and perhaps finished.
type load struct {
	ref   pageRef
	wait  func() ([]revox.CallAttempt, error)
	items []revox.CallAttempt
	done  bool
}

// fetcher loads the pages of one connection in rounds: every page of a
// round is started before any is waited on, so a round costs one upstream
// round trip however many pages it has. It keeps what the pages taught about
// where the list ends.
type fetcher struct {
	ctx   context.Context
	load  func(ctx context.Context, index, size int) func() ([]revox.CallAttempt, error)
	pages map[pageRef]*load
	order []*load // in start order
	// present is the greatest offset known to hold an attempt (-1: none),
	// absent the least known to hold none (-1: none known).
	present, absent int
}

func newFetcher(ctx context.Context, src Source) *fetcher {
	return &fetcher{ctx: ctx, load: src.Load, pages: map[pageRef]*load{}, present: -1, absent: -1}
}

// start starts loading page r unless it is already, or unless the list is
// known to end before it. A page started only to learn whether an attempt
// exists (a probe, of one attempt) is decoded for the same fields as the
// others: its attempt may be used after all (collect takes any loaded
// page), and one attempt costs little to decode.
func (f *fetcher) start(r pageRef) {
	if _, ok := f.pages[r]; ok || (f.absent >= 0 && r.start() >= f.absent) {
		return
	}
	l := &load{ref: r, wait: f.load(f.ctx, r.index, r.size)}
	f.pages[r] = l
	f.order = append(f.order, l)
}

// round waits for every started page.
func (f *fetcher) round() error {
	for _, l := range f.order {
		if l.done {
			continue
		}
		items, err := l.wait()
		if err != nil {
			return err
		}
		l.items, l.done = items, true
		if len(items) > 0 {
			f.present = max(f.present, l.ref.start()+len(items)-1)
		}
		if len(items) < l.ref.size && (f.absent < 0 || l.ref.start()+len(items) < f.absent) {
			f.absent = l.ref.start() + len(items)
		}
	}
	return nil
}

// total returns the length of the list when the pages loaded tell it.
func (f *fetcher) total() (int, bool) {
	return f.absent, f.absent >= 0 && f.absent == f.present+1
}

// exists reports whether an attempt is at offset, and whether that is
// known from the pages loaded.
func (f *fetcher) exists(offset int) (exists, known bool) {
	switch {
	case offset <= f.present:
		return true, true
	case f.absent >= 0 && offset >= f.absent:
		return false, true
	}
	return false, false
}

// covered reports whether every offset of [a, b) is known: held by a loaded
// page or past the known end.
func (f *fetcher) covered(a, b int) bool {
	for off := a; off < b; off++ {
		if f.absent >= 0 && off >= f.absent {
			return true
		}
		if f.holder(off) == nil {
			return false
		}
	}
	return true
}

// holder returns a loaded page holding the attempt at offset, nil if none.
func (f *fetcher) holder(offset int) *load {
	for _, l := range f.order {
		if l.done && offset >= l.ref.start() && offset < l.ref.start()+len(l.items) {
			return l
		}
	}
	return nil
}

// collect returns the attempts at offsets [a, b) from the loaded pages,
// fewer when the list ends first.
func (f *fetcher) collect(a, b int) []*model.CallAttempt {
	if b <= a {
		return nil
	}
	out := make([]*model.CallAttempt, 0, b-a)
	var l *load
	for off := a; off < b; off++ {
		if l == nil || off >= l.ref.start()+len(l.items) {
			if l = f.holder(off); l == nil {
				break
			}
		}
		out = append(out, (*model.CallAttempt)(&l.items[off-l.ref.start()]))
	}
	return out
}
