//go:build !cgo

package gateway

// Without cgo, whole answers are compressed in zstd by klauspost/compress
// (a build with cgo uses the zstd C library: compress_zstd_cgo.go).
func newWholeZstd(level int) wholeEncoder { return klauspostZstd{enc: newKlauspostZstd(level)} }
