package paging

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/revox-graphql/gateway/internal/revox"
)

// fakeList is an upstream list of n attempts that records every page load.
type fakeList struct {
	n     int
	mu    sync.Mutex
	loads []string // "index/size", in start order
	// pending counts pages started but not yet waited on, to observe concurrency.
	pending, maxPending int
}

func (l *fakeList) source() Source {
	return func(_ context.Context, index, size int) func() ([]revox.CallAttempt, error) {
		l.mu.Lock()
		l.loads = append(l.loads, fmt.Sprintf("%d/%d", index, size))
		l.pending++
		l.maxPending = max(l.maxPending, l.pending)
		l.mu.Unlock()
		return func() ([]revox.CallAttempt, error) {
			l.mu.Lock()
			l.pending--
			l.mu.Unlock()
			var out []revox.CallAttempt
			for i := index * size; i < min((index+1)*size, l.n); i++ {
				out = append(out, revox.CallAttempt{ID: fmt.Sprintf("a%d", i)})
			}
			return out, nil
		}
	}
}

var testLimits = Limits{DefaultSize: 20, MaxSize: 100, UpstreamPageSize: 10}

var wantAll = Want{HasNextPage: true, HasPreviousPage: true}

func ids(t *testing.T, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("a%d", i)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestForwardWalkVisitsEveryAttemptOnce(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 9, 10, 11, 57, 100} {
		for _, first := range []int{1, 3, 10, 25} {
			t.Run(fmt.Sprintf("%d attempts, first %d", n, first), func(t *testing.T) {
				t.Parallel()
				l := &fakeList{n: n}
				f := mustFilter(t)
				var got []string
				var after *string
				for steps := 0; ; steps++ {
					if steps > n+2 {
						t.Fatal("walk does not end")
					}
					conn, err := Resolve(t.Context(), l.source(), Args{First: ptr(first), After: after}, f, testLimits, wantAll)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range conn.Edges() {
						got = append(got, e.Node.ID)
					}
					if conn.PageInfo.HasPreviousPage != (after != nil && n > 0) {
						t.Fatalf("hasPreviousPage = %v after %d attempts", conn.PageInfo.HasPreviousPage, len(got))
					}
					if !conn.PageInfo.HasNextPage {
						break
					}
					after = conn.PageInfo.EndCursor
				}
				if !slices.Equal(got, ids(t, n)) {
					t.Fatalf("walk = %v", got)
				}
			})
		}
	}
}

func TestBackwardWalkVisitsEveryAttemptOnce(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 9, 10, 11, 57, 100, 333} {
		for _, last := range []int{1, 3, 10, 25} {
			t.Run(fmt.Sprintf("%d attempts, last %d", n, last), func(t *testing.T) {
				t.Parallel()
				l := &fakeList{n: n}
				f := mustFilter(t)
				var got []string
				var before *string
				for steps := 0; ; steps++ {
					if steps > n+2 {
						t.Fatal("walk does not end")
					}
					conn, err := Resolve(t.Context(), l.source(), Args{Last: ptr(last), Before: before}, f, testLimits, wantAll)
					if err != nil {
						t.Fatal(err)
					}
					page := make([]string, 0, len(conn.Edges()))
					for _, e := range conn.Edges() {
						page = append(page, e.Node.ID)
					}
					got = append(page, got...)
					if conn.PageInfo.HasNextPage != (before != nil) {
						t.Fatalf("hasNextPage = %v with before=%v", conn.PageInfo.HasNextPage, before != nil)
					}
					if !conn.PageInfo.HasPreviousPage {
						break
					}
					before = conn.PageInfo.StartCursor
				}
				if !slices.Equal(got, ids(t, n)) {
					t.Fatalf("walk = %v", got)
				}
			})
		}
	}
}

func TestPageModeMatchesUpstreamPages(t *testing.T) {
	t.Parallel()
	l := &fakeList{n: 45}
	f := mustFilter(t)
	conn, err := Resolve(t.Context(), l.source(), Args{Page: ptr(2), PageSize: ptr(20)}, f, testLimits, wantAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(conn.Edges()) != 5 || conn.Edges()[0].Node.ID != "a40" || conn.PageInfo.HasNextPage || !conn.PageInfo.HasPreviousPage {
		t.Fatalf("page 2 of 45 by 20: %d edges, first %s, info %+v", len(conn.Edges()), conn.Edges()[0].Node.ID, conn.PageInfo)
	}
	if !slices.Equal(l.loads, []string{"2/20"}) {
		t.Fatalf("loads = %v, want just the page (it is short, so no look-ahead)", l.loads)
	}
	// A page-mode cursor continues in cursor mode at the right place.
	next, err := Resolve(t.Context(), l.source(), Args{First: ptr(3), After: ptr(conn.Edges()[0].Cursor())}, f, testLimits, Want{})
	if err != nil || len(next.Edges()) != 3 || next.Edges()[0].Node.ID != "a41" {
		t.Fatalf("continuing from a page-mode cursor: %+v, %v", next, err)
	}
}

func TestLookAheadOnlyWhenAskedAndNeeded(t *testing.T) {
	t.Parallel()
	f := mustFilter(t)
	t.Run("full page, hasNextPage selected: next page is loaded", func(t *testing.T) {
		t.Parallel()
		l := &fakeList{n: 40}
		conn, err := Resolve(t.Context(), l.source(), Args{Page: ptr(0), PageSize: ptr(20)}, f, testLimits, Want{HasNextPage: true})
		if err != nil || !conn.PageInfo.HasNextPage {
			t.Fatalf("hasNextPage = %v, %v", conn.PageInfo.HasNextPage, err)
		}
		if !slices.Equal(l.loads, []string{"0/20", "1/20"}) {
			t.Fatalf("loads = %v", l.loads)
		}
	})
	t.Run("full last page: look-ahead finds nothing", func(t *testing.T) {
		t.Parallel()
		l := &fakeList{n: 40}
		conn, err := Resolve(t.Context(), l.source(), Args{Page: ptr(1), PageSize: ptr(20)}, f, testLimits, Want{HasNextPage: true})
		if err != nil || conn.PageInfo.HasNextPage {
			t.Fatalf("hasNextPage = %v, %v", conn.PageInfo.HasNextPage, err)
		}
	})
	t.Run("hasNextPage not selected: no look-ahead", func(t *testing.T) {
		t.Parallel()
		l := &fakeList{n: 40}
		if _, err := Resolve(t.Context(), l.source(), Args{Page: ptr(0), PageSize: ptr(20)}, f, testLimits, Want{}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.loads, []string{"0/20"}) {
			t.Fatalf("loads = %v", l.loads)
		}
	})
	t.Run("window ends inside a page: answer known without a request", func(t *testing.T) {
		t.Parallel()
		l := &fakeList{n: 40}
		conn, err := Resolve(t.Context(), l.source(), Args{First: ptr(5), After: ptr(EncodeCursor(11, f))}, f, testLimits, wantAll)
		if err != nil || !conn.PageInfo.HasNextPage || !conn.PageInfo.HasPreviousPage || conn.Edges()[0].Node.ID != "a12" {
			t.Fatalf("info = %+v, %v", conn.PageInfo, err)
		}
		if !slices.Equal(l.loads, []string{"1/10"}) {
			t.Fatalf("loads = %v", l.loads)
		}
	})
}

func TestFirstWindowIsOneExactUpstreamPage(t *testing.T) {
	t.Parallel()
	f := mustFilter(t)
	for _, tc := range []struct {
		name      string
		n         int
		args      Args
		want      Want
		loads     []string
		edges     int
		hasNext   bool
		lastEdgeN string
	}{
		{"page 0 with hasNextPage: one more attempt", 40, Args{Page: ptr(0), PageSize: ptr(5)}, Want{HasNextPage: true}, []string{"0/6"}, 5, true, "a4"},
		{"page 0 with hasNextPage, list of exactly the page", 5, Args{Page: ptr(0), PageSize: ptr(5)}, Want{HasNextPage: true}, []string{"0/6"}, 5, false, "a4"},
		{"page 0 without hasNextPage: the page", 40, Args{Page: ptr(0), PageSize: ptr(5)}, Want{}, []string{"0/5"}, 5, false, "a4"},
		{"first without after", 40, Args{First: ptr(3)}, wantAll, []string{"0/4"}, 3, true, "a2"},
		{"first: 0 with hasNextPage: one attempt", 40, Args{First: ptr(0)}, wantAll, []string{"0/1"}, 0, true, ""},
		{"first: 0 without hasNextPage: no request", 40, Args{First: ptr(0)}, Want{}, nil, 0, false, ""},
		// The exact page would be larger than REVOX_PAGE_SIZE (10 here):
		// page mode keeps its own page and looks ahead, cursor mode cuts
		// from upstream pages.
		{"page 0 larger than the upstream page size", 40, Args{Page: ptr(0), PageSize: ptr(10)}, Want{HasNextPage: true}, []string{"0/10", "1/10"}, 10, true, "a9"},
		{"first larger than the upstream page size", 40, Args{First: ptr(12)}, Want{HasNextPage: true}, []string{"0/10", "1/10"}, 12, true, "a11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := &fakeList{n: tc.n}
			conn, err := Resolve(t.Context(), l.source(), tc.args, f, testLimits, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(l.loads, tc.loads) {
				t.Fatalf("loads = %v, want %v", l.loads, tc.loads)
			}
			if len(conn.Edges()) != tc.edges || conn.PageInfo.HasNextPage != tc.hasNext {
				t.Fatalf("%d edges, hasNextPage %v; want %d, %v", len(conn.Edges()), conn.PageInfo.HasNextPage, tc.edges, tc.hasNext)
			}
			if tc.edges > 0 && conn.Edges()[tc.edges-1].Node.ID != tc.lastEdgeN {
				t.Fatalf("last edge %s, want %s", conn.Edges()[tc.edges-1].Node.ID, tc.lastEdgeN)
			}
		})
	}
}

func TestStraddlingWindowLoadsPagesConcurrently(t *testing.T) {
	t.Parallel()
	l := &fakeList{n: 100}
	f := mustFilter(t)
	after := EncodeCursor(6, f) // window 7..21 spans pages 0, 1 and 2 of 10
	conn, err := Resolve(t.Context(), l.source(), Args{First: ptr(15), After: &after}, f, testLimits, Want{})
	if err != nil {
		t.Fatal(err)
	}
	if len(conn.Edges()) != 15 || conn.Edges()[0].Node.ID != "a7" || conn.Edges()[14].Node.ID != "a21" {
		t.Fatalf("edges %s..%s", conn.Edges()[0].Node.ID, conn.Edges()[len(conn.Edges())-1].Node.ID)
	}
	if l.maxPending != 3 {
		t.Fatalf("at most %d pages were in flight at once, want all 3 started before waiting", l.maxPending)
	}
}

func TestLastWithoutBeforeFindsTheEndInLogarithmicRequests(t *testing.T) {
	t.Parallel()
	f := mustFilter(t)
	for _, n := range []int{0, 5, 10, 11, 99, 100, 101, 1000, 1234} {
		t.Run(fmt.Sprintf("%d attempts", n), func(t *testing.T) {
			t.Parallel()
			l := &fakeList{n: n}
			conn, err := Resolve(t.Context(), l.source(), Args{Last: ptr(3)}, f, testLimits, wantAll)
			if err != nil {
				t.Fatal(err)
			}
			want := ids(t, n)[max(0, n-3):]
			var got []string
			for _, e := range conn.Edges() {
				got = append(got, e.Node.ID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("last 3 = %v, want %v", got, want)
			}
			if conn.PageInfo.HasNextPage || conn.PageInfo.HasPreviousPage != (n > 3) {
				t.Fatalf("info = %+v", conn.PageInfo)
			}
			if pages := n/10 + 1; len(l.loads) > 2*bitLen(pages)+2 {
				t.Fatalf("%d loads for %d pages: %v", len(l.loads), pages, l.loads)
			}
		})
	}
}

func bitLen(n int) int {
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}

func TestInvalidArgumentsMakeNoRequest(t *testing.T) {
	t.Parallel()
	f := mustFilter(t)
	other := mustFilter(t, revox.OrderCompleted)
	cases := map[string]Args{
		"page with first":            {Page: ptr(0), First: ptr(3)},
		"pageSize with after":        {PageSize: ptr(10), After: ptr(EncodeCursor(1, f))},
		"first with last":            {First: ptr(1), Last: ptr(1)},
		"after with before":          {After: ptr(EncodeCursor(1, f)), Before: ptr(EncodeCursor(5, f))},
		"pageSize zero":              {PageSize: ptr(0)},
		"pageSize above maximum":     {PageSize: ptr(101)},
		"pageSize huge":              {PageSize: ptr(100000)},
		"negative page":              {Page: ptr(-1)},
		"page beyond any list":       {Page: ptr(MaxOffset), PageSize: ptr(10)},
		"negative first":             {First: ptr(-1)},
		"first above maximum":        {First: ptr(101)},
		"negative last":              {Last: ptr(-2)},
		"garbage after":              {After: ptr("xyz")},
		"before from another filter": {Last: ptr(2), Before: ptr(EncodeCursor(4, other))},
		"after from another filter":  {After: ptr(EncodeCursor(4, other))},
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := &fakeList{n: 50}
			_, err := Resolve(t.Context(), l.source(), a, f, testLimits, wantAll)
			if !isInputError(err) {
				t.Fatalf("error = %v, want an InputError", err)
			}
			if len(l.loads) != 0 {
				t.Fatalf("upstream was asked for %v", l.loads)
			}
		})
	}
}
