//go:build cgo && cencoders

package gateway

import "github.com/revox-graphql/gateway/internal/cenc"

// With the build tag cencoders, whole answers are compressed by the C
// encoders of internal/cenc: gzip by ISA-L's igzip (levels 1 to 3; above,
// klauspost/compress, as igzip has no more) and brotli by the reference
// encoder at the same quality. On the full-field 100-attempt page they take
// about 40% and 50% of the pure Go encoders' CPU (BENCHMARKS.md,
// "Compressed responses"). Should a C encoder fail (it is given room for
// the worst case, so it should not), the pure Go encoder answers.

func newWholeGzip(level int) wholeEncoder {
	if level > cenc.GzipLevels {
		return newGoGzip(level)
	}
	enc, err := cenc.NewGzip(level)
	if err != nil {
		return newGoGzip(level)
	}
	return &cEncoder{c: enc, fallback: func() wholeEncoder { return newGoGzip(level) }}
}

func newWholeBrotli(level int) wholeEncoder {
	enc, err := cenc.NewBrotli(level)
	if err != nil {
		return newGoBrotli(level)
	}
	return &cEncoder{c: enc, fallback: func() wholeEncoder { return newGoBrotli(level) }}
}
