package revox

import (
	"testing"
	"time"
)

func TestListCallsFresh(t *testing.T) {
	t.Parallel()
	t.Run("reads the upstream every time, past the cache", func(t *testing.T) {
		t.Parallel()
		s := &scripted{}
		c := newScripted(t, s, WithCache(time.Minute, 16))
		for range 2 {
			if _, err := c.ListCalls(t.Context(), onePage); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			items, err := c.ListCallsFresh(t.Context(), onePage)
			if err != nil || len(items) != 1 {
				t.Fatalf("ListCallsFresh = %v, %v", items, err)
			}
		}
		if n := s.hits.Load(); n != 3 {
			t.Fatalf("upstream hits %d, want 1 cached ListCalls and 2 fresh reads", n)
		}
	})
	t.Run("authenticates with the credential given, else the client's key", func(t *testing.T) {
		t.Parallel()
		s := &scripted{}
		c := newScripted(t, s)
		if _, err := c.ListCallsFresh(t.Context(), ListCallsOptions{Page: 0, PageSize: 10, Credential: "sk_caller"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListCallsFresh(t.Context(), onePage); err != nil {
			t.Fatal(err)
		}
		for _, auth := range []string{"Bearer sk_caller", "Bearer " + testKey} {
			if _, ok := s.keys.Load(auth); !ok {
				t.Fatalf("no request with Authorization %q", auth)
			}
		}
	})
	t.Run("a bad page is refused before any request", func(t *testing.T) {
		t.Parallel()
		s := &scripted{}
		c := newScripted(t, s)
		if _, err := c.ListCallsFresh(t.Context(), ListCallsOptions{Page: -1, PageSize: 10}); err == nil {
			t.Fatal("no error")
		}
		if s.hits.Load() != 0 {
			t.Fatal("a request was made")
		}
	})
}
