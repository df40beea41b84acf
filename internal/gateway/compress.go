package gateway

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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

// compressor compresses responses, with a bounded set of encoders per
// coding.
type compressor struct {
	cfg     Compression
	gzip    *encoderSet[*gzip.Writer]
	br      *encoderSet[*brotli.Writer]
	zstd    *encoderSet[*zstd.Encoder]
	answers *answerCache
}

// Window sizes: a response of a few hundred KiB gains nothing from more,
// and the encoders' memory grows with them (zstd 0.7 MiB, brotli 1.6 MiB,
// gzip 0.6 MiB each, as measured after a full-field 100-attempt page).
const (
	zstdWindow   = 128 << 10
	brotliLGWin  = 18
	encodersPerP = 4 // encoders per coding per GOMAXPROCS
)

func newCompressor(cfg Compression) *compressor {
	cfg.withDefaults()
	n := encodersPerP * runtime.GOMAXPROCS(0)
	return &compressor{
		cfg:     cfg,
		answers: newAnswerCache(),
		gzip: newEncoderSet(n, func() *gzip.Writer {
			w, err := gzip.NewWriterLevel(nil, cfg.GzipLevel)
			if err != nil {
				w, _ = gzip.NewWriterLevel(nil, DefaultGzipLevel)
			}
			return w
		}),
		br: newEncoderSet(n, func() *brotli.Writer {
			return brotli.NewWriterOptions(nil, brotli.WriterOptions{Quality: cfg.BrotliLevel, LGWin: brotliLGWin})
		}),
		zstd: newEncoderSet(n, func() *zstd.Encoder {
			// One goroutine per encoder: the response is written as it is
			// compressed.
			enc, err := zstd.NewWriter(nil,
				zstd.WithEncoderLevel(zstd.EncoderLevel(cfg.ZstdLevel)),
				zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(zstdWindow))
			if err != nil {
				enc, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(zstdWindow), zstd.WithLowerEncoderMem(true))
			}
			return enc
		}),
	}
}

// encoderSet lends at most max encoders of one coding at a time and keeps
// them for reuse. Unlike a sync.Pool it survives garbage collections: under
// load a collection runs every few requests, and a pool emptied by each
// would allocate a new encoder (over half a MiB) for most responses. When
// all are lent a response waits for one, as it would for a core: an
// encoder is held only while it compresses into memory (except for a body
// too large to remember, compressed as it is written).
type encoderSet[T any] struct {
	free  chan T
	made  atomic.Int32
	max   int32
	fresh func() T
}

func newEncoderSet[T any](max int, fresh func() T) *encoderSet[T] {
	return &encoderSet[T]{free: make(chan T, max), max: int32(max), fresh: fresh}
}

// get lends an encoder, waiting for one while all are lent; false when
// ctx ends first.
func (s *encoderSet[T]) get(ctx context.Context) (T, bool) {
	select {
	case e := <-s.free:
		return e, true
	default:
	}
	if s.made.Add(1) <= s.max {
		return s.fresh(), true
	}
	s.made.Add(-1)
	select {
	case e := <-s.free:
		return e, true
	case <-ctx.Done():
		var zero T
		return zero, false
	}
}

// put takes back a lent encoder; free has room for every one made.
func (s *encoderSet[T]) put(e T) { s.free <- e }

// handler compresses next's responses in the coding the request accepts.
// Every response says Vary: Accept-Encoding. A body is compressed only when
// it reaches MinBytes (the first MinBytes are held back to decide), its
// media type is compressible, it is not already encoded, its status has a
// body, and an encoder is free; the status and other headers are kept. A
// compressed body up to maxCachedAnswer is held whole, so that an answer
// seen again is answered from the answer cache (compress_cache.go) with
// its Content-Length.
func (c *compressor) handler(next http.Handler) http.Handler {
	if c.cfg.Disable {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		coding := codingIdentity
		if r.Method != http.MethodHead {
			coding = negotiateEncoding(r.Header.Values("Accept-Encoding"))
		}
		cw := &compressWriter{ResponseWriter: w, c: c, coding: coding, ctx: r.Context()}
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
	ctx    context.Context // the request's: waiting for an encoder ends with it

	status     int     // recorded, not yet sent; 0 before WriteHeader
	buf        []byte  // held back until MinBytes or the end
	committed  bool    // decided: compressed or not
	collecting bool    // compressing, the whole body held to compress it at once
	enc        encoder // set when compressing
	encName    string  // its Content-Encoding
	encDone    func()  // returns enc to its set
}

// encoder is what the three codings' writers have in common.
type encoder interface {
	io.WriteCloser
	Reset(io.Writer)
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
	if w.collecting {
		if len(w.buf)+len(p) <= maxCachedAnswer {
			if len(w.buf)+len(p) > cap(w.buf) {
				w.buf = slices.Grow(w.buf, len(p)+len(p)/4)
			}
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.stream() // too large to remember: compressed as it comes
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
	if w.collecting {
		w.stream()
	}
	if f, ok := w.enc.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// commit decides whether to compress: when large says the body reached
// MinBytes, everything else allows it and an encoder is free. Compressing,
// it goes on holding the body (collecting) to compress it at once, or
// answer it from the answer cache; otherwise it sends the header and what
// was held back.
func (w *compressWriter) commit(large bool) {
	w.committed = true
	h := w.ResponseWriter.Header()
	if !varyHas(h, "Accept-Encoding") {
		h.Add("Vary", "Accept-Encoding")
	}
	if large && w.coding != codingIdentity && bodyAllowed(w.status) &&
		h.Get("Content-Encoding") == "" && compressible(h.Get("Content-Type")) &&
		w.borrowEncoder() { // identity when the request ends before an encoder is free
		w.collecting = true
		held := collectBuffers.Get().(*[]byte)
		w.buf = append((*held)[:0], w.buf...)
		return
	}
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
	if len(w.buf) > 0 {
		_, _ = w.ResponseWriter.Write(w.buf)
	}
	w.buf = nil
}

// borrowEncoder takes an encoder of the negotiated coding, waiting while
// every one is lent; false when the request ends first.
func (w *compressWriter) borrowEncoder() bool {
	c := w.c
	switch w.coding {
	case codingZstd:
		if enc, ok := c.zstd.get(w.ctx); ok {
			w.enc, w.encDone, w.encName = enc, func() { c.zstd.put(enc) }, "zstd"
		}
	case codingBrotli:
		if enc, ok := c.br.get(w.ctx); ok {
			w.enc, w.encDone, w.encName = enc, func() { c.br.put(enc) }, "br"
		}
	case codingGzip:
		if enc, ok := c.gzip.get(w.ctx); ok {
			w.enc, w.encDone, w.encName = enc, func() { c.gzip.put(enc) }, "gzip"
		}
	}
	return w.enc != nil
}

// encodedHeader says the body is encoded: Content-Encoding, the encoded
// length when known (else none), a weak ETag.
func (w *compressWriter) encodedHeader(length int) {
	h := w.ResponseWriter.Header()
	h.Set("Content-Encoding", w.encName)
	h.Del("Content-Length")
	if length >= 0 {
		h.Set("Content-Length", strconv.Itoa(length))
	}
	if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		h.Set("ETag", "W/"+etag) // the bytes differ from identity's
	}
	w.ResponseWriter.WriteHeader(w.status)
}

// collectBuffers hold bodies being collected; one that ends up in the
// answer cache is not given back.
var collectBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func putCollectBuffer(b []byte) {
	b = b[:0]
	collectBuffers.Put(&b)
}

// stream stops collecting: the header goes out, and the body is compressed
// as it comes, from what was held.
func (w *compressWriter) stream() {
	w.collecting = false
	w.encodedHeader(-1)
	w.enc.Reset(w.ResponseWriter)
	_, _ = w.enc.Write(w.buf)
	putCollectBuffer(w.buf)
	w.buf = nil
}

// finishCollected answers the whole body held: from the answer cache, or
// compressed into memory (remembered when it is the second time it is
// seen), the encoder given back before the answer is written.
func (w *compressWriter) finishCollected() {
	w.collecting = false
	key, encoded, hit, seenBefore := w.c.answers.lookup(w.coding, w.buf)
	if !hit {
		out := bytes.NewBuffer(make([]byte, 0, len(w.buf)/4+64))
		w.enc.Reset(out)
		_, _ = w.enc.Write(w.buf)
		_ = w.enc.Close() // a bytes.Buffer takes every write
		encoded = out.Bytes()
	}
	w.encDone()
	w.enc = nil
	if seenBefore && !hit {
		w.c.answers.add(key, w.buf, encoded) // both kept as they are
	} else {
		putCollectBuffer(w.buf)
	}
	w.buf = nil
	w.encodedHeader(len(encoded))
	_, _ = w.ResponseWriter.Write(encoded)
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
	if w.collecting {
		w.finishCollected()
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
