//go:build !cgo

package gateway

import "github.com/klauspost/compress/zstd"

// wholeZstd compresses whole answers with klauspost/compress's EncodeAll,
// in one block of one frame when it fits the window, without the streaming
// writer's copies (a build with cgo uses the zstd C library:
// compress_zstd_cgo.go).
type wholeZstd struct{ enc *zstd.Encoder }

func newWholeZstd(level int) *wholeZstd { return &wholeZstd{enc: newKlauspostZstd(level)} }

// appendEncoded appends the zstd frame of src to dst.
func (z *wholeZstd) appendEncoded(dst, src []byte) []byte { return z.enc.EncodeAll(src, dst) }
