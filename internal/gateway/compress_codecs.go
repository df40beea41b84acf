package gateway

import (
	"context"
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/andybalholm/brotli/matchfinder"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// codec is one coding's encoder, made once and lent to one response at a
// time. Most answers are held whole and compressed at once into a buffer
// (appendEncoded); an answer too large to hold, or one its handler
// flushes, is compressed as it is written (stream).
type codec interface {
	// appendEncoded appends the encoded form of src to dst.
	appendEncoded(dst, src []byte) []byte
	// stream starts a new encoded stream written to w.
	stream(w io.Writer) streamEncoder
}

// streamEncoder is what the codings' streaming writers have in common.
type streamEncoder interface {
	io.WriteCloser
	Flush() error
}

// appendWriter appends what is written to b.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// wholeEncoder compresses a whole answer at once.
type wholeEncoder interface {
	// appendEncoded appends the encoded form of src to dst.
	appendEncoded(dst, src []byte) []byte
}

// cEncoder is a C encoder with a pure Go one, made if it ever fails.
type cEncoder struct {
	c interface {
		AppendEncoded(dst, src []byte) ([]byte, error)
	}
	fallback func() wholeEncoder
	goEnc    wholeEncoder
}

func (e *cEncoder) appendEncoded(dst, src []byte) []byte {
	if out, err := e.c.AppendEncoded(dst, src); err == nil {
		return out
	}
	if e.goEnc == nil {
		e.goEnc = e.fallback()
	}
	return e.goEnc.appendEncoded(dst, src)
}

// gzipCodec compresses whole answers with newWholeGzip's encoder (ISA-L's
// igzip in a build with the C encoders, klauspost/compress's gzip without)
// and streams through klauspost/compress's gzip writer, made when a
// response first streams.
type gzipCodec struct {
	whole   wholeEncoder
	level   int
	streams *gzip.Writer
}

func newGzipCodec(level int) *gzipCodec {
	if level < gzip.BestSpeed || level > gzip.BestCompression {
		level = DefaultGzipLevel
	}
	return &gzipCodec{whole: newWholeGzip(level), level: level}
}

func (c *gzipCodec) appendEncoded(dst, src []byte) []byte { return c.whole.appendEncoded(dst, src) }

func (c *gzipCodec) stream(w io.Writer) streamEncoder {
	if c.streams == nil {
		c.streams, _ = gzip.NewWriterLevel(nil, c.level) // level checked by newGzipCodec
	}
	c.streams.Reset(w)
	return c.streams
}

// newGoGzip is klauspost/compress's gzip writer at one level (checked by
// newGzipCodec), compressing whole answers.
func newGoGzip(level int) *wholeWriter {
	w, _ := gzip.NewWriterLevel(nil, level)
	return &wholeWriter{w: w}
}

// wholeWriter compresses whole answers through a pure Go stream writer
// that can be reset, appending its output to the caller's buffer.
type wholeWriter struct {
	w interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	out appendWriter
}

func (c *wholeWriter) appendEncoded(dst, src []byte) []byte {
	c.out.b = dst
	c.w.Reset(&c.out)
	_, _ = c.w.Write(src) // appendWriter takes every write
	_ = c.w.Close()
	dst, c.out.b = c.out.b, nil
	return dst
}

// zstdCodec compresses a whole answer in one frame by newWholeZstd's
// encoder (the zstd C library when the build has cgo, klauspost/compress's
// EncodeAll without it), and streams through klauspost/compress's encoder, made when
// a response first streams. No checksum: it costs CPU for every response
// and the transport already checks what it carries.
type zstdCodec struct {
	whole   wholeEncoder
	level   int
	streams *zstd.Encoder
}

// zstdWindow: a response of a few hundred KiB gains little from more, and
// the encoder's memory grows with it.
const zstdWindow = 128 << 10

func newZstdCodec(level int) *zstdCodec {
	if level < int(zstd.SpeedFastest) || level > int(zstd.SpeedBestCompression) {
		level = DefaultZstdLevel
	}
	return &zstdCodec{whole: newWholeZstd(level), level: level}
}

// newKlauspostZstd is klauspost/compress's encoder at level (a
// zstd.EncoderLevel), for one response at a time.
func newKlauspostZstd(level int) *zstd.Encoder {
	enc, _ := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(1), // compressed on the response's goroutine
		zstd.WithWindowSize(zstdWindow),
		zstd.WithEncoderCRC(false),
		zstd.WithEncoderLevel(zstd.EncoderLevel(level)))
	return enc
}

func (c *zstdCodec) appendEncoded(dst, src []byte) []byte { return c.whole.appendEncoded(dst, src) }

// klauspostZstd compresses whole answers with klauspost/compress's
// EncodeAll, in one block of one frame when it fits the window, without
// the streaming writer's copies.
type klauspostZstd struct{ enc *zstd.Encoder }

func (z klauspostZstd) appendEncoded(dst, src []byte) []byte { return z.enc.EncodeAll(src, dst) }

func (c *zstdCodec) stream(w io.Writer) streamEncoder {
	if c.streams == nil {
		c.streams = newKlauspostZstd(c.level)
	}
	c.streams.Reset(w)
	return c.streams
}

// brotliCodec compresses whole answers with newWholeBrotli's encoder (the
// reference C encoder in a build with the C encoders,
// andybalholm/brotli's match-finder encoder without). Answers that stream
// go through andybalholm/brotli's port of the reference encoder at the
// same quality (made when a response first needs it), which can flush a
// stream before its end.
type brotliCodec struct {
	whole   wholeEncoder
	level   int
	streams *brotli.Writer
}

func newBrotliCodec(level int) *brotliCodec {
	return &brotliCodec{whole: newWholeBrotli(level), level: level}
}

func (c *brotliCodec) appendEncoded(dst, src []byte) []byte { return c.whole.appendEncoded(dst, src) }

// newGoBrotli compresses whole answers with andybalholm/brotli's
// match-finder encoder (NewWriterV2), each as one meta-block: at level 1
// it costs about 35% less CPU than the reference encoder's port at
// quality 1 for 4% fewer bytes (BenchmarkCompressFullPage). That encoder
// cannot flush a stream before its end, which is why brotliCodec streams
// through the port.
func newGoBrotli(level int) *wholeWriter {
	w := brotli.NewWriterV2(nil, level)
	w.BlockSize = 0 // each Write is one meta-block: the answer is written whole
	switch mf := w.MatchFinder.(type) {
	case *matchfinder.ZFast:
		mf.MaxDistance = brotliDistance
	case *matchfinder.ZDFast:
		mf.MaxDistance = brotliDistance
	}
	return &wholeWriter{w: w}
}

// brotliDistance is how far back the whole-answer encoder looks for a
// match: as far as the largest answer held whole.
const brotliDistance = maxCachedAnswer

// brotliStreamLGWin is the window of streamed answers: a response of a few
// hundred KiB gains nothing from more, and the encoder's memory grows with
// it.
const brotliStreamLGWin = 18

func (c *brotliCodec) stream(w io.Writer) streamEncoder {
	if c.streams == nil {
		c.streams = brotli.NewWriterOptions(nil, brotli.WriterOptions{Quality: min(c.level, 11), LGWin: brotliStreamLGWin})
	}
	c.streams.Reset(w)
	return c.streams
}

// encoderSet lends at most max codecs of one coding at a time and keeps
// them for reuse, the last given back lent first: with a few responses
// compressing at once, the few codecs in use stay in the CPU's caches
// (their tables are a few hundred KiB), where lending the longest idle
// would walk through all of them. Unlike a sync.Pool it survives garbage
// collections: under load a collection runs every few requests, and a
// pool emptied by each would make a new codec (over half a MiB) for most
// responses. When all are lent a response waits for one, as it would for
// a core: a codec is held only while it compresses into memory (except
// for a body streamed as it is written).
type encoderSet[T any] struct {
	lent  chan struct{} // one token per codec lent: at most max
	mu    sync.Mutex
	idle  []T // given back; the last is lent next
	fresh func() T
}

func newEncoderSet[T any](max int, fresh func() T) *encoderSet[T] {
	return &encoderSet[T]{lent: make(chan struct{}, max), idle: make([]T, 0, max), fresh: fresh}
}

// get lends a codec, waiting for one while all are lent; false when ctx
// ends first.
func (s *encoderSet[T]) get(ctx context.Context) (T, bool) {
	select {
	case s.lent <- struct{}{}:
	default:
		select {
		case s.lent <- struct{}{}:
		case <-ctx.Done():
			var zero T
			return zero, false
		}
	}
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		e := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return e, true
	}
	s.mu.Unlock()
	return s.fresh(), true
}

// put takes back a lent codec.
func (s *encoderSet[T]) put(e T) {
	s.mu.Lock()
	s.idle = append(s.idle, e)
	s.mu.Unlock()
	<-s.lent
}
