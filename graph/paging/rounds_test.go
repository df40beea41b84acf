package paging

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// latency is the fake upstream's answer time in these tests: under
// synctest, time passes only while every goroutine waits, so the elapsed
// time of a query divided by it is exactly the number of upstream round
// trips it waited for one after the other.
const latency = 100 * time.Millisecond

// rounds resolves a against l and returns the round trips it waited for.
func rounds(t *testing.T, l *fakeList, a Args, want Want) int {
	t.Helper()
	start := time.Now()
	if _, err := Resolve(t.Context(), l.source(), a, mustFilter(t), Limits{DefaultSize: 20, MaxSize: 100, UpstreamPageSize: 100}, want); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if elapsed%latency != 0 {
		t.Fatalf("elapsed %v is not a whole number of round trips", elapsed)
	}
	return int(elapsed / latency)
}

func TestNoQueryShapeWaitsForMoreThanTwoRoundTrips(t *testing.T) {
	t.Parallel()
	f := mustFilter(t)
	at := func(off int) *string { return ptr(EncodeCursor(off, f)) }
	for _, tc := range []struct {
		name   string
		args   Args
		want   Want
		rounds int
	}{
		{"page: 3, pageSize: 20", Args{Page: ptr(3), PageSize: ptr(20)}, Want{}, 1},
		{"page: 3, pageSize: 20 with hasNextPage", Args{Page: ptr(3), PageSize: ptr(20)}, wantAll, 1},
		{"first: 20", Args{First: ptr(20)}, wantAll, 1},
		{"first: 20 after a cursor", Args{First: ptr(20), After: at(59)}, wantAll, 1},
		{"a window crossing two upstream pages", Args{First: ptr(30), After: at(84)}, wantAll, 1},
		{"last: 20 before a cursor", Args{Last: ptr(20), Before: at(500)}, wantAll, 1},
		{"first: 20 past the end, hasPreviousPage asks whether the list is empty", Args{First: ptr(20), After: at(5000)}, wantAll, 2},
		{"last: 0 at the end", Args{Last: ptr(0)}, wantAll, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := &fakeList{n: 1010, latency: latency}
				if got := rounds(t, l, tc.args, tc.want); got != tc.rounds {
					t.Fatalf("%d round trips in sequence (loads %v), want %d", got, l.loads, tc.rounds)
				}
			})
		})
	}
}

func TestTheEndOfTheListIsFoundInFewRoundTrips(t *testing.T) {
	t.Parallel()
	lastPage := Args{Last: ptr(20)}
	t.Run("with nothing remembered: 4 round trips for 1,010 attempts, 5 for 10,000", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			for n, want := range map[int]int{1010: 4, 10_000: 5, 15: 2, 0: 2} {
				l := &fakeList{n: n, latency: latency}
				if got := rounds(t, l, lastPage, wantAll); got != want {
					t.Errorf("%d attempts: %d round trips, want %d (loads %v)", n, got, want, l.loads)
				}
			}
		})
	})
	t.Run("remembered and unchanged: one round trip, the window and the attempt after it", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			l := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16), scope: "tenant a"}
			rounds(t, l, lastPage, wantAll)
			l.loads = nil
			if got := rounds(t, l, lastPage, wantAll); got != 1 || len(l.loads) > 4 {
				t.Fatalf("%d round trips, loads %v; want 1", got, l.loads)
			}
		})
	})
	t.Run("remembered from a forward walk that reached the end: one round trip", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			l := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16), scope: "tenant a"}
			rounds(t, l, Args{First: ptr(20), After: ptr(EncodeCursor(999, mustFilter(t)))}, wantAll)
			if got := rounds(t, l, lastPage, wantAll); got != 1 {
				t.Fatalf("%d round trips, want 1", got)
			}
		})
	})
	t.Run("remembered, then the list shrank by less than the window: two round trips", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			l := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16), scope: "tenant a"}
			rounds(t, l, lastPage, wantAll)
			l.n = 1003
			if got := rounds(t, l, lastPage, wantAll); got != 2 {
				t.Fatalf("%d round trips, want 2", got)
			}
		})
	})
	t.Run("remembered, then the list grew by less than the window: two round trips", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			l := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16), scope: "tenant a"}
			rounds(t, l, lastPage, wantAll)
			l.n = 1027
			if got := rounds(t, l, lastPage, wantAll); got != 2 {
				t.Fatalf("%d round trips, want 2", got)
			}
		})
	})
	t.Run("remembered, then the list grew by 90: searched from there, 4 round trips", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			l := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16), scope: "tenant a"}
			rounds(t, l, lastPage, wantAll)
			l.n = 1100
			if got := rounds(t, l, lastPage, wantAll); got != 4 {
				t.Fatalf("%d round trips, want 4", got)
			}
		})
	})
	t.Run("a length remembered under another credential is not used", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			lengths := NewLengths(time.Minute, 16)
			a := &fakeList{n: 1010, latency: latency, lengths: lengths, scope: "tenant a"}
			rounds(t, a, lastPage, wantAll)
			b := &fakeList{n: 1010, latency: latency, lengths: lengths, scope: "tenant b"}
			if got := rounds(t, b, lastPage, wantAll); got != 4 {
				t.Fatalf("%d round trips, want the 4 of a search", got)
			}
		})
	})
	t.Run("a remembered length expires", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			l := &fakeList{n: 1010, latency: latency, lengths: NewLengths(time.Minute, 16), scope: "tenant a"}
			rounds(t, l, lastPage, wantAll)
			time.Sleep(time.Minute)
			if got := rounds(t, l, lastPage, wantAll); got != 4 {
				t.Fatalf("%d round trips, want the 4 of a search", got)
			}
		})
	})
}

// TestWhatTheSearchForTheEndCosts pins, per list length, what a `last: n`
// with nothing remembered costs: round trips in sequence (latency) and
// upstream requests (the rate limit), and bounds the attempts it fetches.
// A change to the search that makes any of them worse shows here.
func TestWhatTheSearchForTheEndCosts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ length, last, rounds, requests int }{
		{0, 20, 2, 9}, {1, 20, 2, 9}, {19, 20, 2, 9}, {20, 20, 3, 17}, {21, 100, 2, 9},
		{80, 20, 4, 26}, {100, 20, 4, 26}, {100, 100, 3, 18}, {320, 20, 4, 25}, {320, 100, 3, 19},
		{500, 100, 4, 27}, {1010, 20, 4, 26}, {1010, 100, 4, 27}, {5000, 20, 5, 35}, {5000, 100, 4, 26},
		{10_000, 20, 5, 34}, {100_000, 20, 7, 50}, {100_000, 100, 6, 43},
	} {
		t.Run(fmt.Sprintf("%d attempts, last %d", tc.length, tc.last), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := &fakeList{n: tc.length, latency: latency}
				got := rounds(t, l, Args{Last: ptr(tc.last)}, wantAll)
				if got != tc.rounds || len(l.loads) != tc.requests {
					t.Fatalf("%d round trips and %d requests (%v), want %d and %d", got, len(l.loads), l.loads, tc.rounds, tc.requests)
				}
				// The window, an attempt per probe, and a bracket narrower
				// than half the window.
				served := min(tc.length, tc.last)
				if l.fetched > served+len(l.loads)+tc.last/2 {
					t.Fatalf("%d attempts fetched to serve %d in %d requests", l.fetched, served, len(l.loads))
				}
			})
		})
	}
}
