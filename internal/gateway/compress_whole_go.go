//go:build !(cgo && cencoders)

package gateway

// Without the C encoders (build tag cencoders), whole answers are
// compressed in pure Go: compress_whole_c.go has the C encoders.

func newWholeGzip(level int) wholeEncoder { return newGoGzip(level) }

func newWholeBrotli(level int) wholeEncoder { return newGoBrotli(level) }
