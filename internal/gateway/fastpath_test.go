package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/revox-graphql/gateway/graph"
	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// everyField selects every field of the schema's type, with the same for
// object fields below it (arguments left at their defaults). It is built
// from the schema, so a field added to CallAttempt or TranscriptEntry is
// selected here at once: if the fast path does not know it, the test sees
// the fast path not taken.
func everyField(t *testing.T, schema *ast.Schema, typ string) string {
	t.Helper()
	def := schema.Types[typ]
	if def == nil {
		t.Fatalf("no type %s in the schema", typ)
	}
	var parts []string
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		sub := schema.Types[f.Type.Name()]
		if sub.Kind == ast.Object {
			parts = append(parts, f.Name+" { "+everyField(t, schema, sub.Name)+" }")
			continue
		}
		parts = append(parts, f.Name)
	}
	return strings.Join(parts, " ")
}

// TestFastPathAnswersExactlyWhatTheExecutorDoes sends the same requests to
// two gateways over one sandbox, one with the fast path
// (graph/generated/fastpath.go) and one without, and requires identical
// data and errors, byte for byte: every attempt of the dataset with every
// field, aliases, fragments, @skip/@include with variables, transcript
// arguments, attempts under call(id:), and arguments the executor refuses.
func TestFastPathAnswersExactlyWhatTheExecutorDoes(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	t.Cleanup(up.Close)
	newGateway := func(disable bool) string {
		client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), DisableFastPath: disable}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	fast, slow := newGateway(false), newGateway(true)

	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: graph.SDL})
	if err != nil {
		// The federation directives are declared by gqlgen, not in SDL.
		sdl, cerr := graph.ClientSDL()
		if cerr != nil {
			t.Fatal(cerr)
		}
		if schema, err = gqlparser.LoadSchema(&ast.Source{Name: "client.graphqls", Input: sdl}); err != nil {
			t.Fatal(err)
		}
	}
	attempt := everyField(t, schema, "CallAttempt")

	same := func(t *testing.T, query string, vars map[string]any) response {
		t.Helper()
		f, s := post(t, fast, query, vars), post(t, slow, query, vars)
		if !bytes.Equal(f.Data, s.Data) {
			t.Fatalf("data differs for %s %v\nfast: %s\nslow: %s", query, vars, f.Data, s.Data)
		}
		if !reflect.DeepEqual(f.Errors, s.Errors) || f.status != s.status {
			t.Fatalf("errors differ for %s %v\nfast (%d): %s\nslow (%d): %s", query, vars, f.status, f.raw, s.status, s.raw)
		}
		return f
	}

	t.Run("every attempt, every field", func(t *testing.T) {
		query := fmt.Sprintf(`query($p: Int) { calls(page: $p, pageSize: 100) {
			edges { cursor node { %s } } nodes { %[1]s } pageInfo { hasNextPage } } }`, attempt)
		before := generated.FastPathWrites()
		objects := 0
		for page := 0; ; page++ {
			r := same(t, query, map[string]any{"p": page})
			var data struct {
				Calls struct {
					Nodes    []json.RawMessage `json:"nodes"`
					PageInfo struct{ HasNextPage bool }
				}
			}
			r.ok(t, &data)
			objects += 3 * len(data.Calls.Nodes) // an edge, its node, and a node each
			if !data.Calls.PageInfo.HasNextPage {
				break
			}
		}
		if objects < 200 {
			t.Fatalf("the dataset has %d attempts, want a few hundred", objects/3)
		}
		if n := generated.FastPathWrites() - before; n < int64(objects) {
			t.Fatalf("the fast path wrote %d objects of %d: it is not taken for every field", n, objects)
		}
	})

	t.Run("aliases, fragments, directives, transcript arguments", func(t *testing.T) {
		query := `query($p: Int, $yes: Boolean!, $no: Boolean!, $roles: [TranscriptRole!], $n: Int) {
		  calls(page: $p, pageSize: 100) {
		    edges { __typename c: cursor cursor node { ...A i: id id
		      ... on CallAttempt { status @include(if: $yes) result @skip(if: $yes) statusRaw @include(if: $no)
		        t2: transcript(roles: $roles, first: $n) { __typename r: role content c: content toolIsError } } } }
		    nodes { __typename transcript(last: 2) { roleRaw toolArguments toolName } dialError @skip(if: $no) dialErrorRaw endedBy endedByRaw } } }
		  fragment A on CallAttempt { phoneNumber structuredOutput durationSeconds transcriptLength
		    transcript(roles: [USER, TOOL]) { content ... on TranscriptEntry { role } } }`
		for page := range 3 {
			for _, v := range []map[string]any{
				{"p": page, "yes": true, "no": false, "roles": []string{"TOOL"}, "n": 2},
				{"p": page, "yes": false, "no": true, "roles": nil, "n": 0},
				{"p": page, "yes": true, "no": true, "roles": []string{"ASSISTANT", "USER"}, "n": nil},
			} {
				same(t, query, v)
			}
		}
	})

	t.Run("selections that share their first and last fields", func(t *testing.T) {
		// a's and b's nodes merge to [id, phoneNumber, status] and
		// [id, transcriptLength, status]: the same first and last AST
		// nodes and length, different fields.
		query := `{ a: calls(first: 5) { ...F ...H ...G } b: calls(first: 5) { ...F ...K ...G } }
		  fragment F on CallAttemptConnection { nodes { id } }
		  fragment G on CallAttemptConnection { nodes { status } }
		  fragment H on CallAttemptConnection { nodes { phoneNumber } }
		  fragment K on CallAttemptConnection { nodes { transcriptLength } }`
		for range 2 {
			r := same(t, query, nil)
			if !strings.Contains(string(r.Data), `"transcriptLength"`) || !strings.Contains(string(r.Data), `"phoneNumber"`) {
				t.Fatalf("fields missing: %s", r.Data)
			}
		}
	})

	t.Run("attempts under call(id:)", func(t *testing.T) {
		query := fmt.Sprintf(`query($id: ID!) { call(id: $id) { id lastCallAttempt { %s } callAttempts { %[1]s } } }`, attempt)
		ids := sb.OrderIDs()
		for i := 0; i < len(ids); i += 7 {
			same(t, query, map[string]any{"id": ids[i]})
		}
	})

	t.Run("arguments the executor refuses", func(t *testing.T) {
		for _, q := range []string{
			`{ calls(pageSize: 3) { nodes { id transcript(first: 1, last: 1) { content } } } }`,
			`{ calls(pageSize: 3) { edges { node { id transcript(first: -1) { content } } } } }`,
			`{ calls(pageSize: 3) { nodes { id transcript(last: -2) { content } } } }`,
		} {
			r := same(t, q, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("%s: no error", q)
			}
		}
	})
}

// Pages are decoded for the fields the operation reads alone
// (revox.WithAttemptFields). Each CallAttempt field asked for alone, or
// beside a few others, must answer what it answers beside every field: a
// field whose upstream dependencies were left out of the decoding would
// read zero values here.
func TestEachFieldAloneAnswersWhatItAnswersBesideAllOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: graph.SDL})
	if err != nil {
		sdl, _ := graph.ClientSDL()
		if schema, err = gqlparser.LoadSchema(&ast.Source{Input: sdl}); err != nil {
			t.Fatal(err)
		}
	}
	all := everyField(t, schema, "CallAttempt")
	type nodes struct {
		Calls struct {
			Nodes []map[string]json.RawMessage `json:"nodes"`
			Edges []struct {
				Node map[string]json.RawMessage `json:"node"`
			} `json:"edges"`
		} `json:"calls"`
	}
	for page := range 4 {
		var whole nodes
		e.do(t, fmt.Sprintf(`{ calls(page: %d, pageSize: 100) { nodes { %s } } }`, page, all), nil).ok(t, &whole)
		if len(whole.Calls.Nodes) == 0 {
			break
		}
		for _, f := range schema.Types["CallAttempt"].Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			sel := f.Name
			if strings.Contains(all, f.Name+" {") {
				sel = f.Name + " { role roleRaw content toolName toolArguments toolIsError }"
			}
			for _, q := range []string{
				fmt.Sprintf(`{ calls(page: %d, pageSize: 100) { nodes { %s } } }`, page, sel),
				fmt.Sprintf(`{ calls(page: %d, pageSize: 100) { edges { node { ...F } } } } fragment F on CallAttempt { %s status }`, page, sel),
			} {
				var got nodes
				e.do(t, q, nil).ok(t, &got)
				items := got.Calls.Nodes
				if len(items) == 0 {
					for _, edge := range got.Calls.Edges {
						items = append(items, edge.Node)
					}
				}
				if len(items) != len(whole.Calls.Nodes) {
					t.Fatalf("%s: %d attempts, want %d", q, len(items), len(whole.Calls.Nodes))
				}
				for i, item := range items {
					if !bytes.Equal(item[f.Name], whole.Calls.Nodes[i][f.Name]) {
						t.Fatalf("%s: attempt %d %s = %s, beside every field %s", q, i, f.Name, item[f.Name], whole.Calls.Nodes[i][f.Name])
					}
				}
			}
		}
	}
}
