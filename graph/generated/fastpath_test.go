package generated

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// The fast path's own writers must match gqlgen's byte for byte on inputs
// the sandbox dataset may not hold (internal/gateway's
// TestFastPathAnswersExactlyWhatTheExecutorDoes covers the rest).

func TestAppendStringMatchesMarshalString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", `quote " and backslash \`, "tab\tcr\rlf\n", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "héllo — 日本 🎧", "invalid \xff\xfe utf-8", "\u2028\u2029",
	} {
		var want bytes.Buffer
		graphql.MarshalString(s).MarshalGQL(&want)
		if got := appendString(nil, s); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendString(%q) = %s, MarshalString writes %s", s, got, want.Bytes())
		}
	}
}

func TestFloatFormatMatchesMarshalFloat(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, 1, 42, 0.1, 12.345, 1e6, 1e20, 1e21, 123456789.125, 1e-7, 5e-324, math.MaxFloat64} {
		want := fmt.Sprintf("%g", f) // graphql.MarshalFloatContext
		if got := string(strconv.AppendFloat(nil, f, 'g', -1, 64)); got != want {
			t.Errorf("%v: fast path writes %s, gqlgen %s", f, got, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if isFinite(f) {
			t.Errorf("isFinite(%v) = true", f)
		}
	}
}

func TestResponseBufferStartsAtTheLastSizeOfTheSameOperation(t *testing.T) {
	t.Parallel()
	doc := &ast.QueryDocument{}
	a := &graphql.OperationContext{Doc: doc, OperationName: "A"}
	b := &graphql.OperationContext{Doc: doc, OperationName: "B"}
	if c := responseBuffer(a).Cap(); c != 0 {
		t.Fatalf("a first response starts with %d bytes, want none", c)
	}
	rememberResponseSize(a, 9534)
	if c := responseBuffer(a).Cap(); c < 9534 {
		t.Fatalf("after a 9534-byte response: capacity %d", c)
	}
	if c := responseBuffer(b).Cap(); c != 0 {
		t.Fatalf("another operation of the document starts with %d bytes", c)
	}
	rememberResponseSize(b, 50<<20)
	if c := responseBuffer(b).Cap(); c > maxResponseHint+64 {
		t.Fatalf("a 50 MiB response makes the next start at %d bytes, over the bound", c)
	}
}
