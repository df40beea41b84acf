//go:build cgo

package gateway

import ddzstd "github.com/DataDog/zstd"

// wholeZstd compresses whole answers with the zstd C library (DataDog/zstd
// bundles its sources): on the full-field 100-attempt page it is about 2.7
// times as fast as klauspost/compress at level 1 for the same size
// (BENCHMARKS.md, "Compressed responses"). A build without cgo uses
// klauspost/compress instead (compress_zstd_purego.go); both write standard
// frames.
type wholeZstd struct {
	ctx   ddzstd.Ctx
	level int
}

// cLevels maps the zstd.EncoderLevel of ZstdLevel (1 fastest … 4 best) to
// the C library's levels that klauspost/compress's documentation names as
// their equivalents.
var cLevels = [...]int{1: 1, 2: 3, 3: 7, 4: 11}

func newWholeZstd(level int) *wholeZstd {
	return &wholeZstd{ctx: ddzstd.NewCtx(), level: cLevels[level]}
}

// appendEncoded appends the zstd frame of src to dst.
func (z *wholeZstd) appendEncoded(dst, src []byte) []byte {
	n := len(dst)
	bound := ddzstd.CompressBound(len(src))
	if cap(dst)-n < bound {
		grown := make([]byte, n, n+bound)
		copy(grown, dst)
		dst = grown
	}
	// With room for the bound, the library compresses into dst itself.
	out, err := z.ctx.CompressLevel(dst[n:n+bound], src, z.level)
	if err != nil {
		// Not expected with a bound-sized buffer: klauspost/compress
		// answers instead, in a frame of its own.
		return newKlauspostZstd(DefaultZstdLevel).EncodeAll(src, dst[:n])
	}
	return dst[:n+len(out)]
}
