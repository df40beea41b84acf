package gateway

import (
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The operation limits' verdict on an operation depends on its document,
// the operation chosen in it and its variables alone (the limits are the
// limiter's own, the schema's cost functions read their arguments only).
// A query's document comes from the query cache, one pointer per query
// text, so the verdict is remembered under that pointer: measuring depth,
// aliases, directives and the list-aware cost walks the whole selection
// with an argument map per field, about 5% of the CPU of a full 20-attempt
// page with every request for another page (bench/distinct, issue 14).
//
// The key holds the document, so a pointer cannot be reused for another
// document while its verdict is kept; a document the query cache dropped
// only takes a slot until the LRU drops it too.

// maxVerdictVariables bounds the variables a verdict is remembered for, so
// that the cache stays small; larger ones are measured every time.
const maxVerdictVariables = 1 << 10

type verdictKey struct {
	doc       *ast.QueryDocument
	operation string
	variables string // canonical JSON, "" when there are none
}

// newVerdictCache is an LRU of verdicts, as large as the query cache.
func newVerdictCache(size int) *lru.Cache[verdictKey, verdict] {
	entries, _ := lru.New[verdictKey, verdict](max(size, 1)) // errs only for a size < 1
	return entries
}

// verdictKeyOf is the key of the operation's verdict; cacheable is false
// when it is not to be remembered (variables too large, or that cannot be
// written as JSON).
func verdictKeyOf(opCtx *graphql.OperationContext) (k verdictKey, cacheable bool) {
	k = verdictKey{doc: opCtx.Doc, operation: opCtx.OperationName}
	if opCtx.Doc == nil {
		return k, false
	}
	if len(opCtx.Variables) == 0 {
		return k, true
	}
	// encoding/json sorts map keys: one spelling per set of values.
	vars, err := json.Marshal(opCtx.Variables)
	if err != nil || len(vars) > maxVerdictVariables {
		return k, false
	}
	k.variables = string(vars)
	return k, true
}
