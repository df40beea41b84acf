package revox

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
)

// decodeJSON unmarshals upstream bytes. A decoder panic on hostile input
// becomes an error: the upstream must never be able to crash the gateway.
func decodeJSON(data []byte, v any) error { return decodeJSONWith(data, v) }

// decodeJSONInPlace is decodeJSON with the decoded strings referring to
// data instead of copies of their bytes (a string with an escape or a
// replaced invalid UTF-8 sequence is still a string of its own): data
// must never be modified afterwards, and any string of the value keeps
// all of it alive.
func decodeJSONInPlace(data []byte, v any) error {
	return decodeJSONWith(data, v, gojson.DecodeNoCopyString())
}

// decodeJSONWith decodes with goccy/go-json's options, a decoder panic
// turned into an error.
func decodeJSONWith(data []byte, v any, opts ...gojson.DecodeOptionFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return gojson.UnmarshalWithOption(data, v, opts...)
}

// maxOrderAttempts bounds the attempts of one call order (a few retries in
// practice): those past it are skipped undecoded, and the order refused.
const maxOrderAttempts = 256

// boundedOrder decodes a call order with its attempts in a bounded array:
// its CallAttempts hides the embedded CallOrder's.
type boundedOrder struct {
	CallOrder
	CallAttempts *[maxOrderAttempts + 1]*CallAttempt `json:"call_attempts"`
}

// decodeCallOrder reads the body of GET /call/{id}.
func decodeCallOrder(data []byte) (*CallOrder, error) {
	var body struct {
		Call *boundedOrder `json:"call"`
	}
	if err := decodeJSON(data, &body); err != nil {
		return nil, err
	}
	if body.Call == nil {
		return nil, errors.New(`no "call" object in body`)
	}
	o := &body.Call.CallOrder
	if list := body.Call.CallAttempts; list != nil {
		n := len(list)
		for n > 0 && list[n-1] == nil {
			n--
		}
		if n > maxOrderAttempts {
			return nil, fmt.Errorf("more than %d attempts in one order", maxOrderAttempts)
		}
		o.CallAttempts = make([]CallAttempt, n)
		for i, a := range list[:n] {
			if a != nil {
				o.CallAttempts[i] = *a
			}
		}
	}
	o.clean()
	return o, nil
}

// Time is a timestamp as the upstream sends it. The API types timestamps as
// "unknown", so every form seen or plausible decodes: RFC 3339 strings with or
// without fraction and offset (no offset means UTC), epoch numbers in seconds
// or milliseconds, null, "" and {} (the docs' own example). A value that
// cannot be read becomes the zero Time (absent) with a logged warning rather
// than failing the whole page.
type Time struct {
	time.Time
}

// Valid reports whether the upstream sent a readable timestamp.
func (t Time) Valid() bool { return !t.IsZero() }

// Ptr returns the timestamp in UTC, or nil when absent.
func (t Time) Ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (t *Time) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	parsed, ok := ParseTimestamp(b)
	if !ok {
		warnUnreadable("timestamp", b)
		return nil
	}
	t.Time = parsed
	return nil
}

// MarshalJSON writes the timestamp as RFC 3339 in UTC, or null when absent.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(time.RFC3339Nano) + `"`), nil
}

// MarshalText and UnmarshalText override those of the embedded time.Time,
// so that text encoders (map keys, encoding/xml, flag values) follow the
// same rules as JSON: absent is empty, not year 1, and every accepted form
// decodes.
func (t Time) MarshalText() ([]byte, error) {
	if t.IsZero() {
		return []byte{}, nil
	}
	return []byte(t.UTC().Format(time.RFC3339Nano)), nil
}

// UnmarshalText reads any form UnmarshalJSON reads, given without JSON
// quoting; it never fails.
func (t *Time) UnmarshalText(b []byte) error {
	t.Time = time.Time{}
	parsed, ok := ParseTimestamp([]byte(strconv.Quote(string(b))))
	if !ok {
		warnUnreadable("timestamp", b)
		return nil
	}
	t.Time = parsed
	return nil
}

// epochMillisThreshold separates epoch seconds from epoch milliseconds: 1e11
// seconds is the year 5138, 1e11 milliseconds is March 1973.
const epochMillisThreshold = 1e11

// stringLayouts are the textual forms accepted, tried in order. time.RFC3339
// also parses fractional seconds.
var stringLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// ParseTimestamp reads one JSON value as a timestamp. It returns the zero time
// and true for the forms that mean "absent" (null, "", {}), and false when the
// value is present but unreadable.
func ParseTimestamp(b []byte) (time.Time, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return time.Time{}, false
	}
	switch b[0] {
	case 'n':
		return time.Time{}, string(b) == "null"
	case '{':
		return time.Time{}, isEmptyObject(b)
	case '"':
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return time.Time{}, false
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}, true
		}
		for _, layout := range stringLayouts {
			if v, err := time.Parse(layout, s); err == nil {
				// An offset can push year 0000 or 9999 out of the range
				// RFC 3339 can write once the instant is in UTC.
				v = v.UTC()
				if y := v.Year(); y < 1 || y > 9999 {
					return time.Time{}, false
				}
				return v, true
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return fromEpoch(f)
		}
		return time.Time{}, false
	default:
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return time.Time{}, false
		}
		return fromEpoch(f)
	}
}

// maxEpochSeconds bounds epoch values to years 0001..9999 so that the result
// always formats as RFC 3339.
const maxEpochSeconds = 253402300799

func fromEpoch(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	if math.Abs(f) >= epochMillisThreshold {
		f /= 1000
	}
	if f < 0 || f > maxEpochSeconds {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), true
}

func isEmptyObject(b []byte) bool {
	inner := bytes.TrimSpace(b[1:])
	return len(inner) == 1 && inner[0] == '}'
}

// UnmarshalJSON implements json.Unmarshaler and never fails: numbers and
// numeric strings decode, anything else becomes 0 with a logged warning.
func (n *Number) UnmarshalJSON(b []byte) error {
	*n = 0
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if len(s) > 1 && s[0] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			s = u
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		warnUnreadable("number", b)
		return nil
	}
	*n = Number(f)
	return nil
}

// warnUnreadable logs a value the decoder had to drop, cut to a short prefix
// so that a hostile payload cannot flood the log.
func warnUnreadable(kind string, b []byte) {
	const maxShown = 64
	shown := string(b)
	if len(shown) > maxShown {
		shown = shown[:maxShown] + "…"
	}
	slog.Warn("revox: unreadable value decoded as null", "kind", kind, "value", shown)
}
