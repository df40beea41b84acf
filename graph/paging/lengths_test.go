package paging

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

func TestLengthsAreBoundedAndShortLived(t *testing.T) {
	t.Parallel()
	t.Run("no more entries than the bound are kept", func(t *testing.T) {
		t.Parallel()
		l := NewLengths(time.Minute, 3)
		for i := range 10 {
			l.put(fmt.Sprint("scope ", i), "", i)
		}
		if len(l.byID) != 3 {
			t.Fatalf("%d entries kept, want 3", len(l.byID))
		}
		if n, ok := l.get("scope 9", ""); !ok || n != 9 {
			t.Fatalf("the latest entry = %d, %v", n, ok)
		}
	})
	t.Run("an entry is forgotten after its TTL", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			l := NewLengths(time.Minute, 3)
			l.put("a", "completed", 42)
			time.Sleep(time.Minute - time.Second)
			if n, ok := l.get("a", "completed"); !ok || n != 42 {
				t.Fatalf("before the TTL: %d, %v", n, ok)
			}
			time.Sleep(time.Second)
			if _, ok := l.get("a", "completed"); ok {
				t.Fatal("still remembered after the TTL")
			}
		})
	})
	t.Run("scopes and filters are apart", func(t *testing.T) {
		t.Parallel()
		l := NewLengths(time.Minute, 8)
		l.put("a", "", 10)
		for _, k := range [][2]string{{"b", ""}, {"a", "completed"}} {
			if _, ok := l.get(k[0], k[1]); ok {
				t.Fatalf("scope %q filter %q sees another's length", k[0], k[1])
			}
		}
	})
	t.Run("a nil memo remembers nothing", func(t *testing.T) {
		t.Parallel()
		var l *Lengths
		l.put("a", "", 1)
		if _, ok := l.get("a", ""); ok {
			t.Fatal("nil memo remembered")
		}
	})
}

func TestAListWithNoEndInReachIsRefused(t *testing.T) {
	t.Parallel()
	l := &fakeList{n: MaxOffset + 10}
	_, err := Resolve(t.Context(), l.source(), Args{Last: ptr(20)}, mustFilter(t), testLimits, wantAll)
	if !errors.Is(err, ErrListTooLong) {
		t.Fatalf("error = %v, want ErrListTooLong", err)
	}
}
