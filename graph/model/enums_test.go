package model

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/graph"
	"github.com/revox-graphql/gateway/internal/revox"
)

// TestEnumCodecsMatchTheSchema keeps the schema's enums and the upstream
// spellings the marshalers know in step: a member added on one side only
// would answer OTHER for a documented value, or fail to unmarshal.
func TestEnumCodecsMatchTheSchema(t *testing.T) {
	t.Parallel()
	sdl, err := graph.ClientSDL()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Input: sdl})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*enumCodec{attemptStatusCodec, resultCodec, dialErrorCodec, endedByCodec, roleCodec, orderStatusCodec, directionCodec} {
		def := schema.Types[c.name]
		if def == nil || def.Kind != ast.Enum {
			t.Fatalf("schema has no enum %s", c.name)
		}
		var members []string
		for _, v := range def.EnumValues {
			if v.Name != Other {
				members = append(members, v.Name)
			}
		}
		slices.Sort(members)
		known := slices.Sorted(slices.Values(c.members))
		if !slices.Equal(members, known) {
			t.Errorf("%s: schema members %v, codec members %v", c.name, members, known)
		}
		if def.EnumValues.ForName(Other) == nil {
			t.Errorf("%s has no %s fallback", c.name, Other)
		}
	}
	// CallStatusFilter is input only: its members are exactly the codec's,
	// and it has no OTHER (nothing unknown can be filtered on).
	def := schema.Types["CallStatusFilter"]
	var members []string
	for _, v := range def.EnumValues {
		members = append(members, v.Name)
	}
	if slices.Sort(members); !slices.Equal(members, slices.Sorted(slices.Values(statusFilterCodec.members))) || len(members) != 7 {
		t.Errorf("CallStatusFilter: schema members %v, codec members %v", members, statusFilterCodec.members)
	}
}

func TestEnumMarshalling(t *testing.T) {
	t.Parallel()
	cases := map[string]string{"ios-screening-filter": `"IOS_SCREENING_FILTER"`, "IVR": `"IVR"`, "fax": `"OTHER"`}
	for raw, want := range cases {
		var buf bytesWriter
		resultCodec.marshal(raw).MarshalGQL(&buf)
		if string(buf) != want {
			t.Errorf("marshal(%q) = %s, want %s", raw, buf, want)
		}
	}
	if v, err := resultCodec.unmarshal("IOS_SCREENING_FILTER"); err != nil || v != "ios-screening-filter" {
		t.Errorf("unmarshal = %q, %v", v, err)
	}
	if _, err := resultCodec.unmarshal(Other); err == nil {
		t.Error("OTHER was accepted as input")
	}
}

type bytesWriter []byte

func (b *bytesWriter) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}

// TestAppendWritesWhatMarshalWrites: the executor's fast path appends enums
// and timestamps with the Append functions, the generated code marshals
// them; both must give the same bytes, unknown values included.
func TestAppendWritesWhatMarshalWrites(t *testing.T) {
	t.Parallel()
	for _, c := range []*enumCodec{attemptStatusCodec, resultCodec, dialErrorCodec, endedByCodec, roleCodec, orderStatusCodec, directionCodec} {
		for _, raw := range append(slices.Collect(maps.Keys(c.in)), "never-documented", "") {
			if up, ok := c.in[raw]; ok {
				raw = up
			}
			var want bytes.Buffer
			c.marshal(raw).MarshalGQL(&want)
			if got := c.appendTo([]byte("x"), raw); string(got) != "x"+want.String() {
				t.Errorf("%s %q: appendTo %s, marshal %s", c.name, raw, got, want.String())
			}
		}
	}
	for _, ts := range []time.Time{time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC), time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("x", 3600))} {
		var want bytes.Buffer
		MarshalDateTime(revox.Time{Time: ts}).MarshalGQL(&want)
		if got := AppendDateTime(nil, revox.Time{Time: ts}); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("AppendDateTime = %s, MarshalDateTime %s", got, want.Bytes())
		}
	}
}
