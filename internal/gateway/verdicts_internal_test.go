package gateway

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestVerdictKeys(t *testing.T) {
	t.Parallel()
	doc := &ast.QueryDocument{}
	ctxWith := func(vars map[string]any) *graphql.OperationContext {
		return &graphql.OperationContext{Doc: doc, OperationName: "Q", Variables: vars}
	}
	t.Run("the same variables make the same key whatever their order", func(t *testing.T) {
		a := map[string]any{"a": 1, "b": []any{"x", 2}, "c": map[string]any{"d": true, "e": nil}}
		b := map[string]any{"c": map[string]any{"e": nil, "d": true}, "b": []any{"x", 2}, "a": 1}
		ka, okA := verdictKeyOf(ctxWith(a))
		kb, okB := verdictKeyOf(ctxWith(b))
		if !okA || !okB || ka != kb {
			t.Fatalf("keys %+v (%v) and %+v (%v) differ", ka, okA, kb, okB)
		}
	})
	t.Run("other variables, operation or document make another key", func(t *testing.T) {
		base, _ := verdictKeyOf(ctxWith(map[string]any{"n": 1}))
		others := []*graphql.OperationContext{
			ctxWith(map[string]any{"n": 2}),
			ctxWith(map[string]any{"n": "1"}),
			ctxWith(nil),
			{Doc: doc, OperationName: "R", Variables: map[string]any{"n": 1}},
			{Doc: &ast.QueryDocument{}, OperationName: "Q", Variables: map[string]any{"n": 1}},
		}
		for i, oc := range others {
			if k, ok := verdictKeyOf(oc); !ok || k == base {
				t.Errorf("case %d: key %+v (cacheable %v) equals the base key", i, k, ok)
			}
		}
	})
	t.Run("large variables are measured every time", func(t *testing.T) {
		if _, ok := verdictKeyOf(ctxWith(map[string]any{"pad": strings.Repeat("x", maxVerdictVariables)})); ok {
			t.Fatal("a verdict for over 1 KiB of variables would be remembered")
		}
	})
	t.Run("the cache keeps no more verdicts than its size", func(t *testing.T) {
		c := newVerdictCache(2)
		for range 5 {
			k, _ := verdictKeyOf(&graphql.OperationContext{Doc: &ast.QueryDocument{}})
			c.add(k, verdict{})
		}
		if n := c.entries.Len(); n != 2 {
			t.Fatalf("%d verdicts kept, want 2", n)
		}
	})
}
