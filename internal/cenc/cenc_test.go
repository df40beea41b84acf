//go:build cgo && cencoders

package cenc

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// inputs are what an encoder must take: nothing, a byte, JSON text of
// several sizes (the largest over one call of igzip's level buffer), and
// bytes that do not compress (where the output is larger than the input).
func inputs() map[string][]byte {
	var text strings.Builder
	for i := 0; text.Len() < 600<<10; i++ {
		fmt.Fprintf(&text, `{"id":"att_%06d","status":"completed","transcript":[{"role":"agent","content":"Hello, this is call %d about your appointment on the %dth."}]},`, i, i*7, i%28+1)
	}
	noise := make([]byte, 300<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	return map[string][]byte{
		"empty":        {},
		"one byte":     {'{'},
		"small JSON":   []byte(text.String()[:900]),
		"page of JSON": []byte(text.String()[:90<<10]),
		"600 KiB JSON": []byte(text.String()),
		"noise":        noise,
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false) // exactly one member
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func unbrotli(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(brotli.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// encoder is what Gzip and Brotli have in common.
type encoder interface {
	AppendEncoded(dst, src []byte) ([]byte, error)
}

// checkRoundTrips encodes every input twice with enc (it starts afresh
// each time) after bytes dst already holds, and decodes each.
func checkRoundTrips(t *testing.T, what string, enc encoder, decode func(*testing.T, []byte) []byte, skip func(in []byte) bool) {
	t.Helper()
	for name, in := range inputs() {
		if skip != nil && skip(in) {
			continue
		}
		for range 2 {
			out, err := enc.AppendEncoded([]byte("kept"), in)
			if err != nil {
				t.Fatalf("%s, %s: %v", what, name, err)
			}
			if !bytes.HasPrefix(out, []byte("kept")) {
				t.Fatalf("%s, %s: what dst held is lost", what, name)
			}
			if got := decode(t, out[4:]); !bytes.Equal(got, in) {
				t.Fatalf("%s, %s: decodes to %d bytes, want the %d given", what, name, len(got), len(in))
			}
			if strings.Contains(name, "JSON") && len(in) > 1<<10 && (len(out)-4)*4 > len(in) {
				t.Errorf("%s, %s: %d bytes for %d, less than a 4× cut", what, name, len(out)-4, len(in))
			}
		}
	}
}

func TestGzipDecodesToItsInputAtEveryLevel(t *testing.T) {
	for level := 1; level <= GzipLevels; level++ {
		enc, err := NewGzip(level)
		if err != nil {
			t.Fatal(err)
		}
		checkRoundTrips(t, fmt.Sprintf("level %d", level), enc, gunzip, nil)
	}
}

func TestGzipGrowsItsOutputWhenTheRoomRunsOut(t *testing.T) {
	enc, err := NewGzip(1)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range inputs() {
		out, err := enc.appendEncoded(nil, in, 16)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := gunzip(t, out); !bytes.Equal(got, in) {
			t.Fatalf("%s: decodes to %d bytes, want the %d given", name, len(got), len(in))
		}
	}
}

func TestBrotliDecodesToItsInputAtEveryQuality(t *testing.T) {
	for q := 0; q <= 11; q++ {
		enc, err := NewBrotli(q)
		if err != nil {
			t.Fatal(err)
		}
		slow := func(in []byte) bool { return q > 5 && len(in) > 100<<10 } // and no different
		checkRoundTrips(t, fmt.Sprintf("quality %d", q), enc, unbrotli, slow)
	}
}

func TestTheArenaHoldsTheEncodersAllocations(t *testing.T) {
	in := inputs()["600 KiB JSON"][:512<<10] // the largest answer held whole
	for q := 0; q <= 4; q++ {
		enc, err := NewBrotli(q)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 { // each encoding starts the arena afresh
			if _, err := enc.AppendEncoded(nil, in); err != nil {
				t.Fatal(err)
			}
		}
		peak, overflows := enc.arenaUse()
		t.Logf("quality %d: %d KiB of the arena", q, peak>>10)
		if overflows > 0 || peak > BrotliArena {
			t.Errorf("quality %d: %d allocations past the arena (peak %d bytes of %d)", q, overflows, peak, BrotliArena)
		}
	}
}

func TestAnEncoderThatOutgrowsTheArenaStillEncodes(t *testing.T) {
	in := inputs()["600 KiB JSON"]
	enc, err := NewBrotli(11) // its tables are larger than the arena
	if err != nil {
		t.Fatal(err)
	}
	out, err := enc.AppendEncoded(nil, in[:200<<10])
	if err != nil {
		t.Fatal(err)
	}
	if _, overflows := enc.arenaUse(); overflows == 0 {
		t.Fatal("quality 11 fitted the arena: this test no longer tests malloc's part")
	}
	if got := unbrotli(t, out); !bytes.Equal(got, in[:200<<10]) {
		t.Fatalf("decodes to %d bytes, want %d", len(got), 200<<10)
	}
}

func TestLevelsOutOfRangeAreRefused(t *testing.T) {
	for _, level := range []int{-1, 0, GzipLevels + 1} {
		if _, err := NewGzip(level); err == nil {
			t.Errorf("gzip level %d taken", level)
		}
	}
	for _, q := range []int{-1, 12} {
		if _, err := NewBrotli(q); err == nil {
			t.Errorf("brotli quality %d taken", q)
		}
	}
}

func TestTheWindowHoldsTheInput(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, 10}, {1008, 10}, {1009, 11}, {(1 << 18) - 16, 18}, {(1 << 18) - 15, 19}, {512 << 10, 20}, {1 << 30, 24},
	} {
		if got := int(window(tc.n)); got != tc.want {
			t.Errorf("window(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestGzipTakesTheWorstCaseOnceAndNoMore(t *testing.T) {
	enc, err := NewGzip(1)
	if err != nil {
		t.Fatal(err)
	}
	noise := inputs()["noise"] // stored blocks: the worst case
	out, err := enc.AppendEncoded(nil, noise)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(noise) + len(noise)/64 + 64; cap(out) != want || len(out) > want {
		t.Fatalf("%d bytes written into %d of room, want the worst case's %d, made once", len(out), cap(out), want)
	}
	if got := gunzip(t, out); !bytes.Equal(got, noise) {
		t.Fatal("decodes to other bytes")
	}
}

func TestGrowKeepsARoomThatIsLargeEnough(t *testing.T) {
	dst := make([]byte, 3, 10)
	if g := grow(dst, 7); &g[:1][0] != &dst[:1][0] || cap(g) != 10 {
		t.Fatal("room for exactly n more was made again")
	}
	g := grow(dst, 8)
	if cap(g)-len(g) < 8 || len(g) != 3 || &g[:1][0] == &dst[:1][0] {
		t.Fatalf("grow(len 3 cap 10, 8): len %d cap %d", len(g), cap(g))
	}
}
