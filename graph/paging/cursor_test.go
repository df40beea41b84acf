package paging

import (
	"errors"
	"testing"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

func mustFilter(t testing.TB, statuses ...revox.OrderStatus) Filter {
	t.Helper()
	f, err := NewFilter(statuses)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	none := mustFilter(t)
	done := mustFilter(t, revox.OrderCompleted)
	for _, off := range []int{0, 1, 19, 20, 99, 100, 12345, MaxOffset} {
		for _, f := range []Filter{none, done} {
			c := EncodeCursor(off, f)
			got, err := DecodeCursor("after", c, f)
			if err != nil || got != off {
				t.Fatalf("DecodeCursor(EncodeCursor(%d)) = %d, %v", off, got, err)
			}
			if again := EncodeCursor(off, f); again != c {
				t.Fatalf("cursor for offset %d is not stable: %q then %q", off, c, again)
			}
		}
	}
}

func TestFilterIsCanonical(t *testing.T) {
	t.Parallel()
	a := mustFilter(t, revox.OrderCompleted, revox.OrderCalling, revox.OrderCompleted)
	b := mustFilter(t, revox.OrderCalling, revox.OrderCompleted)
	if a.Key != b.Key || EncodeCursor(5, a) != EncodeCursor(5, b) {
		t.Fatalf("same set of statuses gave different filters: %q vs %q", a.Key, b.Key)
	}
	if a.Key != "calling,completed" {
		t.Fatalf("Key = %q", a.Key)
	}
	if got := ParseFilterKey(a.Key); len(got) != 2 || got[0] != revox.OrderCalling || got[1] != revox.OrderCompleted {
		t.Fatalf("ParseFilterKey = %v", got)
	}
	if ParseFilterKey("") != nil {
		t.Fatal("empty key should mean no filter")
	}
	if _, err := NewFilter([]revox.OrderStatus{revox.OrderPaused}); !isInputError(err) {
		t.Fatalf("PAUSED is not a documented filter value; got %v", err)
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	t.Parallel()
	none := mustFilter(t)
	done := mustFilter(t, revox.OrderCompleted)
	cases := map[string]string{
		"garbage":                   "not-a-cursor!",
		"empty":                     "",
		"base64 of something else":  "aGVsbG8",
		"negative offset":           b64("c1:-1:0"),
		"leading zero":              b64("c1:01:0"),
		"offset too large":          b64("c1:1099511627777:0"),
		"missing filter":            b64("c1:5"),
		"other version":             b64("c2:5:0"),
		"uppercase hex":             b64("c1:5:ABC"),
		"too long":                  b64("c1:5:0" + string(make([]byte, 80))),
		"made under another filter": EncodeCursor(3, done),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodeCursor("after", c, none); !isInputError(err) {
				t.Fatalf("DecodeCursor(%q) error = %v, want *model.InputError", c, err)
			}
		})
	}
}

func isInputError(err error) bool {
	var ie *model.InputError
	return errors.As(err, &ie)
}

func FuzzDecodeCursor(f *testing.F) {
	none := mustFilter(f)
	for _, s := range []string{EncodeCursor(0, none), EncodeCursor(123, none), "", "Yzo6", b64("c1:9:0"), b64("c1:1:ffffffff")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		off, err := DecodeCursor("after", s, none)
		if err != nil {
			if !isInputError(err) {
				t.Fatalf("error %v is not an InputError", err)
			}
			return
		}
		if off < 0 || off > MaxOffset {
			t.Fatalf("decoded offset %d out of range", off)
		}
		if EncodeCursor(off, none) != s {
			t.Fatalf("accepted non-canonical cursor %q for offset %d", s, off)
		}
	})
}
