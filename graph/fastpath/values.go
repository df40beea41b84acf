package fastpath

import (
	"encoding/json"
	"strconv"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

// The Append functions append to b exactly what gqlgen's marshaler of the
// same GraphQL type writes for a value (values_test.go pins each).

// AppendNull appends null.
func AppendNull(b []byte) []byte { return append(b, "null"...) }

// AppendOpt appends null for a nil v, else what appendValue appends for *v.
func AppendOpt[T any](b []byte, v *T, appendValue func([]byte, T) []byte) []byte {
	if v == nil {
		return AppendNull(b)
	}
	return appendValue(b, *v)
}

const hexDigits = "0123456789ABCDEF"

// AppendString quotes s as graphql.MarshalString (and MarshalID) does: only
// ", \ and control characters are escaped, every other byte is copied.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// CloseString ends the string that starts, after its opening quote, at
// b[from:]: what a method such as CallAttemptEdge.AppendCursorTo appended
// in place. It is quoted as AppendString would have (escaped, in the rare
// case it needs to be).
func CloseString(b []byte, from int) []byte {
	for _, c := range b[from:] {
		if c < 0x20 || c == '\\' || c == '"' {
			return AppendString(b[:from-1], string(b[from:]))
		}
	}
	return append(b, '"')
}

// AppendBoolean appends what graphql.MarshalBoolean writes.
func AppendBoolean(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// AppendInt appends what graphql.MarshalInt writes.
func AppendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

// AppendFloat appends what graphql.MarshalFloatContext writes for a finite
// float (it refuses the others: check with IsFinite first).
func AppendFloat(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'g', -1, 64) }

// IsFinite reports whether f is neither infinite nor NaN.
func IsFinite(f float64) bool { return f-f == 0 }

// AppendDateTime appends what model.MarshalDateTime writes: null for a zero
// time.
func AppendDateTime(b []byte, t revox.Time) []byte {
	if t.IsZero() {
		return AppendNull(b)
	}
	return model.AppendDateTime(b, t)
}

// AppendJSON appends what model.MarshalJSON writes: the raw JSON, or null.
func AppendJSON(b []byte, raw json.RawMessage) []byte {
	if model.IsNullJSON(raw) {
		return AppendNull(b)
	}
	return append(b, raw...)
}
