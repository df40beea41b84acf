package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// entityReps is n Call representations of distinct ids.
func entityReps(n int) []any {
	reps := make([]any, n)
	for i := range reps {
		reps[i] = map[string]any{"__typename": "Call", "id": fmt.Sprint("call-", i)}
	}
	return reps
}

// aliasedEntities is an operation of fields aliased _entities fields, each
// given the variable $r<i> and the selection sel.
func aliasedEntities(fields int, sel string) string {
	var vars, body strings.Builder
	for i := range fields {
		fmt.Fprintf(&vars, "$r%d: [_Any!]!, ", i)
		fmt.Fprintf(&body, "e%d: _entities(representations: $r%d) { %s }\n", i, i, sel)
	}
	return "query(" + strings.TrimSuffix(vars.String(), ", ") + ") {\n" + body.String() + "}"
}

func TestEntitiesAreBoundedAndPricedPerOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const heavy = `... on Call { callAttempts { transcript(first: 1000) { content } } }`
	for _, tt := range []struct {
		name           string
		fields, each   int
		sel            string
		wantCodes      []string
		wantNoUpstream bool
	}{
		{"fifteen aliased fields of 100 representations are refused", 15, 100, "__typename", []string{"QUERY_TOO_COMPLEX"}, true},
		{"two fields of 51 are refused: the bound is per operation", 2, 51, "__typename", []string{"QUERY_TOO_COMPLEX"}, true},
		{"two fields of 50 are served", 2, 50, "__typename", []string{"NOT_FOUND"}, false},
		{"60 representations cost 60 times their selection", 1, 60, heavy, []string{"QUERY_TOO_COMPLEX"}, true},
		{"40 representations of the same selection are served", 1, 40, heavy, []string{"NOT_FOUND"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]any{}
			for i := range tt.fields {
				vars[fmt.Sprint("r", i)] = entityReps(tt.each)
			}
			before := e.sb.Requests()
			r := e.do(t, aliasedEntities(tt.fields, tt.sel), vars)
			codes := slices.Compact(r.codes())
			if !slices.Equal(codes, tt.wantCodes) {
				t.Fatalf("codes %v, want %v: %.300s", codes, tt.wantCodes, r.raw)
			}
			if n := e.sb.Requests() - before; tt.wantNoUpstream && n != 0 {
				t.Fatalf("a refused operation cost %d upstream requests", n)
			}
		})
	}
}
