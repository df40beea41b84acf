package gateway

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression sets the levels of the response encodings; zero values are
// the defaults, chosen by measurement (go run ./bench/wire).
type Compression struct {
	// Disable sends every response as it is (identity).
	Disable bool
	// GzipLevel is a compress/flate level, 1 (fastest) to 9.
	GzipLevel int
	// BrotliLevel is 1 (fastest here) to 11.
	BrotliLevel int
	// ZstdLevel is a zstd.EncoderLevel: 1 fastest, 2 default, 3 better, 4 best.
	ZstdLevel int
	// MinBytes is the smallest body compressed; smaller bodies are sent as
	// they are, because the encodings' headers and the CPU cost more than
	// they save.
	MinBytes int
}

// Defaults of Compression, each coding's fastest level: on the full-field
// 100-attempt page each cuts the bytes 7–9×, and the next levels save at
// most 15% more bytes for 1.5 to 7 times the CPU (BenchmarkCompressFullPage;
// go run ./bench/wire -gzip 1,4,6 -br 1,3,5 -zstd 1,2).
const (
	DefaultGzipLevel   = 1
	DefaultBrotliLevel = 1
	DefaultZstdLevel   = int(zstd.SpeedFastest)
	DefaultMinBytes    = 1024
)

func (c *Compression) withDefaults() {
	if c.GzipLevel == 0 {
		c.GzipLevel = DefaultGzipLevel
	}
	if c.BrotliLevel == 0 {
		c.BrotliLevel = DefaultBrotliLevel
	}
	if c.ZstdLevel == 0 {
		c.ZstdLevel = DefaultZstdLevel
	}
	if c.MinBytes == 0 {
		c.MinBytes = DefaultMinBytes
	}
}

// contentCoding is one response encoding the gateway offers.
type contentCoding int

const (
	codingIdentity contentCoding = iota
	codingZstd
	codingBrotli
	codingGzip
)

// offeredCodings are the codings in the gateway's order of preference on a
// tie of q-values, cheapest CPU per byte saved first: on the full-field
// 100-attempt page zstd and gzip at their fastest levels cut the bytes
// 7–11× at a third of what brotli's fastest level costs for 5% fewer bytes
// than gzip (BenchmarkCompressFullPage, go run ./bench/wire), so brotli is
// chosen only for a client that prefers it or takes nothing else.
var offeredCodings = [...]contentCoding{codingZstd, codingGzip, codingBrotli}

// negotiateEncoding picks the response coding from the Accept-Encoding
// values: the offered coding with the highest q above 0 (a coding not
// listed takes the q of "*"), the gateway's preference on a tie, and
// identity when the client asked for none or prefers identity outright.
func negotiateEncoding(values []string) contentCoding {
	var q [4]float64 // by contentCoding; -1 when not listed
	for i := range q {
		q[i] = -1
	}
	star := -1.0
	for _, value := range values {
		for part := range strings.SplitSeq(value, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			weight, ok := qValue(params)
			if !ok {
				continue
			}
			switch name {
			case "zstd":
				q[codingZstd] = weight
			case "br":
				q[codingBrotli] = weight
			case "gzip", "x-gzip":
				q[codingGzip] = weight
			case "identity":
				q[codingIdentity] = weight
			case "*":
				star = weight
			}
		}
	}
	best, bestQ := codingIdentity, 0.0
	for _, c := range offeredCodings {
		w := q[c]
		if w < 0 {
			w = star
		}
		if w > bestQ {
			best, bestQ = c, w
		}
	}
	if q[codingIdentity] > bestQ {
		return codingIdentity
	}
	return best
}

// qValue reads the q parameter of one Accept-Encoding element: 1 when
// absent, false when malformed.
func qValue(params string) (float64, bool) {
	for param := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}

// compressibleTypes are the media types worth compressing. Event streams
// are left out on purpose: they must flush each event as it comes.
var compressibleTypes = map[string]bool{
	mediaTypeJSON:              true,
	mediaTypeGraphQLResponse:   true,
	"text/html":                true,
	"text/plain":               true,
	"text/css":                 true,
	"text/javascript":          true,
	"application/javascript":   true,
	"application/problem+json": true,
	"image/svg+xml":            true,
}

// compressor compresses responses, with one free list of encoders per
// coding.
type compressor struct {
	cfg  Compression
	gzip *freeList[*gzip.Writer]
	br   *freeList[*brotli.Writer]
	zstd *freeList[*zstd.Encoder]
}

// freeEncoders bounds the idle encoders kept per coding: enough for the
// responses two cores compress at once with room for bursts, and a few MiB
// at most.
const freeEncoders = 32

func newCompressor(cfg Compression) *compressor {
	cfg.withDefaults()
	return &compressor{
		cfg: cfg,
		gzip: newFreeList(func() *gzip.Writer {
			w, err := gzip.NewWriterLevel(nil, cfg.GzipLevel)
			if err != nil {
				w, _ = gzip.NewWriterLevel(nil, DefaultGzipLevel)
			}
			return w
		}),
		br: newFreeList(func() *brotli.Writer { return brotli.NewWriterLevel(nil, cfg.BrotliLevel) }),
		zstd: newFreeList(func() *zstd.Encoder {
			// One goroutine per encoder (the response is written as it is
			// compressed), and a window no larger than a response needs
			// (browsers accept at most 8 MiB for zstd over HTTP).
			enc, err := zstd.NewWriter(nil,
				zstd.WithEncoderLevel(zstd.EncoderLevel(cfg.ZstdLevel)),
				zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(zstdWindow))
			if err != nil {
				enc, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(zstdWindow))
			}
			return enc
		}),
	}
}

const zstdWindow = 256 << 10

// freeList keeps idle encoders for reuse. Unlike a sync.Pool it survives
// garbage collections: under load a collection runs every few requests,
// and a pool emptied by each would allocate a new encoder (hundreds of KiB
// of tables) for most responses.
type freeList[T any] struct {
	idle  chan T
	fresh func() T
}

func newFreeList[T any](fresh func() T) *freeList[T] {
	return &freeList[T]{idle: make(chan T, freeEncoders), fresh: fresh}
}

func (l *freeList[T]) get() T {
	select {
	case e := <-l.idle:
		return e
	default:
		return l.fresh()
	}
}

func (l *freeList[T]) put(e T) {
	select {
	case l.idle <- e:
	default: // enough are idle; the collector takes this one
	}
}

// handler compresses next's responses in the coding the request accepts.
// Every response says Vary: Accept-Encoding. A body is compressed only when
// it reaches MinBytes (the first MinBytes are held back to decide), its
// media type is compressible, it is not already encoded, and its status
// has a body; the status and other headers are kept.
func (c *compressor) handler(next http.Handler) http.Handler {
	if c.cfg.Disable {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		coding := codingIdentity
		if r.Method != http.MethodHead {
			coding = negotiateEncoding(r.Header.Values("Accept-Encoding"))
		}
		cw := &compressWriter{ResponseWriter: w, c: c, coding: coding}
		defer cw.close()
		next.ServeHTTP(cw, r)
	})
}

// compressWriter holds the status and the first bytes of a response until
// it knows whether to compress it.
type compressWriter struct {
	http.ResponseWriter
	c      *compressor
	coding contentCoding

	status    int            // recorded, not yet sent; 0 before WriteHeader
	buf       []byte         // held back until MinBytes or the end
	committed bool           // the header has been sent
	enc       io.WriteCloser // set when compressing
	encDone   func()         // returns enc to its pool
}

func (w *compressWriter) WriteHeader(status int) {
	if w.committed {
		w.ResponseWriter.WriteHeader(status) // lets net/http report the superfluous call
		return
	}
	if w.status != 0 {
		return // superfluous: the first status stands
	}
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status) // informational: sent at once
		return
	}
	w.status = status
	if !bodyAllowed(status) {
		w.commit(false)
	}
}

func (w *compressWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !w.committed {
		if len(w.buf)+len(p) < w.c.cfg.MinBytes {
			if w.buf == nil {
				w.buf = make([]byte, 0, w.c.cfg.MinBytes)
			}
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.commit(true)
	}
	if w.enc != nil {
		return w.enc.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends what is held back, uncompressed when it is still under
// MinBytes: a handler that flushes early is streaming.
func (w *compressWriter) Flush() {
	if !w.committed {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		w.commit(false)
	}
	if f, ok := w.enc.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// commit sends the header, compressed when large says the body reached
// MinBytes and everything else allows it, then what was held back.
func (w *compressWriter) commit(large bool) {
	w.committed = true
	h := w.ResponseWriter.Header()
	if !varyHas(h, "Accept-Encoding") {
		h.Add("Vary", "Accept-Encoding")
	}
	if large && w.coding != codingIdentity && bodyAllowed(w.status) &&
		h.Get("Content-Encoding") == "" && compressible(h.Get("Content-Type")) {
		w.startEncoder(h)
	}
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
	if len(w.buf) > 0 {
		if w.enc != nil {
			_, _ = w.enc.Write(w.buf)
		} else {
			_, _ = w.ResponseWriter.Write(w.buf)
		}
	}
	w.buf = nil
}

func (w *compressWriter) startEncoder(h http.Header) {
	h.Del("Content-Length")
	if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		h.Set("ETag", "W/"+etag) // the bytes differ from identity's
	}
	c := w.c
	switch w.coding {
	case codingZstd:
		enc := c.zstd.get()
		enc.Reset(w.ResponseWriter)
		w.enc, w.encDone = enc, func() { c.zstd.put(enc) }
		h.Set("Content-Encoding", "zstd")
	case codingBrotli:
		enc := c.br.get()
		enc.Reset(w.ResponseWriter)
		w.enc, w.encDone = enc, func() { c.br.put(enc) }
		h.Set("Content-Encoding", "br")
	case codingGzip:
		enc := c.gzip.get()
		enc.Reset(w.ResponseWriter)
		w.enc, w.encDone = enc, func() { c.gzip.put(enc) }
		h.Set("Content-Encoding", "gzip")
	}
}

// close ends the response once the handler has returned: a body that never
// reached MinBytes goes out as it is, an encoder writes its last block and
// goes back to its pool.
func (w *compressWriter) close() {
	if !w.committed {
		if w.status == 0 && len(w.buf) == 0 {
			// Nothing written: net/http sends its implicit 200; say Vary.
			w.committed = true
			if !varyHas(w.ResponseWriter.Header(), "Accept-Encoding") {
				w.ResponseWriter.Header().Add("Vary", "Accept-Encoding")
			}
			return
		}
		w.commit(false)
	}
	if w.enc != nil {
		_ = w.enc.Close()
		w.encDone()
		w.enc = nil
	}
}

// bodyAllowed reports whether a response with this status has a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

func compressible(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && compressibleTypes[mt]
}

func varyHas(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p == "*" || strings.EqualFold(p, name) {
				return true
			}
		}
	}
	return false
}
