package gateway_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/revox-graphql/gateway/graph"
)

func TestServiceSDLIsTheSubgraphSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var data struct {
		Service struct{ SDL string } `json:"_service"`
	}
	e.do(t, `{ _service { sdl } }`, nil).ok(t, &data)
	sdl := data.Service.SDL
	if sdl != graph.SDL {
		t.Fatal("_service.sdl differs from graph/schema.graphqls, which `go run . schema` prints")
	}
	if _, err := parser.ParseSchema(&ast.Source{Name: "_service.sdl", Input: sdl}); err != nil {
		t.Fatalf("_service.sdl does not parse: %v", err)
	}
	for _, want := range []string{
		`extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])`,
		`type Call implements Node @key(fields: "id") {`,
		`type PageInfo @shareable {`,
		`type CallAttempt {`,
	} {
		if !strings.Contains(sdl, want) {
			t.Errorf("_service.sdl lacks %q", want)
		}
	}
	for _, unwanted := range []string{"_entities", "_Service", "@entityResolver", "directive @"} {
		if strings.Contains(sdl, unwanted) {
			t.Errorf("_service.sdl contains %q: subgraph SDL must hold only the public schema and its federation directives", unwanted)
		}
	}
}

func TestOnlyCallIsAnEntity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var data struct {
		Type struct {
			PossibleTypes []struct{ Name string } `json:"possibleTypes"`
		} `json:"__type"`
	}
	e.do(t, `{ __type(name: "_Entity") { possibleTypes { name } } }`, nil).ok(t, &data)
	if len(data.Type.PossibleTypes) != 1 || data.Type.PossibleTypes[0].Name != "Call" {
		t.Fatalf("_Entity = %+v, want only Call", data.Type.PossibleTypes)
	}

	before := e.sb.Requests()
	r := e.do(t, `query($reps: [_Any!]!) { _entities(representations: $reps) { __typename } }`,
		map[string]any{"reps": []any{map[string]any{"__typename": "CallAttempt", "id": "attempt-1"}}})
	if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
		t.Fatalf("a CallAttempt representation: codes %v, want BAD_USER_INPUT: %s", r.codes(), r.raw)
	}
	if n := e.sb.Requests() - before; n != 0 {
		t.Fatalf("a CallAttempt representation cost %d upstream requests", n)
	}
	for name, rep := range map[string]map[string]any{
		"no __typename": {"id": "x"},
		"no id":         {"__typename": "Call"},
	} {
		r := e.do(t, `query($reps: [_Any!]!) { _entities(representations: $reps) { __typename } }`, map[string]any{"reps": []any{rep}})
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
			t.Fatalf("%s: codes %v, want BAD_USER_INPUT: %s", name, r.codes(), r.raw)
		}
	}
	var many []any
	for i := range 101 {
		many = append(many, map[string]any{"__typename": "Call", "id": fmt.Sprint("c", i)})
	}
	before = e.sb.Requests()
	r = e.do(t, `query($reps: [_Any!]!) { _entities(representations: $reps) { __typename } }`, map[string]any{"reps": many})
	if !slices.Equal(r.codes(), []string{"QUERY_TOO_COMPLEX"}) || e.sb.Requests() != before {
		t.Fatalf("101 representations: codes %v, %d upstream requests", r.codes(), e.sb.Requests()-before)
	}
}

// orderFragment is the selection compared between _entities and call(id:).
const orderFragment = `
fragment order on Call {
  id status toPhoneNumber callsCount metadata
  lastCallAttempt { id status }
  callAttempts { id status startedAt transcript(roles: [USER], first: 1) { role content } }
}`

const entitiesQuery = `query($reps: [_Any!]!) {
  _entities(representations: $reps) { __typename ... on Call { ...order } }
}` + orderFragment

func TestEntitiesResolveCallsInOrderWithOneRequestPerDistinctID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orders := e.sb.OrderIDs()
	if len(orders) < 3 {
		t.Fatalf("sandbox has %d call orders, want at least 3", len(orders))
	}
	// The two newest orders (few or no attempts yet) and one with several.
	a, b, c := orders[0], orders[1], orderWithAttempts(t, e, 3)
	if a == c || b == c {
		t.Fatal("pick three distinct call orders")
	}
	const unknown = "call_does_not_exist"
	ids := []string{a, c, a, unknown, b, c}

	// Each expected entity is what call(id:) answers with the same selection.
	want := make([]json.RawMessage, len(ids))
	for i, id := range ids {
		if id == unknown {
			want[i] = json.RawMessage(`null`)
			continue
		}
		var data struct{ Call json.RawMessage }
		e.do(t, `query($id: ID!) { call(id: $id) { __typename ...order } }`+orderFragment, map[string]any{"id": id}).ok(t, &data)
		want[i] = data.Call
	}

	reps := make([]any, len(ids))
	for i, id := range ids {
		reps[i] = map[string]any{"__typename": "Call", "id": id}
	}
	before := e.sb.Requests()
	r := e.do(t, entitiesQuery, map[string]any{"reps": reps})
	if n, distinct := e.sb.Requests()-before, 4; n != int64(distinct) {
		t.Fatalf("_entities with %d representations of %d distinct ids cost %d upstream requests", len(ids), distinct, n)
	}

	if !slices.Equal(r.codes(), []string{"NOT_FOUND"}) {
		t.Fatalf("codes = %v, want one NOT_FOUND: %s", r.codes(), r.raw)
	}
	if got := fmt.Sprint(r.Errors[0].Path); got != "[_entities 3]" {
		t.Fatalf("NOT_FOUND path = %s, want [_entities 3]", got)
	}
	var data struct {
		Entities []json.RawMessage `json:"_entities"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatalf("decoding data: %v\n%s", err, r.raw)
	}
	if len(data.Entities) != len(ids) {
		t.Fatalf("%d entities for %d representations", len(data.Entities), len(ids))
	}
	for i := range ids {
		if !jsonEqual(data.Entities[i], want[i]) {
			t.Errorf("entity %d (%s) = %s\nwant what call(id:) answers: %s", i, ids[i], data.Entities[i], want[i])
		}
	}
}
