package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// decodeAs undoes a Content-Encoding with the codings' reference readers.
func decodeAs(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "", "identity":
		return b
	case "gzip":
		return gunzip(t, b)
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("Content-Encoding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", coding, err)
	}
	return out
}

// variant is body with a few bytes in its middle replaced by n, so that
// answers of the same size differ.
func variant(body []byte, n int) []byte {
	b := bytes.Clone(body)
	i := bytes.Index(b, []byte(`"content":"`))
	if i < 0 {
		i = len(b)/2 - 4
	} else {
		i += len(`"content":"`)
	}
	copy(b[i:], fmt.Sprintf("%08d", n))
	return b
}

// largeAnswer is a JSON array of variants of page, over maxCachedAnswer.
func largeAnswer(page []byte) []byte {
	out := []byte{'['}
	for i := 0; len(out) <= maxCachedAnswer; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, variant(page, i)...)
	}
	return append(out, ']')
}

// writeBody answers body as the gateway does (its parts in separate
// writes), flushing after the first flushAfter bytes when above 0.
func writeBody(body []byte, flushAfter int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		rest := body
		if flushAfter > 0 {
			_, _ = w.Write(rest[:flushAfter])
			_ = http.NewResponseController(w).Flush()
			rest = rest[flushAfter:]
		}
		_, _ = w.Write(rest[:1])
		_, _ = w.Write(rest[1 : len(rest)-1])
		_, _ = w.Write(rest[len(rest)-1:])
	}
}

func serveWith(c *compressor, h http.Handler, acceptEncoding string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	req.Header.Set("Accept-Encoding", acceptEncoding)
	rec := httptest.NewRecorder()
	c.handler(h).ServeHTTP(rec, req)
	return rec
}

func TestEveryCodecConfigurationDecodesToTheIdentityAnswer(t *testing.T) {
	t.Parallel()
	page := fullPage(t)
	large := largeAnswer(page)
	type level struct {
		coding string
		cfg    Compression
	}
	levels := []level{
		{"gzip", Compression{GzipLevel: 1}}, {"gzip", Compression{GzipLevel: 3}}, {"gzip", Compression{GzipLevel: 6}}, {"gzip", Compression{GzipLevel: 9}},
		{"br", Compression{}}, {"br", Compression{BrotliLevel: 1}}, {"br", Compression{BrotliLevel: 2}}, {"br", Compression{BrotliLevel: 3}},
		{"br", Compression{BrotliLevel: 5}}, {"br", Compression{BrotliLevel: 9}},
		{"zstd", Compression{ZstdLevel: 1}}, {"zstd", Compression{ZstdLevel: 2}}, {"zstd", Compression{ZstdLevel: 3}},
		{"zstd", Compression{ZstdLevel: 4}},
	}
	for _, lv := range levels {
		name := map[string]int{"gzip": lv.cfg.GzipLevel, "br": lv.cfg.BrotliLevel, "zstd": lv.cfg.ZstdLevel}[lv.coding]
		t.Run(lv.coding+" level "+strconv.Itoa(name), func(t *testing.T) {
			t.Parallel()
			c := newCompressor(lv.cfg)
			for _, tc := range []struct {
				name       string
				body       []byte
				flushAfter int
				whole      bool // held whole: sent with its Content-Length
			}{
				{"a body at the threshold", jsonOfSize(DefaultMinBytes), 0, true},
				{"the full-field 100-attempt page", page, 0, true},
				{"another page of the same size, by the same codec", variant(page, 1), 0, true},
				{"a body too large to hold, compressed as it comes", large, 0, false},
				{"a body flushed past the threshold, then finished", page, 4096, false},
				{"the page again after a stream, by the same codec", variant(page, 2), 0, true},
			} {
				rec := serveWith(c, writeBody(tc.body, tc.flushAfter), lv.coding)
				if ce := rec.Header().Get("Content-Encoding"); ce != lv.coding {
					t.Fatalf("%s: Content-Encoding %q, want %q", tc.name, ce, lv.coding)
				}
				if got := decodeAs(t, lv.coding, rec.Body.Bytes()); !bytes.Equal(got, tc.body) {
					t.Fatalf("%s: decodes to %d bytes that differ from the %d written", tc.name, len(got), len(tc.body))
				}
				if cl := rec.Header().Get("Content-Length"); tc.whole != (cl == strconv.Itoa(rec.Body.Len())) {
					t.Errorf("%s: Content-Length %q for %d bytes (held whole: %v)", tc.name, cl, rec.Body.Len(), tc.whole)
				}
				if tc.whole && rec.Body.Len()*4 > len(tc.body) && len(tc.body) > DefaultMinBytes {
					t.Errorf("%s: %d bytes for %d, less than a 4× cut", tc.name, rec.Body.Len(), len(tc.body))
				}
			}
		})
	}
}

// countMade makes the compressor's sets count the codecs they make.
func countMade(c *compressor) *atomic.Int32 {
	var made atomic.Int32
	n := cap(c.gzip.lent)
	gz, br, zs := c.gzip.fresh, c.br.fresh, c.zstd.fresh
	c.gzip = newEncoderSet(n, func() *gzipCodec { made.Add(1); return gz() })
	c.br = newEncoderSet(n, func() *brotliCodec { made.Add(1); return br() })
	c.zstd = newEncoderSet(n, func() *zstdCodec { made.Add(1); return zs() })
	return &made
}

func TestCodecsAreLentAgainNotMadePerResponse(t *testing.T) {
	t.Parallel()
	page := fullPage(t)
	for _, coding := range []string{"gzip", "br", "zstd"} {
		t.Run(coding+" answers one after the other share one codec", func(t *testing.T) {
			t.Parallel()
			c := newCompressor(Compression{})
			made := countMade(c)
			for i := range 12 {
				body := variant(page, i)
				rec := serveWith(c, writeBody(body, 0), coding)
				if got := decodeAs(t, coding, rec.Body.Bytes()); !bytes.Equal(got, body) {
					t.Fatalf("answer %d decodes to other bytes", i)
				}
			}
			if n := made.Load(); n != 1 {
				t.Fatalf("%d codecs made for 12 answers one after the other, want 1", n)
			}
		})
		t.Run(coding+" answers at once each decode to their own bytes", func(t *testing.T) {
			t.Parallel()
			c := newCompressor(Compression{})
			made := countMade(c)
			var wg sync.WaitGroup
			errs := make(chan string, 64)
			for g := range 8 {
				wg.Go(func() {
					for i := range 6 {
						body := variant(page, 100*g+i)
						rec := serveWith(c, writeBody(body, 0), coding)
						if got := decodeAs(t, coding, rec.Body.Bytes()); !bytes.Equal(got, body) {
							errs <- fmt.Sprintf("client %d answer %d decodes to other bytes", g, i)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			if n := int(made.Load()); n > cap(c.gzip.lent) {
				t.Errorf("%d codecs made, more than the %d a coding may have", n, cap(c.gzip.lent))
			}
		})
	}
}

func TestARememberedAnswerOutlivesTheBuffersOfLaterAnswers(t *testing.T) {
	t.Parallel()
	page := fullPage(t)
	for _, coding := range []string{"gzip", "br", "zstd"} {
		t.Run(coding, func(t *testing.T) {
			t.Parallel()
			c := newCompressor(Compression{})
			a := variant(page, 1)
			serveWith(c, writeBody(a, 0), coding)
			serveWith(c, writeBody(a, 0), coding) // seen twice: remembered
			for i := range 4 {
				b := variant(page, 10+i)
				if got := decodeAs(t, coding, serveWith(c, writeBody(b, 0), coding).Body.Bytes()); !bytes.Equal(got, b) {
					t.Fatalf("answer %d decodes to other bytes", i)
				}
			}
			if got := decodeAs(t, coding, serveWith(c, writeBody(a, 0), coding).Body.Bytes()); !bytes.Equal(got, a) {
				t.Fatal("the remembered answer decodes to other bytes than its own")
			}
		})
	}
}

func TestAnswersThatAcceptNoCodingBypassTheCompressor(t *testing.T) {
	t.Parallel()
	c := newCompressor(Compression{})
	for _, tc := range []struct {
		name, method, acceptEncoding string
	}{
		{"no Accept-Encoding", http.MethodPost, ""},
		{"Accept-Encoding: identity", http.MethodPost, "identity"},
		{"every offered coding refused", http.MethodPost, "gzip;q=0, br;q=0, zstd;q=0"},
		{"HEAD", http.MethodHead, "gzip"},
	} {
		t.Run(tc.name+" reaches the handler's writer unwrapped and says Vary once", func(t *testing.T) {
			t.Parallel()
			body := jsonOfSize(4096)
			var wrapped bool
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, wrapped = w.(*compressWriter)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				_, _ = w.Write(body[:10])
				if w.(*httptest.ResponseRecorder).Body.Len() != 10 {
					t.Error("the first bytes were held back")
				}
				_, _ = w.Write(body[10:])
			})
			req := httptest.NewRequest(tc.method, "/query", nil)
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			rec := httptest.NewRecorder()
			c.handler(h).ServeHTTP(rec, req)
			if wrapped {
				t.Fatal("the response went through the compressor")
			}
			if vary := rec.Header().Values("Vary"); len(vary) != 1 || vary[0] != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding once", vary)
			}
			if rec.Header().Get("Content-Encoding") != "" || !bytes.Equal(rec.Body.Bytes(), body) || rec.Header().Get("Content-Length") != "4096" {
				t.Errorf("Content-Encoding %q, Content-Length %q, %d bytes: not the answer as written",
					rec.Header().Get("Content-Encoding"), rec.Header().Get("Content-Length"), rec.Body.Len())
			}
		})
	}
}

func TestAnAnswerDeclaredUnderTheThresholdIsWrittenThrough(t *testing.T) {
	t.Parallel()
	body := []byte(`{"data":{"__typename":"Query"}}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:5])
		if n := w.(*compressWriter).ResponseWriter.(*httptest.ResponseRecorder).Body.Len(); n != 5 {
			t.Errorf("%d bytes reached the client after the first write, want 5: held back", n)
		}
		_, _ = w.Write(body[5:])
	})
	rec := serveWith(newCompressor(Compression{}), h, "gzip")
	if rec.Header().Get("Content-Encoding") != "" || !bytes.Equal(rec.Body.Bytes(), body) || rec.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("Content-Encoding %q, Vary %q, body %q", rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"), rec.Body.Bytes())
	}
}

func TestTheLastCodecGivenBackIsLentFirst(t *testing.T) {
	t.Parallel()
	s := newEncoderSet(3, func() *gzipCodec { return newGzipCodec(1) })
	a, _ := s.get(t.Context())
	b, _ := s.get(t.Context())
	s.put(a)
	s.put(b)
	if got, _ := s.get(t.Context()); got != b {
		t.Fatal("not the codec given back last")
	}
	if got, _ := s.get(t.Context()); got != a {
		t.Fatal("not the codec given back before it")
	}
}
