package fastpath

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/revox"
)

// The fast path's writers must match gqlgen's marshalers byte for byte on
// inputs the sandbox dataset may not hold (internal/gateway's
// TestFastPathAnswersExactlyWhatTheExecutorDoes covers the rest).

func marshal(m graphql.Marshaler) []byte {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	return b.Bytes()
}

func TestAppendStringMatchesMarshalString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", `quote " and backslash \`, "tab\tcr\rlf\n", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "héllo — 日本 🎧", "invalid \xff\xfe utf-8", "\u2028\u2029",
	} {
		want := marshal(graphql.MarshalString(s))
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, MarshalString writes %s", s, got, want)
		}
		if got := CloseString(append([]byte(`"`), s...), 1); !bytes.Equal(got, want) {
			t.Errorf("CloseString after %q = %s, MarshalString writes %s", s, got, want)
		}
		if got := marshal(graphql.MarshalID(s)); !bytes.Equal(got, want) {
			t.Errorf("MarshalID(%q) = %s, unlike MarshalString: IDs need their own writer", s, got)
		}
	}
}

func TestAppendFloatMatchesMarshalFloat(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, 1, 42, 0.1, 12.345, 1e6, 1e20, 1e21, 123456789.125, 1e-7, 5e-324, math.MaxFloat64, -3.5} {
		want := fmt.Sprintf("%g", f) // graphql.MarshalFloatContext
		if got := string(AppendFloat(nil, f)); got != want {
			t.Errorf("%v: fast path writes %s, gqlgen %s", f, got, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if IsFinite(f) {
			t.Errorf("IsFinite(%v) = true: the fast path would write what gqlgen reports as an error", f)
		}
	}
}

func TestScalarWritersMatchTheirMarshalers(t *testing.T) {
	t.Parallel()
	when := revox.Time{Time: time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("x", 3600))}
	for _, c := range []struct {
		name string
		got  []byte
		want graphql.Marshaler
	}{
		{"a time", AppendDateTime(nil, when), model.MarshalDateTime(when)},
		{"a zero time", AppendDateTime(nil, revox.Time{}), model.MarshalDateTime(revox.Time{})},
		{"an object", AppendJSON(nil, json.RawMessage(`{"a":[1,"x"]}`)), model.MarshalJSON(json.RawMessage(`{"a":[1,"x"]}`))},
		{"absent JSON", AppendJSON(nil, nil), model.MarshalJSON(nil)},
		{"JSON null", AppendJSON(nil, json.RawMessage("null")), model.MarshalJSON(json.RawMessage("null"))},
		{"true", AppendBoolean(nil, true), graphql.MarshalBoolean(true)},
		{"false", AppendBoolean(nil, false), graphql.MarshalBoolean(false)},
		{"an int", AppendInt(nil, -42), graphql.MarshalInt(-42)},
		{"a nil pointer", AppendOpt[string](nil, nil, AppendString), graphql.Null},
	} {
		t.Run(c.name+" is written as gqlgen writes it", func(t *testing.T) {
			if want := marshal(c.want); !bytes.Equal(c.got, want) {
				t.Fatalf("fast path writes %s, gqlgen %s", c.got, want)
			}
		})
	}
}

func TestResponseBufferStartsAtTheLastSizeOfTheSameOperation(t *testing.T) {
	t.Parallel()
	doc := &ast.QueryDocument{}
	a := &graphql.OperationContext{Doc: doc, OperationName: "A"}
	b := &graphql.OperationContext{Doc: doc, OperationName: "B"}
	if buf := ResponseBuffer(a); buf.Cap() != 0 {
		t.Fatalf("a first response starts with %d bytes, want none", buf.Cap())
	}
	RememberResponseSize(a, 9534)
	if buf := ResponseBuffer(a); buf.Cap() < 9534 {
		t.Fatalf("after a 9534-byte response: capacity %d", buf.Cap())
	}
	if buf := ResponseBuffer(b); buf.Cap() != 0 {
		t.Fatalf("another operation of the document starts with %d bytes", buf.Cap())
	}
	RememberResponseSize(b, 50<<20)
	if buf := ResponseBuffer(b); buf.Cap() > maxResponseHint+64 {
		t.Fatalf("a 50 MiB response makes the next start at %d bytes, over the bound", buf.Cap())
	}
}
