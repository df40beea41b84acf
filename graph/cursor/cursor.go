// Package cursor is the format of the opaque Relay cursors of the attempt
// list: the unpadded URL-safe base64 of "c1:<offset>:<fingerprint in hex>",
// where the fingerprint binds a cursor to the statuses filter it was made
// under. Nothing else in the gateway knows the format.
package cursor

import (
	"encoding/base64"
	"errors"
	"hash/crc32"
	"strconv"
	"strings"
)

// MaxOffset bounds positions in the attempt list, far beyond any real list,
// so that offset arithmetic never overflows.
const MaxOffset = 1 << 40

// prefix versions the format.
const prefix = "c1:"

// maxLen bounds the cursors Decode reads: an encoded cursor is at most 31
// bytes.
const maxLen = 64

// Errors of Decode; their text is safe to show a client.
var (
	ErrMalformed   = errors.New("not a cursor of this API")
	ErrOtherFilter = errors.New("cursor was made under another statuses filter")
)

// Fingerprint is the fingerprint of a filter given its canonical text.
func Fingerprint(filterKey string) uint32 { return crc32.ChecksumIEEE([]byte(filterKey)) }

// Append appends the cursor of the attempt at offset under a filter of the
// given fingerprint. The same offset and fingerprint always give the same
// cursor.
func Append(b []byte, offset int, fingerprint uint32) []byte {
	var buf [40]byte
	raw := append(buf[:0], prefix...)
	raw = strconv.AppendInt(raw, int64(offset), 10)
	raw = append(raw, ':')
	raw = strconv.AppendUint(raw, uint64(fingerprint), 16)
	return base64.RawURLEncoding.AppendEncode(b, raw)
}

// Encode is the cursor of the attempt at offset, as a string.
func Encode(offset int, fingerprint uint32) string {
	return string(Append(nil, offset, fingerprint))
}

// Decode reads a cursor made by Encode under the same fingerprint. Only
// the canonical spelling is accepted, so that a cursor has one meaning.
func Decode(s string, fingerprint uint32) (offset int, err error) {
	if len(s) > maxLen {
		return 0, ErrMalformed
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, ErrMalformed
	}
	rest, ok := strings.CutPrefix(string(raw), prefix)
	if !ok {
		return 0, ErrMalformed
	}
	offText, fpText, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, ErrMalformed
	}
	offset, err = strconv.Atoi(offText)
	if err != nil || offset < 0 || offset > MaxOffset {
		return 0, ErrMalformed
	}
	fp, err := strconv.ParseUint(fpText, 16, 32)
	if err != nil || Encode(offset, uint32(fp)) != s {
		return 0, ErrMalformed
	}
	if uint32(fp) != fingerprint {
		return 0, ErrOtherFilter
	}
	return offset, nil
}
