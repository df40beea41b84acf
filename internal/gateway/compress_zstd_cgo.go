//go:build cgo

package gateway

import ddzstd "github.com/DataDog/zstd"

// cZstd compresses whole answers with the zstd C library (DataDog/zstd
// bundles its sources): on the full-field 100-attempt page it is about 2.7
// times as fast as klauspost/compress at level 1 for the same size
// (BENCHMARKS.md, "Compressed responses"). A build without cgo uses
// klauspost/compress instead (compress_zstd_purego.go); both write standard
// frames.
type cZstd struct {
	ctx   ddzstd.Ctx
	level int
}

// cLevels maps the zstd.EncoderLevel of ZstdLevel (1 fastest … 4 best) to
// the C library's levels that klauspost/compress's documentation names as
// their equivalents.
var cLevels = [...]int{1: 1, 2: 3, 3: 7, 4: 11}

// newWholeZstd is the C encoder; should it ever fail (it is given room for
// the bound, so it should not), klauspost/compress answers.
func newWholeZstd(level int) wholeEncoder {
	return &cEncoder{
		c:        &cZstd{ctx: ddzstd.NewCtx(), level: cLevels[level]},
		fallback: func() wholeEncoder { return klauspostZstd{enc: newKlauspostZstd(level)} },
	}
}

// AppendEncoded appends the zstd frame of src to dst.
func (z *cZstd) AppendEncoded(dst, src []byte) ([]byte, error) {
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
		return dst[:n], err
	}
	return dst[:n+len(out)], nil
}
