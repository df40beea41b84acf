package paging

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/internal/revox"
)

// fakeList is an upstream list of n attempts that records every page load.
type fakeList struct {
	n     int
	mu    sync.Mutex
	loads []string // "index/size", in start order
	// fetched counts the attempts the pages returned.
	fetched int
	// pending counts pages started but not yet waited on, to observe concurrency.
	pending, maxPending int
	// latency is how long after its start a page arrives (a wait sleeps
	// until then): under testing/synctest, elapsed time divided by it counts
	// the upstream round trips made one after the other.
	latency time.Duration
	// lengths and scope are given to the Source.
	lengths *Lengths
	scope   string
}

func (l *fakeList) source() Source {
	return Source{Lengths: l.lengths, Scope: l.scope, Load: func(_ context.Context, index, size int) func() ([]revox.CallAttempt, error) {
		l.mu.Lock()
		l.loads = append(l.loads, fmt.Sprintf("%d/%d", index, size))
		l.pending++
		l.maxPending = max(l.maxPending, l.pending)
		n := l.n
		l.mu.Unlock()
		arrives := time.Now().Add(l.latency)
		return func() ([]revox.CallAttempt, error) {
			time.Sleep(time.Until(arrives))
			l.mu.Lock()
			defer l.mu.Unlock()
			l.pending--
			var out []revox.CallAttempt
			for i := index * size; i < min((index+1)*size, n); i++ {
				out = append(out, revox.CallAttempt{ID: fmt.Sprintf("a%d", i)})
			}
			l.fetched += len(out)
			return out, nil
		}
	}}
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
	if !slices.Equal(l.loads, []string{"2/20", "60/1"}) {
		t.Fatalf("loads = %v, want the page and, beside it, the attempt after it", l.loads)
	}
	// A page-mode cursor continues in cursor mode at the right place.
	next, err := Resolve(t.Context(), l.source(), Args{First: ptr(3), After: ptr(conn.Edges()[0].Cursor())}, f, testLimits, Want{})
	if err != nil || len(next.Edges()) != 3 || next.Edges()[0].Node.ID != "a41" {
		t.Fatalf("continuing from a page-mode cursor: %+v, %v", next, err)
	}
}

func TestLookAheadIsOneAttemptBesideTheWindow(t *testing.T) {
	t.Parallel()
	f := mustFilter(t)
	for _, tc := range []struct {
		name    string
		n       int
		args    Args
		want    Want
		loads   []string
		hasNext bool
	}{
		// testLimits cut cursor windows from pages of at most 10; page
		// mode keeps its own page size.
		{"page 1 of 20 with hasNextPage: the page and the attempt after it", 60, Args{Page: ptr(1), PageSize: ptr(20)}, Want{HasNextPage: true}, []string{"1/20", "40/1"}, true},
		{"full last page: the attempt after it does not exist", 40, Args{Page: ptr(1), PageSize: ptr(20)}, Want{HasNextPage: true}, []string{"1/20", "40/1"}, false},
		{"hasNextPage not selected: no look-ahead", 60, Args{Page: ptr(1), PageSize: ptr(20)}, Want{}, []string{"1/20"}, false},
		{"window and look-ahead in one aligned page", 40, Args{First: ptr(5), After: ptr(EncodeCursor(11, f))}, wantAll, []string{"2/6"}, true},
		{"aligned window, look-ahead beside it", 100, Args{First: ptr(10), After: ptr(EncodeCursor(29, f))}, wantAll, []string{"3/10", "40/1"}, true},
		{"backward from a cursor: the attempt at the cursor is the look-ahead", 100, Args{Last: ptr(10), Before: ptr(EncodeCursor(40, f))}, wantAll, []string{"3/10", "40/1"}, true},
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
			if conn.PageInfo.HasNextPage != tc.hasNext {
				t.Fatalf("hasNextPage = %v", conn.PageInfo.HasNextPage)
			}
			if l.maxPending != len(l.loads) {
				t.Fatalf("%d of %d pages were in flight at once, want all started before any is waited on", l.maxPending, len(l.loads))
			}
		})
	}
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
		// page mode keeps its own page and looks ahead with one attempt,
		// cursor mode loads two pages of at most 10 that hold the window
		// and the attempt after it.
		{"page 0 larger than the upstream page size", 40, Args{Page: ptr(0), PageSize: ptr(10)}, Want{HasNextPage: true}, []string{"0/10", "10/1"}, 10, true, "a9"},
		{"first larger than the upstream page size", 40, Args{First: ptr(12)}, Want{HasNextPage: true}, []string{"0/7", "1/7"}, 12, true, "a11"},
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
	after := EncodeCursor(6, f) // window 7..21 is longer than one page of 10
	conn, err := Resolve(t.Context(), l.source(), Args{First: ptr(15), After: &after}, f, testLimits, Want{})
	if err != nil {
		t.Fatal(err)
	}
	if len(conn.Edges()) != 15 || conn.Edges()[0].Node.ID != "a7" || conn.Edges()[14].Node.ID != "a21" {
		t.Fatalf("edges %s..%s", conn.Edges()[0].Node.ID, conn.Edges()[len(conn.Edges())-1].Node.ID)
	}
	if len(l.loads) < 2 || l.maxPending != len(l.loads) {
		t.Fatalf("loads %v, at most %d in flight at once; want all started before waiting", l.loads, l.maxPending)
	}
}

func TestLastWithoutBeforeFindsTheEnd(t *testing.T) {
	t.Parallel()
	f := mustFilter(t)
	for _, n := range []int{0, 2, 3, 5, 10, 11, 99, 100, 101, 1000, 1234, 100_000} {
		for _, last := range []int{0, 1, 3, 20} {
			t.Run(fmt.Sprintf("%d attempts, last %d", n, last), func(t *testing.T) {
				t.Parallel()
				l := &fakeList{n: n}
				conn, err := Resolve(t.Context(), l.source(), Args{Last: ptr(last)}, f, testLimits, wantAll)
				if err != nil {
					t.Fatal(err)
				}
				want := ids(t, n)[max(0, n-last):]
				got := []string{}
				for _, e := range conn.Edges() {
					got = append(got, e.Node.ID)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("last %d = %v, want %v", last, got, want)
				}
				if conn.PageInfo.HasNextPage || conn.PageInfo.HasPreviousPage != (n > last) {
					t.Fatalf("info = %+v", conn.PageInfo)
				}
			})
		}
	}
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
