package gateway

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/revox-graphql/gateway/internal/vary"
)

// Compression sets the levels of the response encodings; zero values are
// the defaults, chosen by measurement (go run ./bench/wire).
type Compression struct {
	// Disable sends every response as it is (identity).
	Disable bool
	// GzipLevel is a compress/flate level, 1 (fastest) to 9. A build with
	// the C encoders (build tag cencoders) compresses the answers held
	// whole with ISA-L's igzip at levels 1 to 3, its only ones.
	GzipLevel int
	// BrotliLevel is a brotli quality, 0 (fastest, the default) to 11: of
	// the reference C encoder in a build with the C encoders, else of
	// andybalholm/brotli's match-finder encoder (NewWriterV2, 0 to 9),
	// which compress the answers held whole; the few streamed (over
	// 512 KiB, or flushed) use andybalholm/brotli's port of the reference
	// encoder at this quality.
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
// go run ./bench/wire -gzip 1,4,6 -br 0,1,3,5 -zstd 1,2). Brotli's quality
// 0 is 15% larger than quality 1 and keeps the brotli row within 15% of
// identity's req/s with a margin (BENCHMARKS.md, "Compressed responses").
const (
	DefaultGzipLevel   = 1
	DefaultBrotliLevel = 0
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

// compressor compresses responses, with a bounded set of codecs per
// coding.
type compressor struct {
	cfg     Compression
	gzip    *encoderSet[*gzipCodec]
	br      *encoderSet[*brotliCodec]
	zstd    *encoderSet[*zstdCodec]
	answers *answerCache
}

// encodersPerP is the number of codecs per coding per GOMAXPROCS.
const encodersPerP = 4

func newCompressor(cfg Compression) *compressor {
	cfg.withDefaults()
	n := encodersPerP * runtime.GOMAXPROCS(0)
	return &compressor{
		cfg:     cfg,
		answers: newAnswerCache(),
		gzip:    newEncoderSet(n, func() *gzipCodec { return newGzipCodec(cfg.GzipLevel) }),
		br:      newEncoderSet(n, func() *brotliCodec { return newBrotliCodec(cfg.BrotliLevel) }),
		zstd:    newEncoderSet(n, func() *zstdCodec { return newZstdCodec(cfg.ZstdLevel) }),
	}
}

// handler compresses next's responses in the coding the request accepts.
// Every response says Vary: Accept-Encoding. A request that accepts no
// coding (or a HEAD) goes straight to next, its response neither held back
// nor copied. Otherwise a body is compressed only when it reaches MinBytes
// (the first MinBytes are held back to decide), its media type is
// compressible, it is not already encoded, its status has a body, and a
// codec is free; the status and other headers are kept. A compressed body
// up to maxCachedAnswer is held whole and compressed at once, so that an
// answer seen again is answered from the answer cache (compress_cache.go),
// each with its Content-Length.
func (c *compressor) handler(next http.Handler) http.Handler {
	if c.cfg.Disable {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		coding := codingIdentity
		if r.Method != http.MethodHead {
			coding = negotiateEncoding(r.Header.Values("Accept-Encoding"))
		}
		if coding == codingIdentity {
			addVary(w.Header())
			next.ServeHTTP(w, r)
			return
		}
		cw := &compressWriter{ResponseWriter: w, c: c, coding: coding, ctx: r.Context()}
		defer cw.close()
		next.ServeHTTP(cw, r)
	})
}

// smallHeld is the room a compressWriter has for what it holds back
// before MinBytes, without allocating.
const smallHeld = DefaultMinBytes

// compressWriter holds the status and the first bytes of a response until
// it knows whether to compress it.
type compressWriter struct {
	http.ResponseWriter
	c      *compressor
	coding contentCoding
	ctx    context.Context // the request's: waiting for a codec ends with it

	status     int           // recorded, not yet sent; 0 before WriteHeader
	buf        []byte        // held back until MinBytes or the end
	committed  bool          // decided: compressed or not
	collecting bool          // compressing, the whole body held to compress it at once
	codec      codec         // lent while compressing
	stream     streamEncoder // set when the body is compressed as it is written
	small      [smallHeld]byte
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
	if !w.committed && len(w.buf) == 0 && declaredUnder(w.ResponseWriter.Header(), w.c.cfg.MinBytes) {
		w.commit(false) // known to stay under MinBytes: written through, not held
	}
	if !w.committed {
		if len(w.buf)+len(p) < w.c.cfg.MinBytes {
			if w.buf == nil {
				w.buf = w.small[:0]
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
		w.startStream() // too large to remember: compressed as it comes
	}
	if w.stream != nil {
		return w.stream.Write(p)
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
		w.startStream()
	}
	if w.stream != nil {
		_ = w.stream.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// commit decides whether to compress: when large says the body reached
// MinBytes, everything else allows it and a codec is free. Compressing,
// it goes on holding the body (collecting) to compress it at once, or
// answer it from the answer cache; otherwise it sends the header and what
// was held back.
func (w *compressWriter) commit(large bool) {
	w.committed = true
	h := w.ResponseWriter.Header()
	addVary(h)
	if large && bodyAllowed(w.status) &&
		h.Get("Content-Encoding") == "" && compressible(h.Get("Content-Type")) &&
		w.borrowCodec() { // identity when the request ends before a codec is free
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

// borrowCodec takes a codec of the negotiated coding, waiting while every
// one is lent; false when the request ends first.
func (w *compressWriter) borrowCodec() bool {
	switch w.coding {
	case codingZstd:
		w.codec = borrow(w.ctx, w.c.zstd)
	case codingBrotli:
		w.codec = borrow(w.ctx, w.c.br)
	case codingGzip:
		w.codec = borrow(w.ctx, w.c.gzip)
	}
	return w.codec != nil
}

func borrow[T codec](ctx context.Context, s *encoderSet[T]) codec {
	if e, ok := s.get(ctx); ok {
		return e
	}
	return nil
}

// giveBack returns the lent codec to its set.
func (w *compressWriter) giveBack() {
	switch e := w.codec.(type) {
	case *zstdCodec:
		w.c.zstd.put(e)
	case *brotliCodec:
		w.c.br.put(e)
	case *gzipCodec:
		w.c.gzip.put(e)
	}
	w.codec, w.stream = nil, nil
}

// encodedHeader says the body is encoded: Content-Encoding, the encoded
// length when known (else none), a weak ETag.
func (w *compressWriter) encodedHeader(length int) {
	h := w.ResponseWriter.Header()
	h.Set("Content-Encoding", w.coding.String())
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
// answer cache is not given back. encodedBuffers hold their compressed
// form while it is written; one that is remembered is copied.
var (
	collectBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
	encodedBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}
)

func putCollectBuffer(b []byte) {
	b = b[:0]
	collectBuffers.Put(&b)
}

// startStream stops collecting: the header goes out, and the body is
// compressed as it comes, from what was held.
func (w *compressWriter) startStream() {
	w.collecting = false
	w.encodedHeader(-1)
	w.stream = w.codec.stream(w.ResponseWriter)
	_, _ = w.stream.Write(w.buf)
	putCollectBuffer(w.buf)
	w.buf = nil
}

// finishCollected answers the whole body held: from the answer cache, or
// compressed at once into a pooled buffer (remembered when it is the
// second time it is seen), the codec given back before the answer is
// written.
func (w *compressWriter) finishCollected() {
	w.collecting = false
	key, encoded, hit, seenBefore := w.c.answers.lookup(w.coding, w.buf)
	var out *[]byte
	if !hit {
		out = encodedBuffers.Get().(*[]byte)
		encoded = w.codec.appendEncoded((*out)[:0], w.buf)
	}
	w.giveBack()
	if seenBefore && !hit {
		w.c.answers.add(key, w.buf, bytes.Clone(encoded)) // kept as they are
	} else {
		putCollectBuffer(w.buf)
	}
	w.buf = nil
	w.encodedHeader(len(encoded))
	_, _ = w.ResponseWriter.Write(encoded) // a Writer does not retain what it is given
	if out != nil {
		*out = encoded[:0]
		encodedBuffers.Put(out)
	}
}

// close ends the response once the handler has returned: a body that never
// reached MinBytes goes out as it is, a stream writes its last block, and
// the codec goes back to its set.
func (w *compressWriter) close() {
	if !w.committed {
		if w.status == 0 && len(w.buf) == 0 {
			// Nothing written: net/http sends its implicit 200; say Vary.
			w.committed = true
			addVary(w.ResponseWriter.Header())
			return
		}
		w.commit(false)
	}
	if w.collecting {
		w.finishCollected()
	}
	if w.stream != nil {
		_ = w.stream.Close()
	}
	if w.codec != nil {
		w.giveBack()
	}
}

// declaredUnder reports whether h's Content-Length says the body is
// shorter than n.
func declaredUnder(h http.Header, n int) bool {
	cl := h.Get("Content-Length")
	if cl == "" {
		return false
	}
	length, err := strconv.Atoi(cl)
	return err == nil && length >= 0 && length < n
}

// addVary says that the response varies with Accept-Encoding, once.
func addVary(h http.Header) { vary.Add(h, "Accept-Encoding") }

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
