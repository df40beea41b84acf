package fastpath

import (
	"io"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// Writer is the Marshaler of what the fast path writes: one object (N
// negative) or a list of N, each written by Item. It writes when the
// response is written, straight into it through a pooled scratch buffer:
// the objects are not held as bytes meanwhile. The objects have been
// checked, so writing cannot fail.
type Writer struct {
	N    int
	Item func(b []byte, i int) []byte
}

// MarshalGQL implements graphql.Marshaler.
func (w *Writer) MarshalGQL(out io.Writer) {
	sw := newScratchWriter(out)
	if w.N < 0 {
		sw.b = w.Item(sw.b, 0)
		sw.close()
		return
	}
	sw.b = append(sw.b, '[')
	for i := range w.N {
		if i > 0 {
			sw.b = append(sw.b, ',')
		}
		sw.b = w.Item(sw.b, i)
		sw.flushIfFull()
	}
	sw.b = append(sw.b, ']')
	sw.close()
}

// scratchWriter appends into a pooled buffer and passes it on to w in
// pieces of about flushAt bytes.
type scratchWriter struct {
	w   io.Writer
	buf *[]byte
	b   []byte
}

const (
	flushAt       = 16 << 10
	maxPooledSize = 64 << 10
)

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, flushAt+flushAt/2); return &b }}

func newScratchWriter(w io.Writer) scratchWriter {
	buf := scratchPool.Get().(*[]byte)
	return scratchWriter{w: w, buf: buf, b: (*buf)[:0]}
}

func (sw *scratchWriter) flushIfFull() {
	if len(sw.b) >= flushAt {
		_, _ = sw.w.Write(sw.b)
		sw.b = sw.b[:0]
	}
}

func (sw *scratchWriter) close() {
	_, _ = sw.w.Write(sw.b)
	if cap(sw.b) <= maxPooledSize {
		*sw.buf = sw.b[:0]
		scratchPool.Put(sw.buf)
	}
}

// appendWriter is an io.Writer appending to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// AppendMarshaler appends what m writes: the answer of a field gqlgen's
// code resolved, or of an object it wrote.
func AppendMarshaler(b []byte, m graphql.Marshaler) []byte {
	w := appendWriter{b: b}
	m.MarshalGQL(&w)
	return w.b
}
