package revox

import (
	"errors"
	"net/http"
	"testing"
)

// The client asks for gzip and decodes it itself; the body limit counts
// decompressed bytes.
func TestGzipBodies(t *testing.T) {
	t.Parallel()
	page := readTestdata(t, "list_page.json")
	t.Run("a gzipped page reads as the plain one", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Accept-Encoding") != "gzip" {
				t.Errorf("Accept-Encoding = %q, want gzip", r.Header.Get("Accept-Encoding"))
			}
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipped(t, page))
		})
		calls, err := newTestClient(t, u).ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
		want, _ := decodeListPage(page, everyAttemptField, 100)
		if err != nil || len(calls) != len(want) || calls[0].ID != want[0].ID {
			t.Fatalf("ListCalls = %d attempts, %v", len(calls), err)
		}
	})
	t.Run("a corrupt gzip body is a bad response", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			z := gzipped(t, page)
			z[len(z)/2] ^= 0xff
			_, _ = w.Write(z)
		})
		_, err := newTestClient(t, u).ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
		checkSentinel(t, err, ErrBadResponse)
	})
	t.Run("a gzipped error body gives its message", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write(gzipped(t, []byte(`{"message": "page_size too large"}`)))
		})
		_, err := newTestClient(t, u).ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Message != "page_size too large" {
			t.Fatalf("err = %v, want the upstream's message", err)
		}
	})
	t.Run("an error status with an unknown Content-Encoding keeps its meaning", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		_, err := newTestClient(t, u).ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
		checkSentinel(t, err, ErrUnavailable)
	})
	t.Run("an unknown Content-Encoding is a bad response", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			_, _ = w.Write(page)
		})
		_, err := newTestClient(t, u).ListCalls(t.Context(), ListCallsOptions{PageSize: 10})
		checkSentinel(t, err, ErrBadResponse)
	})
}
