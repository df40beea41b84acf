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

// A cursor that is not one of the filter's is a client's mistake naming
// its argument.
func TestDecodeCursorRejectsAsInputError(t *testing.T) {
	t.Parallel()
	none := mustFilter(t)
	done := mustFilter(t, revox.OrderCompleted)
	for name, c := range map[string]string{
		"garbage":                   "not-a-cursor!",
		"made under another filter": EncodeCursor(3, done),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeCursor("after", c, none)
			var ie *model.InputError
			if !errors.As(err, &ie) || ie.Argument != "after" {
				t.Fatalf("DecodeCursor(%q) error = %v, want an InputError naming after", c, err)
			}
		})
	}
	if off, err := DecodeCursor("before", EncodeCursor(7, done), done); err != nil || off != 7 {
		t.Fatalf("a cursor of the same filter: %d, %v", off, err)
	}
}

func isInputError(err error) bool {
	var ie *model.InputError
	return errors.As(err, &ie)
}
