//go:build cgo && cencoders

// Package cenc compresses whole buffers with C encoders from system
// libraries, where they are several times as fast as the pure Go ones for
// the same size: gzip with ISA-L's igzip (libisal) and brotli with the
// reference encoder (libbrotlienc). It is built only with the build tag
// cencoders (and cgo): those libraries are Debian's libisal-dev and
// libbrotli-dev, which a plain `go build` cannot assume, so without the
// tag the gateway uses its pure Go encoders and this package is empty.
//
// An encoder is for one goroutine at a time and keeps its C memory (tables
// and, for brotli, an arena its allocations come from) for reuse: making
// it per response would cost more than compressing.
package cenc
