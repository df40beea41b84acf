package gateway_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/graph/fastpath"
	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// TestFastPathAnswersExactlyWhatTheExecutorDoes sends the same requests to
// two gateways over one sandbox, one with the fast path (graph/fastpath and
// the generated graph/generated/fastpath_gen.go) and one without, and
// requires identical data and errors, byte for byte. The queries are built
// from the schema: every field of every fast-path type, over every attempt
// of the dataset; every field again under aliases, fragments,
// @skip/@include and each argument bound to variables (values the executor
// refuses included). The fast path gateway's own extension counts the
// objects it wrote: it must have written every object of a fast-path type
// in the responses.
//
// Errors are compared in path order: gqlgen marshals list elements
// concurrently, so the order it reports their errors in varies.
func TestFastPathAnswersExactlyWhatTheExecutorDoes(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	t.Cleanup(up.Close)
	newGateway := func(fp *fastpath.FastPath) string {
		client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		limits := gateway.OperationLimits{MaxTokens: 100000, MaxDepth: 12, MaxAliases: 10000, MaxDirectives: 10000, MaxCost: 1 << 30}
		srv := httptest.NewServer(gateway.New(gateway.Config{
			Upstream: client, Logger: quietLogger(), Operation: limits,
			DisableFastPath: fp == nil, FastPath: fp,
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	fp := fastpath.New()
	fast, slow := newGateway(fp), newGateway(nil)
	schema := loadSchema(t)

	// same posts query to both and compares; it returns the response and
	// the number of objects the fast path wrote for it (the subtests run
	// one after another: the counter is this test's alone).
	same := func(t *testing.T, query string, vars map[string]any) (response, int64) {
		t.Helper()
		before := fp.Writes()
		f := post(t, fast, query, vars)
		wrote := fp.Writes() - before
		s := post(t, slow, query, vars)
		if !bytes.Equal(f.Data, s.Data) {
			t.Fatalf("data differs for %s %v\nfast: %s\nslow: %s", query, vars, f.Data, s.Data)
		}
		if !reflect.DeepEqual(byPath(f.Errors), byPath(s.Errors)) || f.status != s.status {
			t.Fatalf("errors differ for %s %v\nfast (%d): %s\nslow (%d): %s", query, vars, f.status, f.raw, s.status, s.raw)
		}
		return f, wrote
	}
	// wroteAll requires the fast path to have written every object of a
	// fast-path type of r, and reports the types seen.
	wroteAll := func(t *testing.T, r response, wrote int64, seen map[string]bool) int64 {
		t.Helper()
		var data map[string]any
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		want := fastPathObjects(schema, "Query", data, seen)
		if wrote != want {
			t.Fatalf("the fast path wrote %d objects of the %d in the response: a field or argument is not taken by it\n%.500s", wrote, want, r.Data)
		}
		return want
	}

	t.Run("every field of every fast-path type, over every attempt", func(t *testing.T) {
		query := fmt.Sprintf(`query($p: Int) { calls(page: $p, pageSize: 100) {
			edges { %s } nodes { %s } pageInfo { hasNextPage } } }`,
			everyField(t, schema, "CallAttemptEdge"), everyField(t, schema, "CallAttempt"))
		seen := map[string]bool{}
		var objects int64
		for page := 0; ; page++ {
			r, wrote := same(t, query, map[string]any{"p": page})
			objects += wroteAll(t, r, wrote, seen)
			var data struct {
				Calls struct{ PageInfo struct{ HasNextPage bool } }
			}
			r.ok(t, &data)
			if !data.Calls.PageInfo.HasNextPage {
				break
			}
		}
		for _, typ := range generated.FastPathTypes {
			if !seen[typ] {
				t.Errorf("no %s in the responses: the query does not reach every fast-path type", typ)
			}
		}
		if objects < 1000 {
			t.Fatalf("the dataset gave %d objects, want thousands", objects)
		}
	})

	t.Run("aliases, fragments, directives and arguments of every field", func(t *testing.T) {
		v := newVariants(schema)
		edge, node := v.of(t, "CallAttemptEdge"), v.of(t, "CallAttempt")
		query := fmt.Sprintf("query($p: Int, %s) { calls(page: $p, pageSize: 100) { edges { %s } nodes { %s } } }\n%s",
			strings.Join(v.decls, ", "), edge, node, strings.Join(v.frags, "\n"))
		for page := range 3 {
			for i, set := range v.sets {
				vars := map[string]any{"p": page}
				for k, x := range set {
					vars[k] = x
				}
				r, wrote := same(t, query, vars)
				if i == 0 {
					// Ordinary values: no error, every object by the fast path.
					if len(r.Errors) > 0 {
						t.Fatalf("errors: %.500s", r.raw)
					}
					wroteAll(t, r, wrote, map[string]bool{})
				} else if len(r.Errors) == 0 {
					t.Fatalf("negative first/last: no error")
				}
			}
		}
	})

	t.Run("selections that share their first and last fields", func(t *testing.T) {
		// a's and b's nodes merge to [id, phoneNumber, status] and
		// [id, transcriptLength, status]: the same first and last AST
		// nodes and length, different fields.
		query := `{ a_calls: calls(first: 5) { ...F ...H ...G } b_calls: calls(first: 5) { ...F ...K ...G } }
		  fragment F on CallAttemptConnection { nodes { id } }
		  fragment G on CallAttemptConnection { nodes { status } }
		  fragment H on CallAttemptConnection { nodes { phoneNumber } }
		  fragment K on CallAttemptConnection { nodes { transcriptLength } }`
		for range 2 {
			r, wrote := same(t, query, nil)
			if !strings.Contains(string(r.Data), `"transcriptLength"`) || !strings.Contains(string(r.Data), `"phoneNumber"`) {
				t.Fatalf("fields missing: %s", r.Data)
			}
			wroteAll(t, r, wrote, map[string]bool{})
		}
	})

	t.Run("attempts under call(id:)", func(t *testing.T) {
		query := fmt.Sprintf(`query($id: ID!) { call(id: $id) { id lastCallAttempt { %s } callAttempts { %[1]s } } }`, everyField(t, schema, "CallAttempt"))
		ids := sb.OrderIDs()
		for i := 0; i < len(ids); i += 7 {
			r, wrote := same(t, query, map[string]any{"id": ids[i]})
			wroteAll(t, r, wrote, map[string]bool{})
		}
	})

	t.Run("a nested selection the fast path cannot plan goes to gqlgen's field function, the rest stays fast", func(t *testing.T) {
		// @defer is not planned: the field holding it is answered by
		// gqlgen's field function, inside the object the fast path writes.
		for _, q := range []string{
			`{ calls(pageSize: 20) { edges { cursor node { id ... @defer { status } } } } }`,
			`{ calls(pageSize: 20) { nodes { id transcript(first: 2) { content ... @defer { role } } } } }`,
			`{ calls(pageSize: 20) { nodes { id transcript(first: -1) { content ... @defer { role } } } } }`,
		} {
			if _, wrote := same(t, q, nil); wrote != 20 {
				t.Fatalf("%s: the fast path wrote %d objects, want the 20 edges or attempts", q, wrote)
			}
		}
	})

	t.Run("arguments the executor refuses", func(t *testing.T) {
		for _, q := range []string{
			`{ calls(pageSize: 3) { nodes { id transcript(first: 1, last: 1) { content } } } }`,
			`{ calls(pageSize: 3) { edges { node { id transcript(first: -1) { content } } } } }`,
			`{ calls(pageSize: 3) { nodes { id transcript(last: -2) { content } } } }`,
		} {
			r, _ := same(t, q, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("%s: no error", q)
			}
		}
	})
}

// byPath is errs sorted by path, then message.
func byPath(errs []gqlError) []gqlError {
	out := slices.Clone(errs)
	slices.SortStableFunc(out, func(a, b gqlError) int {
		return cmp.Or(cmp.Compare(fmt.Sprint(a.Path), fmt.Sprint(b.Path)), cmp.Compare(a.Message, b.Message))
	})
	return out
}
