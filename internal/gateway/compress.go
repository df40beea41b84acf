package gateway

import (
	"io"
	"mime"
	"net/http"
	"runtime"
	"strconv"
	"strings"
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

// contentCoding is one response encoding the gateway offers.
type contentCoding int

const (
	codingIdentity contentCoding = iota
	codingZstd
	codingBrotli
	codingGzip
)

// offeredCodings are the codings in the gateway's order of preference on a
// tie of q-values, least CPU per byte saved first. On the full-field
// 100-attempt page at the default levels, gzip (klauspost/compress) is the
// cheapest; zstd's streaming encoder costs about twice as much for 2% more
// bytes saved, brotli's fastest level three to six times as much for 3%
// (BenchmarkCompressFullPage, go run ./bench/wire). So every browser
// (they all accept gzip) gets gzip, and zstd or br go to clients that
// prefer them by q or take nothing else.
var offeredCodings = [...]contentCoding{codingGzip, codingZstd, codingBrotli}

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

// compressor compresses responses, with a bounded set of encoders per
// coding.
type compressor struct {
	cfg  Compression
	gzip *encoderSet[*gzip.Writer]
	br   *encoderSet[*brotli.Writer]
	zstd *encoderSet[*zstd.Encoder]
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
		cfg: cfg,
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
// all are lent, a response goes out uncompressed: memory stays bounded, and
// a gateway saturated with work spends no CPU on compression.
type encoderSet[T any] struct {
	free  chan T
	made  atomic.Int32
	max   int32
	fresh func() T
}

func newEncoderSet[T any](max int, fresh func() T) *encoderSet[T] {
	return &encoderSet[T]{free: make(chan T, max), max: int32(max), fresh: fresh}
}

// get lends an encoder, or reports that all are lent.
func (s *encoderSet[T]) get() (T, bool) {
	select {
	case e := <-s.free:
		return e, true
	default:
	}
	if s.made.Add(1) <= s.max {
		return s.fresh(), true
	}
	s.made.Add(-1)
	select { // one may have come back meanwhile
	case e := <-s.free:
		return e, true
	default:
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
// body, and an encoder is free; the status and other headers are kept.
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
		_ = w.startEncoder(h) // identity when every encoder is lent
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

// startEncoder borrows an encoder of the negotiated coding and says so in
// the header; false when every encoder is lent.
func (w *compressWriter) startEncoder(h http.Header) bool {
	c := w.c
	var name string
	switch w.coding {
	case codingZstd:
		enc, ok := c.zstd.get()
		if !ok {
			return false
		}
		enc.Reset(w.ResponseWriter)
		w.enc, w.encDone, name = enc, func() { c.zstd.put(enc) }, "zstd"
	case codingBrotli:
		enc, ok := c.br.get()
		if !ok {
			return false
		}
		enc.Reset(w.ResponseWriter)
		w.enc, w.encDone, name = enc, func() { c.br.put(enc) }, "br"
	case codingGzip:
		enc, ok := c.gzip.get()
		if !ok {
			return false
		}
		enc.Reset(w.ResponseWriter)
		w.enc, w.encDone, name = enc, func() { c.gzip.put(enc) }, "gzip"
	default:
		return false
	}
	h.Set("Content-Encoding", name)
	h.Del("Content-Length")
	if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		h.Set("ETag", "W/"+etag) // the bytes differ from identity's
	}
	return true
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
