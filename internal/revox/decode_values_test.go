package revox

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"
)

// numberCases also seeds FuzzNumber.
var numberCases = []struct {
	name string
	raw  string
	want Number
}{
	{name: "an integer", raw: `3`, want: 3},
	{name: "an integer written as a float", raw: `3.0`, want: 3},
	{name: "an integer in exponent notation", raw: `3e0`, want: 3},
	{name: "a numeric string", raw: `"3"`, want: 3},
	{name: "a float numeric string", raw: `"3.0"`, want: 3},
	{name: "a negative number", raw: `-2`, want: -2},
	{name: "a fraction", raw: `0.5`, want: 0.5},
	{name: "a large integer", raw: `9007199254740991`, want: 9007199254740991},
	{name: "zero", raw: `0`, want: 0},
	{name: "null is zero", raw: `null`, want: 0},
	{name: "garbage in a string is zero", raw: `"three"`, want: 0},
	{name: "an empty string is zero", raw: `""`, want: 0},
	{name: "a padded numeric string is zero", raw: `" 3 "`, want: 0},
	{name: "a boolean is zero", raw: `true`, want: 0},
	{name: "an object is zero", raw: `{"value": 3}`, want: 0},
	{name: "an array is zero", raw: `[3]`, want: 0},
	{name: "NaN in a string is zero", raw: `"NaN"`, want: 0},
	{name: "infinity in a string is zero", raw: `"Infinity"`, want: 0},
	{name: "a number too large for float64 is zero", raw: `1e400`, want: 0},
}

func TestNumber(t *testing.T) {
	t.Parallel()
	for _, tc := range numberCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got struct {
				N  Number  `json:"n"`
				P  *Number `json:"p"`
				ID string  `json:"id"`
			}
			doc := fmt.Sprintf(`{"n": %s, "p": %s, "id": "after"}`, tc.raw, tc.raw)
			if err := json.Unmarshal([]byte(doc), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", doc, err)
			}
			if got.N != tc.want {
				t.Errorf("Number from %s = %v, want %v", tc.raw, got.N, tc.want)
			}
			if tc.raw == "null" {
				if got.P != nil {
					t.Errorf("*Number from null = %v, want nil", *got.P)
				}
			} else if got.P == nil || *got.P != tc.want {
				t.Errorf("*Number from %s = %v, want %v", tc.raw, got.P, tc.want)
			}
			if got.ID != "after" {
				t.Errorf("the member after the number was not decoded: %q", got.ID)
			}
		})
	}
}

func TestNumberInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    Number
		want int
	}{
		{name: "an integer is itself", n: 3, want: 3},
		{name: "a fraction rounds to nearest", n: 2.4, want: 2},
		{name: "a half rounds away from zero", n: 2.5, want: 3},
		{name: "a negative half rounds away from zero", n: -2.5, want: -3},
		{name: "a huge number clamps to MaxInt", n: 1e300, want: math.MaxInt},
		{name: "a huge negative number clamps to MinInt", n: -1e300, want: math.MinInt},
		{name: "infinity clamps to MaxInt", n: Number(math.Inf(1)), want: math.MaxInt},
		{name: "NaN is zero", n: Number(math.NaN()), want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.n.Int(); got != tc.want {
				t.Errorf("Number(%v).Int() = %d, want %d", float64(tc.n), got, tc.want)
			}
		})
	}
}

func TestTimeMarshalJSON(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   Time
		want string
	}{
		{name: "absent is null", in: Time{}, want: `null`},
		{name: "UTC is RFC 3339 with Z", in: Time{utc(2026, 2, 20, 10, 0, 0, 0)}, want: `"2026-02-20T10:00:00Z"`},
		{name: "a fraction is kept", in: Time{utc(2026, 2, 20, 10, 0, 4, 250e6)}, want: `"2026-02-20T10:00:04.25Z"`},
		{name: "another zone is converted to UTC", in: Time{time.Date(2026, 2, 20, 11, 0, 0, 0, paris)}, want: `"2026-02-20T10:00:00Z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("Marshal = %s, want %s", got, tc.want)
			}
			var back Time
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("Unmarshal(%s): %v", got, err)
			}
			if !back.Equal(tc.in.Time) {
				t.Errorf("round trip = %v, want %v", back.Time, tc.in.Time)
			}
		})
	}
}

func TestTimePtr(t *testing.T) {
	t.Parallel()
	t.Run("absent is nil", func(t *testing.T) {
		t.Parallel()
		var zero Time
		if p := zero.Ptr(); p != nil {
			t.Errorf("Ptr() = %v, want nil", *p)
		}
		if zero.Valid() {
			t.Error("Valid() = true, want false")
		}
	})
	t.Run("present is a UTC copy", func(t *testing.T) {
		t.Parallel()
		in := Time{time.Date(2026, 2, 20, 11, 0, 0, 0, time.FixedZone("CET", 3600))}
		p := in.Ptr()
		if p == nil || !p.Equal(in.Time) || p.Location() != time.UTC {
			t.Errorf("Ptr() = %v, want %v in UTC", p, in.Time)
		}
		if !in.Valid() {
			t.Error("Valid() = false, want true")
		}
	})
}

// readTestdata returns the bytes of testdata/name.
func TestTimeTextFormsFollowTheJSONRules(t *testing.T) {
	t.Parallel()
	var zero Time
	if b, _ := zero.MarshalText(); len(b) != 0 {
		t.Fatalf("absent time as text = %q, want empty", b)
	}
	var got Time
	if err := got.UnmarshalText([]byte("1771581600000")); err != nil || got.UTC().Format(time.RFC3339) != "2026-02-20T10:00:00Z" {
		t.Fatalf("epoch millis as text = %v, %v", got, err)
	}
	if b, _ := got.MarshalText(); string(b) != "2026-02-20T10:00:00Z" {
		t.Fatalf("MarshalText = %q", b)
	}
	if err := got.UnmarshalText([]byte("yesterday")); err != nil || !got.IsZero() {
		t.Fatalf("unreadable text = %v, %v; want absent, no error", got, err)
	}
}
