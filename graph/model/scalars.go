// Package model holds the Go types the GraphQL schema is bound to: GraphQL
// views of the upstream's types (defined on them, so converting is free),
// connections, and the marshalers of scalars and enums.
package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/revox-graphql/gateway/internal/revox"
)

// MarshalDateTime writes a timestamp as an RFC 3339 string in UTC, or null
// when the upstream sent none.
func MarshalDateTime(t revox.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [48]byte
		_, _ = w.Write(AppendDateTime(buf[:0], t))
	})
}

// AppendDateTime appends what MarshalDateTime writes for a timestamp that is
// not zero.
func AppendDateTime(b []byte, t revox.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// UnmarshalDateTime reads an RFC 3339 string (the schema takes no DateTime
// input today; this keeps the scalar complete for variables and federation).
func UnmarshalDateTime(v any) (revox.Time, error) {
	s, ok := v.(string)
	if !ok {
		return revox.Time{}, &InputError{Message: fmt.Sprintf("DateTime must be an RFC 3339 string, got %T", v)}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return revox.Time{}, &InputError{Message: "DateTime must be an RFC 3339 string"}
	}
	return revox.Time{Time: t.UTC()}, nil
}

// MarshalJSON writes upstream JSON verbatim; absent or null is GraphQL null.
// The bytes were validated when the upstream page was decoded.
func MarshalJSON(raw json.RawMessage) graphql.Marshaler {
	if IsNullJSON(raw) {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(raw) })
}

// IsNullJSON reports whether MarshalJSON writes null for raw; otherwise it
// writes raw as it is.
func IsNullJSON(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// UnmarshalJSON accepts any JSON value as input.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &InputError{Message: "JSON value cannot be encoded"}
	}
	return b, nil
}

// MarshalNumber writes an upstream "number" that the domain knows to be an
// integer (counts, delays) as a GraphQL Int.
func MarshalNumber(n revox.Number) graphql.Marshaler {
	i := n.Int()
	if i > math.MaxInt32 || i < math.MinInt32 {
		// GraphQL Int is 32-bit; saturate rather than emit an invalid Int.
		i = max(min(i, math.MaxInt32), math.MinInt32)
	}
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [12]byte
		_, _ = w.Write(strconv.AppendInt(buf[:0], int64(i), 10))
	})
}

// UnmarshalNumber reads a GraphQL Int into an upstream number.
func UnmarshalNumber(v any) (revox.Number, error) {
	i, err := graphql.UnmarshalInt(v)
	return revox.Number(i), err
}
