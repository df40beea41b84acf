//go:build cgo && cencoders

package cenc

/*
#cgo pkg-config: libisal
#include <stdlib.h>
#include <string.h>
#include <isa-l/igzip_lib.h>

static size_t level_buf_size(int level) {
	switch (level) {
	case 1: return ISAL_DEF_LVL1_DEFAULT;
	case 2: return ISAL_DEF_LVL2_DEFAULT;
	case 3: return ISAL_DEF_LVL3_DEFAULT;
	}
	return 0;
}

static void gzip_start(struct isal_zstream *s, int level, uint8_t *level_buf, size_t level_buf_size) {
	isal_deflate_init(s);
	s->level = level;
	s->level_buf = level_buf;
	s->level_buf_size = level_buf_size;
	s->gzip_flag = IGZIP_GZIP;
	s->end_of_stream = 1;
	s->flush = NO_FLUSH;
}

// gzip_step compresses from in into out and reports what it took and
// gave; it leaves no pointer to Go memory in the stream.
static int gzip_step(struct isal_zstream *s, uint8_t *in, uint32_t in_n, uint8_t *out, uint32_t out_n,
		uint32_t *took, uint32_t *gave, int *done) {
	s->next_in = in;
	s->avail_in = in_n;
	s->next_out = out;
	s->avail_out = out_n;
	int r = isal_deflate(s);
	*took = in_n - s->avail_in;
	*gave = out_n - s->avail_out;
	*done = s->internal_state.state == ZSTATE_END;
	s->next_in = NULL;
	s->next_out = NULL;
	return r;
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Gzip is igzip at one level, 1 to 3 (igzip has no more): at level 1 it
// writes about the size klauspost/compress's gzip writes at level 1, in
// about 40% of its CPU (BenchmarkCompressFullPage in
// internal/gateway, built with -tags cencoders).
type Gzip struct {
	c *gzipState
}

type gzipState struct {
	s        *C.struct_isal_zstream
	levelBuf *C.uint8_t
	size     C.size_t
	level    C.int
}

// GzipLevels is the highest level NewGzip takes.
const GzipLevels = 3

// NewGzip makes an igzip encoder at level, 1 to GzipLevels.
func NewGzip(level int) (*Gzip, error) {
	if level < 1 || level > GzipLevels {
		return nil, fmt.Errorf("igzip has no level %d (1 to %d)", level, GzipLevels)
	}
	st := &gzipState{level: C.int(level), size: C.level_buf_size(C.int(level))}
	st.s = (*C.struct_isal_zstream)(C.calloc(1, C.sizeof_struct_isal_zstream))
	st.levelBuf = (*C.uint8_t)(C.malloc(st.size))
	if st.s == nil || st.levelBuf == nil {
		st.free()
		return nil, fmt.Errorf("igzip: no memory for level %d", level)
	}
	g := &Gzip{c: st}
	runtime.AddCleanup(g, (*gzipState).free, st)
	return g, nil
}

func (st *gzipState) free() {
	C.free(unsafe.Pointer(st.s))
	C.free(unsafe.Pointer(st.levelBuf))
}

// AppendEncoded appends the gzip member of src to dst.
func (g *Gzip) AppendEncoded(dst, src []byte) ([]byte, error) {
	// Stored blocks are the worst case: 5 bytes per 64 KiB, the gzip
	// header and trailer. Should more be needed, dst grows.
	return g.appendEncoded(dst, src, len(src)+len(src)/64+64)
}

// appendEncoded is AppendEncoded with room for the first call to write.
func (g *Gzip) appendEncoded(dst, src []byte, room int) ([]byte, error) {
	if uint64(len(src)) > 1<<31 {
		return dst, fmt.Errorf("igzip: %d bytes is more than one call compresses", len(src))
	}
	st := g.c
	C.gzip_start(st.s, st.level, st.levelBuf, st.size)
	dst = grow(dst, room)
	for in := src; ; {
		var took, gave C.uint32_t
		var done C.int
		out := dst[len(dst):cap(dst)]
		r := C.gzip_step(st.s, ptr(in), C.uint32_t(len(in)), ptr(out), C.uint32_t(len(out)), &took, &gave, &done)
		runtime.KeepAlive(src)
		if r != C.COMP_OK {
			return dst, fmt.Errorf("igzip: error %d", int(r))
		}
		in = in[took:]
		dst = dst[:len(dst)+int(gave)]
		if done != 0 {
			return dst, nil
		}
		if gave == 0 && took == 0 && len(out) > 0 {
			return dst, fmt.Errorf("igzip: no progress")
		}
		dst = grow(dst, len(in)/2+4096)
	}
}

// grow makes room for n more bytes after dst's length.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	g := make([]byte, len(dst), len(dst)+n)
	copy(g, dst)
	return g
}

// ptr is the first byte of b (of its capacity when it is empty), for C.
func ptr(b []byte) *C.uint8_t {
	if cap(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b[:cap(b)])))
}
