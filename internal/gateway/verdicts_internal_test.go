package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/graph/resolvers"
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
			c.Add(k, verdict{})
		}
		if n := c.Len(); n != 2 {
			t.Fatalf("%d verdicts kept, want 2", n)
		}
	})
}

// BenchmarkOperationLimits is what the limits cost one request of the
// full 20-attempt page (bench/distinct's query): measured, and remembered.
func BenchmarkOperationLimits(b *testing.B) {
	var cfg Config
	cfg.withDefaults()
	es := generated.NewExecutableSchema(generated.Config{
		Resolvers:  &resolvers.Resolver{Limits: cfg.Limits},
		Complexity: resolvers.Complexity(cfg.Limits),
	})
	query := `{ calls(page: 3, pageSize: 20) { edges { cursor node {
	  id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw
	  startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw
	  structuredOutput transcriptLength
	  transcript { role roleRaw content toolName toolArguments toolIsError } } }
	  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	doc, errs := gqlparser.LoadQuery(es.Schema(), query)
	if errs != nil {
		b.Fatal(errs)
	}
	for _, remembered := range []bool{false, true} {
		b.Run(map[bool]string{false: "measured", true: "remembered"}[remembered], func(b *testing.B) {
			l := newOperationLimiter(DefaultOperationLimits, 16)
			_ = l.Validate(es)
			oc := &graphql.OperationContext{Doc: doc, Variables: map[string]any{}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				var err *gqlerror.Error
				if remembered {
					err = l.MutateOperationContext(ctx, oc)
				} else {
					err = l.judge(ctx, oc).err()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
