package paging

import (
	"fmt"
	"slices"
	"testing"
)

func TestCoverHoldsTheRangeInAtMostThreePages(t *testing.T) {
	t.Parallel()
	const maxSize = 100
	worst := 0.0
	for a := 0; a <= 1100; a++ {
		for n := 1; n <= maxSize+1; n++ {
			pages := cover(a, a+n, maxSize, maxWindowPages)
			if len(pages) == 0 || len(pages) > maxWindowPages {
				t.Fatalf("cover(%d, %d) = %v: want one to three pages", a, a+n, pages)
			}
			for off := a; off < a+n; off++ {
				if !slices.ContainsFunc(pages, func(r pageRef) bool { return off >= r.start() && off < r.end() }) {
					t.Fatalf("cover(%d, %d) = %v misses offset %d", a, a+n, pages, off)
				}
			}
			for _, r := range pages {
				if r.size < 1 || r.size > maxSize {
					t.Fatalf("cover(%d, %d) = %v: page size out of 1..%d", a, a+n, pages, maxSize)
				}
			}
			if !slices.Equal(cover(a, a+n, maxSize, maxWindowPages), pages) {
				t.Fatalf("cover(%d, %d) is not deterministic", a, a+n)
			}
			if n >= 20 {
				worst = max(worst, float64(fetched(pages))/float64(n))
			}
		}
	}
	// Two pages of sizes that split the range at an offset both divide
	// exist for most ranges; the worst case over windows of 20 or more
	// attempts is bounded here so that a regression shows.
	if worst > 1.5 {
		t.Fatalf("worst fetched/needed over windows of 20+ attempts = %.2f, want at most 1.5", worst)
	}
}

func TestCoverPicksAlignedPages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		a, b    int
		maxSize int
		want    []pageRef
	}{
		{"a window aligned with its size is one page of it", 40, 60, 100, []pageRef{{2, 20}}},
		{"a first window is one page from 0", 0, 21, 100, []pageRef{{0, 21}}},
		{"an aligned window and the attempt after it: two pages, nothing more", 20, 41, 100, []pageRef{{1, 20}, {40, 1}}},
		{"a window of 37 after 37: one page of 37", 37, 74, 100, []pageRef{{1, 37}}},
		{"a range longer than two pages is cut from pages of the largest size", 5, 40, 10, []pageRef{{0, 10}, {1, 10}, {2, 10}, {3, 10}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := cover(tc.a, tc.b, tc.maxSize, maxWindowPages); !slices.Equal(got, tc.want) {
				t.Fatalf("cover(%d, %d, %d) = %v, want %v", tc.a, tc.b, tc.maxSize, got, tc.want)
			}
		})
	}
}

// walk pages through a list of total attempts with size-n windows in one
// of three ways and returns the cursor of every attempt it was served,
// checking pageInfo on the way.
func walk(t *testing.T, l *fakeList, mode string, n int, lim Limits) []string {
	t.Helper()
	f := mustFilter(t)
	total := l.n
	cursors := make([]string, total)
	var cursor *string
	for step := 0; ; step++ {
		if step > total+2 {
			t.Fatal("walk does not end")
		}
		var a Args
		switch mode {
		case "forward":
			a = Args{First: ptr(n), After: cursor}
		case "backward":
			a = Args{Last: ptr(n), Before: cursor}
		case "page":
			a = Args{Page: ptr(step), PageSize: ptr(n)}
		}
		conn, err := Resolve(t.Context(), l.source(), a, f, lim, wantAll)
		if err != nil {
			t.Fatal(err)
		}
		edges := conn.Edges()
		if len(edges) == 0 {
			t.Fatalf("%s step %d: empty window", mode, step)
		}
		first, err := DecodeCursor("after", edges[0].Cursor(), f)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range edges {
			if e.Node.ID != fmt.Sprintf("a%d", first+i) {
				t.Fatalf("%s step %d: edge %d is %s at offset %d", mode, step, i, e.Node.ID, first+i)
			}
			cursors[first+i] = e.Cursor()
		}
		last := first + len(edges) - 1
		if conn.PageInfo.HasNextPage != (last < total-1) || conn.PageInfo.HasPreviousPage != (first > 0) {
			t.Fatalf("%s step %d: window %d..%d of %d: pageInfo %+v", mode, step, first, last, total, conn.PageInfo)
		}
		more := conn.PageInfo.HasNextPage
		cursor = conn.PageInfo.EndCursor
		if mode == "backward" {
			more, cursor = conn.PageInfo.HasPreviousPage, conn.PageInfo.StartCursor
		}
		if !more {
			return cursors
		}
	}
}

func TestWalksFetchAboutWhatTheyServe(t *testing.T) {
	t.Parallel()
	const total = 1010
	lim := Limits{DefaultSize: 20, MaxSize: 100, UpstreamPageSize: 100}
	f := mustFilter(t)
	for _, mode := range []string{"forward", "backward", "page"} {
		for _, n := range []int{20, 37, 100} {
			t.Run(fmt.Sprintf("%s by %d, every pageInfo flag selected", mode, n), func(t *testing.T) {
				t.Parallel()
				l := &fakeList{n: total}
				cursors := walk(t, l, mode, n, lim)
				for off, c := range cursors {
					if c != EncodeCursor(off, f) {
						t.Fatalf("attempt %d was served with cursor %q, want the one it always had", off, c)
					}
				}
				ratio := float64(l.fetched) / total
				t.Logf("%d attempts fetched in %d requests to serve %d: %.3f per attempt served", l.fetched, len(l.loads), total, ratio)
				if ratio > 1.1 {
					t.Fatalf("%d attempts fetched to serve %d (%.3f per attempt), want at most 1.1", l.fetched, total, ratio)
				}
			})
		}
	}
}

func BenchmarkCover(b *testing.B) {
	for _, w := range []struct{ a, b int }{{0, 21}, {20, 41}, {971, 1011}, {11, 49}} {
		b.Run(fmt.Sprintf("%d-%d", w.a, w.b), func(b *testing.B) {
			for b.Loop() {
				cover(w.a, w.b, 100, maxWindowPages)
			}
		})
	}
}

// BenchmarkResolve measures the CPU a connection costs the gateway around
// its upstream pages (planning, loading from an instant source, assembling).
func BenchmarkResolve(b *testing.B) {
	f, _ := NewFilter(nil)
	lim := Limits{DefaultSize: 20, MaxSize: 100, UpstreamPageSize: 100}
	for _, tc := range []struct {
		name string
		args Args
	}{
		{"page 3 of 20", Args{Page: ptr(3), PageSize: ptr(20)}},
		{"first 20 after an aligned cursor", Args{First: ptr(20), After: ptr(EncodeCursor(59, f))}},
		{"first 20 after an unaligned cursor", Args{First: ptr(20), After: ptr(EncodeCursor(970, f))}},
		{"last 20 before a cursor", Args{Last: ptr(20), Before: ptr(EncodeCursor(971, f))}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := &fakeList{n: 1010}
			src := l.source()
			for b.Loop() {
				l.loads = l.loads[:0]
				if _, err := Resolve(b.Context(), src, tc.args, f, lim, wantAll); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// cheapestChain is cover's specification, by exhaustion: the least cost
// (attempts fetched plus requestCost per request) of one to maxPages
// contiguous pages of at most maxSize that hold [a, b), the first holding
// a, each next starting where the previous ends.
func cheapestChain(a, b, maxSize, maxPages int) int {
	best := -1
	var extend func(end, pages, cost int)
	extend = func(end, pages, cost int) {
		if end >= b {
			if best < 0 || cost < best {
				best = cost
			}
			return
		}
		if pages == maxPages {
			return
		}
		for s := 1; s <= maxSize; s++ {
			if end%s == 0 {
				extend(end+s, pages+1, cost+s+requestCost)
			}
		}
	}
	for s := 1; s <= maxSize; s++ {
		extend(a/s*s+s, 1, s+requestCost)
	}
	return best
}

// TestCoverFetchesTheFewestAttempts holds cover to the cheapest chain of
// aligned pages found by trying them all: what the upstream is asked for,
// per window, is the least the page-numbered API allows.
func TestCoverFetchesTheFewestAttempts(t *testing.T) {
	t.Parallel()
	const maxSize = 40
	for a := 0; a <= 240; a += 3 {
		for _, n := range []int{1, 2, 7, 13, 20, 37, 40} {
			pages := cover(a, a+n, maxSize, maxWindowPages)
			got := fetched(pages) + requestCost*len(pages)
			if want := cheapestChain(a, a+n, maxSize, maxWindowPages); got != want {
				t.Fatalf("cover(%d, %d) = %v costs %d; the cheapest chain costs %d", a, a+n, pages, got, want)
			}
		}
	}
}

func TestPageModeLooksAheadInTheSameRequestOnPageZero(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		index, size, max int
		next             bool
		wantPages        []pageRef
		wantProbe        *pageRef
	}{
		{"page 0 with hasNextPage: one request of one attempt more", 0, 20, 100, true, []pageRef{{0, 21}}, nil},
		{"page 0 of the largest size: the page and a probe", 0, 100, 100, true, []pageRef{{0, 100}}, &pageRef{100, 1}},
		{"page 3: the page itself and a probe after it", 3, 20, 100, true, []pageRef{{3, 20}}, &pageRef{80, 1}},
		{"without hasNextPage: the page alone", 0, 20, 100, false, []pageRef{{0, 20}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pages, probe := planPage(tc.index, tc.size, tc.next, tc.max)
			if !slices.Equal(pages, tc.wantPages) || (probe == nil) != (tc.wantProbe == nil) || probe != nil && *probe != *tc.wantProbe {
				t.Fatalf("planPage = %v, %v; want %v, %v", pages, probe, tc.wantPages, tc.wantProbe)
			}
		})
	}
}
