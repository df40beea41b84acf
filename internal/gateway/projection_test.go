package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Pages are decoded for the fields the operation reads alone
// (revox.ListCallsOptions.Fields). Each CallAttempt field asked for alone, or
// beside a few others, must answer what it answers beside every field: a
// field whose upstream dependencies were left out of the decoding would
// read zero values here.
func TestEachFieldAloneAnswersWhatItAnswersBesideAllOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	schema := loadSchema(t)
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
