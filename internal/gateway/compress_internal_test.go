package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestAcceptEncodingIsNegotiatedWithQValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		accept []string
		want   contentCoding
	}{
		{"no Accept-Encoding is identity", nil, codingIdentity},
		{"an empty Accept-Encoding is identity", []string{""}, codingIdentity},
		{"what Chromium and Firefox send is answered with zstd, the cheapest", []string{"gzip, deflate, br, zstd"}, codingZstd},
		{"zstd alone is zstd", []string{"zstd"}, codingZstd},
		{"zstd preferred by q is zstd", []string{"gzip;q=0.9, zstd"}, codingZstd},
		{"gzip alone is gzip", []string{"gzip"}, codingGzip},
		{"x-gzip is gzip", []string{"x-gzip"}, codingGzip},
		{"coding names are case-insensitive", []string{"GZip"}, codingGzip},
		{"br alone is br", []string{"br"}, codingBrotli},
		{"a higher q wins over the gateway's preference", []string{"gzip;q=0.5, br;q=0.9"}, codingBrotli},
		{"q=0 refuses a coding", []string{"gzip;q=0, br;q=0, zstd"}, codingZstd},
		{"a wildcard offers every coding", []string{"*"}, codingZstd},
		{"a wildcard with zstd refused is gzip", []string{"zstd;q=0, *"}, codingGzip},
		{"a wildcard does not override a listed refusal", []string{"gzip;q=0, *"}, codingZstd},
		{"what Safari and Node's fetch send is answered with gzip", []string{"gzip, deflate, br"}, codingGzip},
		{"br and zstd without gzip is zstd", []string{"br, zstd"}, codingZstd},
		{"br preferred by q is br", []string{"gzip;q=0.8, br"}, codingBrotli},
		{"a refusing wildcard with nothing listed is identity", []string{"*;q=0"}, codingIdentity},
		{"identity preferred outright is identity", []string{"gzip;q=0.5, identity"}, codingIdentity},
		{"only unknown codings is identity", []string{"deflate, compress"}, codingIdentity},
		{"a malformed q drops its element only", []string{"gzip;q=high, zstd"}, codingZstd},
		{"a q above 1 drops its element only", []string{"zstd;q=2, br"}, codingBrotli},
		{"values across several header lines count together", []string{"gzip;q=0.2", "br;q=0.4"}, codingBrotli},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := negotiateEncoding(tc.accept); got != tc.want {
				t.Fatalf("negotiateEncoding(%q) = %v, want %v", tc.accept, got, tc.want)
			}
		})
	}
}

// serveThrough runs h behind the compressor for a request with the given
// method and Accept-Encoding.
func serveThrough(h http.HandlerFunc, method, acceptEncoding string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/query", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	newCompressor(Compression{}).handler(h).ServeHTTP(rec, req)
	return rec
}

// writeJSON answers status with a JSON body of n bytes, written one byte
// at a time so that the threshold is crossed inside a write sequence.
func writeJSON(status, n int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		body := jsonOfSize(n)
		for i := range body {
			_, _ = w.Write(body[i : i+1])
		}
	}
}

func jsonOfSize(n int) []byte {
	if n < 2 {
		return bytes.Repeat([]byte(" "), n)
	}
	return append(append([]byte{'"'}, bytes.Repeat([]byte("a"), n-2)...), '"')
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResponsesAreCompressedFromTheThresholdOn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		handler    http.HandlerFunc
		method     string
		status     int
		compressed bool
	}{
		{"a body one byte under the threshold is sent as it is", writeJSON(200, DefaultMinBytes-1), "GET", 200, false},
		{"a body at the threshold is compressed", writeJSON(200, DefaultMinBytes), "GET", 200, true},
		{"an error body keeps its status when compressed", writeJSON(500, 4096), "GET", 500, true},
		{"a 400 keeps its status when compressed", writeJSON(400, 4096), "POST", 400, true},
		{"an event stream is never compressed", writeJSON(200, 4096, "Content-Type", "text/event-stream"), "GET", 200, false},
		{"an image is not compressed", writeJSON(200, 4096, "Content-Type", "image/png"), "GET", 200, false},
		{"a body without Content-Type is not compressed", writeJSON(200, 4096, "Content-Type", ""), "GET", 200, false},
		{"a body its handler encoded is left alone", writeJSON(200, 4096, "Content-Encoding", "br"), "GET", 200, false},
		{"HEAD is answered as it is", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "4096")
		}, "HEAD", 200, false},
		{"204 carries no Content-Encoding", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNoContent)
		}, "GET", 204, false},
		{"304 carries no Content-Encoding", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		}, "GET", 304, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plain := serveThrough(tc.handler, tc.method, "")
			rec := serveThrough(tc.handler, tc.method, "gzip")
			if rec.Code != tc.status || plain.Code != tc.status {
				t.Fatalf("status %d (identity %d), want %d", rec.Code, plain.Code, tc.status)
			}
			if v := rec.Header().Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept-Encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", v)
			}
			got := rec.Body.Bytes()
			switch ce := rec.Header().Get("Content-Encoding"); {
			case tc.compressed && ce != "gzip":
				t.Fatalf("Content-Encoding %q, want gzip", ce)
			case tc.compressed:
				if cl := rec.Header().Get("Content-Length"); cl != "" && cl != fmt.Sprint(rec.Body.Len()) {
					t.Errorf("Content-Length %q for %d compressed bytes", cl, rec.Body.Len())
				}
				got = gunzip(t, got)
			case !tc.compressed && ce == "gzip":
				t.Fatal("compressed, want the body as it is")
			}
			if !bytes.Equal(got, plain.Body.Bytes()) {
				t.Fatalf("body %d bytes, identity %d bytes", len(got), plain.Body.Len())
			}
		})
	}
}

func TestAStrongETagIsWeakenedWhenTheBodyIsCompressed(t *testing.T) {
	t.Parallel()
	rec := serveThrough(writeJSON(200, 4096, "ETag", `"v1"`), "GET", "gzip")
	if got := rec.Header().Get("ETag"); got != `W/"v1"` {
		t.Fatalf("ETag %q, want W/\"v1\"", got)
	}
}

func TestAFlushBeforeTheThresholdSendsWhatIsHeld(t *testing.T) {
	t.Parallel()
	flushed := make(chan int, 1)
	h := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`"first"`))
		_ = http.NewResponseController(w).Flush()
		flushed <- w.(*compressWriter).ResponseWriter.(*httptest.ResponseRecorder).Body.Len()
		_, _ = w.Write(jsonOfSize(4096))
	}
	rec := serveThrough(h, "GET", "gzip")
	if n := <-flushed; n != len(`"first"`) || !rec.Flushed {
		t.Fatalf("%d bytes reached the client at the flush (flushed %v), want 7", n, rec.Flushed)
	}
	if ce := rec.Header().Get("Content-Encoding"); ce != "" {
		t.Fatalf("a stream that flushed early is compressed (%q)", ce)
	}
}

// BenchmarkCompressFullPage is the CPU one response costs in each coding
// and level: the full-field 100-attempt page written through the
// compressor, a few bytes changed on each request so that the answer cache
// never answers (BenchmarkCompressRepeatedPage measures when it does).
// "cold" first evicts the CPU's caches (16 MiB touched, not timed), as the
// rest of a request's work does in a server: an encoder's state (hash
// tables of 128 to 256 KiB among it) is then read from memory, which costs
// each coding 30–100% more than "warm". go run ./bench/wire measures the
// same in req/s.
func BenchmarkCompressFullPage(b *testing.B) {
	page := fullPage(b)
	varying := bytes.Index(page, []byte(`"content":"`)) + len(`"content":"`)
	evict := make([]byte, 16<<20)
	n := 0
	for _, cache := range []string{"warm", "cold"} {
		for _, tc := range []struct {
			accept string
			cfg    Compression
		}{
			{"identity", Compression{}},
			{"gzip", Compression{GzipLevel: 1}},
			{"gzip", Compression{GzipLevel: 4}},
			{"br", Compression{}},
			{"br", Compression{BrotliLevel: 1}},
			{"br", Compression{BrotliLevel: 2}},
			{"zstd", Compression{ZstdLevel: 1}},
			{"zstd", Compression{ZstdLevel: 2}},
		} {
			level := map[string]int{"identity": 0, "gzip": tc.cfg.GzipLevel, "br": tc.cfg.BrotliLevel, "zstd": tc.cfg.ZstdLevel}[tc.accept]
			b.Run(fmt.Sprintf("%s/%s=%d", cache, tc.accept, level), func(b *testing.B) {
				h := newCompressor(tc.cfg).handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					n++
					copy(page[varying:], fmt.Sprintf("%08d", n)) // never the same answer twice
					_, _ = w.Write(page)
				}))
				req := httptest.NewRequest(http.MethodPost, "/query", nil)
				req.Header.Set("Accept-Encoding", tc.accept)
				var w countingWriter
				b.SetBytes(int64(len(page)))
				b.ReportAllocs()
				for b.Loop() {
					if cache == "cold" {
						b.StopTimer()
						for i := 0; i < len(evict); i += 64 {
							evict[i]++
						}
						b.StartTimer()
					}
					w.header, w.n = http.Header{}, 0
					h.ServeHTTP(&w, req)
				}
				b.ReportMetric(float64(w.n), "wire-bytes")
			})
		}
	}
}

// BenchmarkCompressRepeatedPage is the CPU of the same full page answered
// again: from the answer cache.
func BenchmarkCompressRepeatedPage(b *testing.B) {
	page := fullPage(b)
	for _, coding := range []string{"identity", "gzip", "br", "zstd"} {
		b.Run(coding, func(b *testing.B) {
			h := newCompressor(Compression{}).handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(page)
			}))
			req := httptest.NewRequest(http.MethodPost, "/query", nil)
			req.Header.Set("Accept-Encoding", coding)
			var w countingWriter
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				w.header, w.n = http.Header{}, 0
				h.ServeHTTP(&w, req)
			}
			b.ReportMetric(float64(w.n), "wire-bytes")
		})
	}
}

// fullPage is the gateway's answer to the full-field 100-attempt page.
func fullPage(b testing.TB) []byte {
	b.Helper()
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer up.Close()
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		b.Fatal(err)
	}
	h := New(Config{Upstream: client, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Compression: Compression{Disable: true}})
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{ calls(page: 0, pageSize: 100) { edges { cursor node { id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw structuredOutput transcriptLength transcript { role roleRaw content toolName toolArguments toolIsError } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("status %d: %.300s", rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes()
}

// countingWriter is a ResponseWriter that counts the body's bytes.
type countingWriter struct {
	header http.Header
	n      int
}

func (w *countingWriter) Header() http.Header         { return w.header }
func (w *countingWriter) WriteHeader(int)             {}
func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func TestAResponseWaitsForAFreeEncoderWhileItsRequestLasts(t *testing.T) {
	t.Parallel()
	c := newCompressor(Compression{})
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	var lent []*gzipCodec
	for len(lent) <= 1000 {
		e, ok := c.gzip.get(ended) // a free or new encoder is lent even so
		if !ok {
			break
		}
		lent = append(lent, e)
	}
	if len(lent) > 1000 {
		t.Fatal("the encoders of a coding are not bounded")
	}
	serve := func(ctx context.Context) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/query", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		c.handler(writeJSON(200, 4096)).ServeHTTP(rec, req)
		return rec
	}
	if rec := serve(ended); rec.Header().Get("Content-Encoding") != "" || rec.Body.Len() != 4096 {
		t.Fatalf("a request that ended while every encoder was lent: Content-Encoding %q, %d bytes", rec.Header().Get("Content-Encoding"), rec.Body.Len())
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(t.Context()) }()
	select {
	case <-done:
		t.Fatal("answered while every encoder was lent")
	case <-time.After(50 * time.Millisecond):
	}
	c.gzip.put(lent[0])
	if rec := <-done; rec.Header().Get("Content-Encoding") != "gzip" || len(gunzip(t, rec.Body.Bytes())) != 4096 {
		t.Fatalf("once an encoder was back: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	if rec := serve(t.Context()); rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatal("the encoder was not given back after the response")
	}
}

func TestIdenticalAnswersAreCompressedOnceAndOnlyIdenticalOnes(t *testing.T) {
	t.Parallel()
	c := newCompressor(Compression{})
	serve := func(body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/query", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		c.handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		})).ServeHTTP(rec, req)
		return rec
	}
	a := jsonOfSize(8192)
	b := bytes.Clone(a)
	b[4000] = 'b' // same length, other bytes
	first := serve(a)
	if c.answers.entries.Len() != 0 {
		t.Error("an answer seen once is remembered")
	}
	second, third := serve(a), serve(a)
	otherOnce, otherTwice := serve(b), serve(b)
	if c.answers.entries.Len() != 2 {
		t.Errorf("%d answers remembered, want 2 (a and b, each seen twice)", c.answers.entries.Len())
	}
	for name, tc := range map[string]struct {
		rec  *httptest.ResponseRecorder
		want []byte
	}{"first": {first, a}, "second": {second, a}, "third": {third, a}, "other, once": {otherOnce, b}, "other, twice": {otherTwice, b}} {
		if got := gunzip(t, tc.rec.Body.Bytes()); !bytes.Equal(got, tc.want) {
			t.Errorf("%s answer decodes to other bytes than its own", name)
		}
		if cl := tc.rec.Header().Get("Content-Length"); cl != fmt.Sprint(tc.rec.Body.Len()) {
			t.Errorf("%s answer: Content-Length %q for %d bytes", name, cl, tc.rec.Body.Len())
		}
	}
}

func TestAnAnswerTooLargeToRememberIsCompressedAsItComes(t *testing.T) {
	t.Parallel()
	rec := serveThrough(writeJSON(200, maxCachedAnswer+1), "GET", "gzip")
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("Content-Length") != "" {
		t.Fatalf("Content-Encoding %q, Content-Length %q", rec.Header().Get("Content-Encoding"), rec.Header().Get("Content-Length"))
	}
	if got := gunzip(t, rec.Body.Bytes()); !bytes.Equal(got, jsonOfSize(maxCachedAnswer+1)) {
		t.Fatal("decodes to other bytes")
	}
}
