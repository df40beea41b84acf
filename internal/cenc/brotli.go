//go:build cgo && cencoders

package cenc

/*
#cgo pkg-config: libbrotlienc
#include <stdlib.h>
#include <stdint.h>
#include <brotli/encode.h>

// arena is where one encoder's allocations come from: the encoder is made
// and destroyed for every buffer (the library cannot reset one), and
// malloc would hand it fresh pages to fault in each time (hash tables of
// a few hundred KiB). What does not fit is taken from malloc.
typedef struct {
	uint8_t *base;
	size_t cap, used, peak, overflows;
} arena;

static void *arena_alloc(void *opaque, size_t size) {
	arena *a = opaque;
	size = (size + 63) & ~(size_t)63;
	if (size <= a->cap - a->used) {
		void *p = a->base + a->used;
		a->used += size;
		if (a->used > a->peak) a->peak = a->used;
		return p;
	}
	a->overflows++;
	return malloc(size);
}

static void arena_free(void *opaque, void *p) {
	arena *a = opaque;
	if (p != NULL && ((uint8_t *)p < a->base || (uint8_t *)p >= a->base + a->cap)) free(p);
}

// brotli_encode compresses in whole into out (*out_n bytes of room; the
// size written on return). 0 when it could not.
static int brotli_encode(arena *a, int quality, int lgwin, const uint8_t *in, size_t in_n, uint8_t *out, size_t *out_n) {
	a->used = 0;
	BrotliEncoderState *s = BrotliEncoderCreateInstance(arena_alloc, arena_free, a);
	if (s == NULL) return 0;
	BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, (uint32_t)quality);
	BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN, (uint32_t)lgwin);
	BrotliEncoderSetParameter(s, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT);
	BrotliEncoderSetParameter(s, BROTLI_PARAM_SIZE_HINT, in_n > (1u << 30) ? (1u << 30) : (uint32_t)in_n);
	size_t avail_in = in_n, avail_out = *out_n;
	const uint8_t *next_in = in;
	uint8_t *next_out = out;
	int ok = BrotliEncoderCompressStream(s, BROTLI_OPERATION_FINISH, &avail_in, &next_in, &avail_out, &next_out, NULL)
		&& BrotliEncoderIsFinished(s);
	BrotliEncoderDestroyInstance(s);
	*out_n -= avail_out;
	return ok;
}
*/
import "C"

import (
	"fmt"
	"math/bits"
	"runtime"
	"unsafe"
)

// Brotli is the reference brotli encoder at one quality: at quality 1 it
// costs about half the CPU of andybalholm/brotli's fastest encoder for 4%
// more bytes (BenchmarkCompressFullPage
// in internal/gateway, built with -tags cencoders).
type Brotli struct {
	a       *C.arena
	quality C.int
}

// BrotliArena is the memory each Brotli keeps for its encoder's
// allocations: what quality 0 to 4 take for an answer of 512 KiB (up to
// 3.6 MiB), with room to spare (TestTheArenaHoldsTheEncodersAllocations).
// Only the pages an encoding touches are resident: for a 112 KiB page,
// 363 KiB at quality 0 and 1.3 MiB at quality 1.
const BrotliArena = 8 << 20

// NewBrotli makes an encoder at quality 0 (fastest) to 11.
func NewBrotli(quality int) (*Brotli, error) {
	if quality < 0 || quality > 11 {
		return nil, fmt.Errorf("brotli has no quality %d (0 to 11)", quality)
	}
	a := (*C.arena)(C.calloc(1, C.sizeof_arena))
	if a == nil {
		return nil, fmt.Errorf("brotli: no memory")
	}
	a.base = (*C.uint8_t)(C.malloc(BrotliArena))
	if a.base == nil {
		C.free(unsafe.Pointer(a))
		return nil, fmt.Errorf("brotli: no memory for the arena")
	}
	a.cap = BrotliArena
	b := &Brotli{a: a, quality: C.int(quality)}
	runtime.AddCleanup(b, func(a *C.arena) {
		C.free(unsafe.Pointer(a.base))
		C.free(unsafe.Pointer(a))
	}, a)
	return b, nil
}

// AppendEncoded appends the brotli stream of src to dst.
func (b *Brotli) AppendEncoded(dst, src []byte) ([]byte, error) {
	bound := int(C.BrotliEncoderMaxCompressedSize(C.size_t(len(src))))
	if bound == 0 {
		return dst, fmt.Errorf("brotli: %d bytes is more than one call compresses", len(src))
	}
	dst = grow(dst, bound)
	out := dst[len(dst):cap(dst)]
	n := C.size_t(len(out))
	ok := C.brotli_encode(b.a, b.quality, window(len(src)), ptr(src), C.size_t(len(src)), ptr(out), &n)
	runtime.KeepAlive(src)
	if ok == 0 {
		return dst, fmt.Errorf("brotli: the encoder failed")
	}
	return dst[:len(dst)+int(n)], nil
}

// window is the smallest brotli window that holds n bytes (a window of w
// bits holds 2^w-16), within the library's 10 to 24 bits: more costs
// memory and buys nothing.
func window(n int) C.int {
	w := bits.Len(uint(n + 15))
	return C.int(min(max(w, C.BROTLI_MIN_WINDOW_BITS), C.BROTLI_MAX_WINDOW_BITS))
}

// arenaUse reports the most bytes one encoding took from the arena since
// the encoder was made, and how many allocations did not fit it.
func (b *Brotli) arenaUse() (peak, overflows int) {
	return int(b.a.peak), int(b.a.overflows)
}
