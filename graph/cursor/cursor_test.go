package cursor

import (
	"encoding/base64"
	"errors"
	"testing"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, off := range []int{0, 1, 19, 20, 99, 100, 12345, MaxOffset} {
		for _, fp := range []uint32{Fingerprint(""), Fingerprint("completed"), 0, 0xffffffff} {
			c := Encode(off, fp)
			got, err := Decode(c, fp)
			if err != nil || got != off {
				t.Fatalf("Decode(Encode(%d, %x)) = %d, %v", off, fp, got, err)
			}
			if again := string(Append([]byte("x"), off, fp)); again != "x"+c {
				t.Fatalf("Append and Encode disagree for offset %d: %q and %q", off, again, c)
			}
		}
	}
}

// The format is public in effect: clients store cursors across releases.
func TestFormatIsStable(t *testing.T) {
	t.Parallel()
	if got, want := Encode(5, 0xabc), b64("c1:5:abc"); got != want {
		t.Fatalf("Encode(5, 0xabc) = %q, want %q", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	none := Fingerprint("")
	cases := map[string]struct {
		cursor string
		want   error
	}{
		"garbage":                   {"not-a-cursor!", ErrMalformed},
		"empty":                     {"", ErrMalformed},
		"base64 of something else":  {"aGVsbG8", ErrMalformed},
		"negative offset":           {b64("c1:-1:0"), ErrMalformed},
		"leading zero":              {b64("c1:01:0"), ErrMalformed},
		"offset too large":          {b64("c1:1099511627777:0"), ErrMalformed},
		"missing filter":            {b64("c1:5"), ErrMalformed},
		"other version":             {b64("c2:5:0"), ErrMalformed},
		"uppercase hex":             {b64("c1:5:ABC"), ErrMalformed},
		"too long":                  {b64("c1:5:0" + string(make([]byte, 80))), ErrMalformed},
		"made under another filter": {Encode(3, Fingerprint("completed")), ErrOtherFilter},
	}
	for name, tt := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := Decode(tt.cursor, none); !errors.Is(err, tt.want) {
				t.Fatalf("Decode(%q) error = %v, want %v", tt.cursor, err, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	none := Fingerprint("")
	for _, s := range []string{Encode(0, none), Encode(123, none), "", "Yzo6", b64("c1:9:0"), b64("c1:1:ffffffff")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		off, err := Decode(s, none)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrOtherFilter) {
				t.Fatalf("error %v is neither ErrMalformed nor ErrOtherFilter", err)
			}
			return
		}
		if off < 0 || off > MaxOffset {
			t.Fatalf("decoded offset %d out of range", off)
		}
		if Encode(off, none) != s {
			t.Fatalf("accepted non-canonical cursor %q for offset %d", s, off)
		}
	})
}
