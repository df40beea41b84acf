package gateway

import (
	"strconv"
	"strings"
)

// contentCoding is one response encoding the gateway offers.
type contentCoding int

const (
	codingIdentity contentCoding = iota
	codingZstd
	codingBrotli
	codingGzip
)

// String is the coding's Content-Encoding name ("" for identity).
func (c contentCoding) String() string {
	switch c {
	case codingZstd:
		return "zstd"
	case codingBrotli:
		return "br"
	case codingGzip:
		return "gzip"
	}
	return ""
}

// offeredCodings are the codings in the gateway's order of preference on a
// tie of q-values, least CPU per byte saved first. On the full-field
// 100-attempt page at the default levels, zstd (the C library when built
// with cgo) costs the least CPU for 22% fewer bytes than gzip; gzip
// (klauspost/compress) and br (the match-finder encoder) cost about the
// same, br for 22% fewer bytes (go run ./bench/wire, BENCHMARKS.md), but
// an answer br streams (over 512 KiB, or flushed) goes through its
// reference encoder, about 1.5 times the CPU: gzip before br. So Chromium
// and Firefox, which send "gzip, deflate, br, zstd", get zstd; Safari and
// Node's fetch, which do not offer it, get gzip.
var offeredCodings = [...]contentCoding{codingZstd, codingGzip, codingBrotli}

// negotiateEncoding picks the response coding from the Accept-Encoding
// values: the offered coding with the highest q above 0 (a coding not
// listed takes the q of "*"), the gateway's preference on a tie, and
// identity when the client asked for none or prefers identity outright.
func negotiateEncoding(values []string) contentCoding {
	var q [4]float64 // by contentCoding; -1 when not listed
	for i := range q {
		q[i] = -1
	}
	star := -1.0
	for _, value := range values {
		for part := range strings.SplitSeq(value, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			weight, ok := qValue(params)
			if !ok {
				continue
			}
			switch name {
			case "zstd":
				q[codingZstd] = weight
			case "br":
				q[codingBrotli] = weight
			case "gzip", "x-gzip":
				q[codingGzip] = weight
			case "identity":
				q[codingIdentity] = weight
			case "*":
				star = weight
			}
		}
	}
	best, bestQ := codingIdentity, 0.0
	for _, c := range offeredCodings {
		w := q[c]
		if w < 0 {
			w = star
		}
		if w > bestQ {
			best, bestQ = c, w
		}
	}
	if q[codingIdentity] > bestQ {
		return codingIdentity
	}
	return best
}

// qValue reads the q parameter of one Accept-Encoding element: 1 when
// absent, false when malformed.
func qValue(params string) (float64, bool) {
	for param := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}
