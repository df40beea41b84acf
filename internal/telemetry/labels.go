package telemetry

import "sync"

// Label values that stand for many.
const (
	labelAnonymous = "anonymous" // an operation without a name
	labelOther     = "other"     // a name over the length limit or past the cap
	codeOther      = "OTHER"     // an error code outside knownCodes, or none
)

// Caps on the distinct values of name-like labels.
const (
	maxNameLength      = 64
	maxOperationNames  = 200
	maxEndpointNames   = 16
	maxEndpointNameLen = 32
)

// knownCodes are the extensions.code values that get a label value of their
// own: the gateway's codes (internal/gateway: errors, transport, limits,
// protection), gqlgen's, and those of persisted queries. Any other code is
// counted as OTHER.
var knownCodes = map[string]bool{
	"BAD_USER_INPUT":            true,
	"BAD_REQUEST":               true,
	"NOT_FOUND":                 true,
	"UNAUTHENTICATED":           true,
	"UPSTREAM_RATE_LIMITED":     true,
	"UPSTREAM_UNAVAILABLE":      true,
	"UPSTREAM_BAD_RESPONSE":     true,
	"UPSTREAM_REJECTED":         true,
	"INTERNAL_SERVER_ERROR":     true,
	"GRAPHQL_PARSE_FAILED":      true,
	"GRAPHQL_VALIDATION_FAILED": true,
	"QUERY_TOO_DEEP":            true,
	"TOO_MANY_ALIASES":          true,
	"TOO_MANY_TOKENS":           true,
	"TOO_MANY_DIRECTIVES":       true,
	"QUERY_TOO_COMPLEX":         true,
	"COMPLEXITY_LIMIT_EXCEEDED": true,
	"PERSISTED_QUERY_NOT_FOUND": true,
}

// codeLabel bounds an error's extensions.code.
func codeLabel(code any) string {
	if s, ok := code.(string); ok && knownCodes[s] {
		return s
	}
	return codeOther
}

// nameSet admits the first max distinct names it is asked about as label
// values of their own; later ones are counted under "other". Admission is
// first come, first served: names a deployment uses are seen early, and a
// client inventing names can only fill the cap, never exceed it.
type nameSet struct {
	max, maxLen int

	mu    sync.RWMutex
	names map[string]struct{}
}

func newNameSet(maxNames, maxLen int) *nameSet {
	return &nameSet{max: maxNames, maxLen: maxLen, names: make(map[string]struct{}, maxNames)}
}

// label returns the label value of name. Only when admit is true may a name
// not yet seen take one of the free places; otherwise it is "other".
func (s *nameSet) label(name string, admit bool) string {
	if name == "" {
		return labelAnonymous
	}
	if len(name) > s.maxLen || !isName(name) {
		return labelOther
	}
	s.mu.RLock()
	_, ok := s.names[name]
	s.mu.RUnlock()
	if ok {
		return name
	}
	if !admit {
		return labelOther
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.names[name]; ok {
		return name
	}
	if len(s.names) >= s.max {
		return labelOther
	}
	s.names[name] = struct{}{}
	return name
}

// isName reports whether s is a GraphQL name, /[_A-Za-z][_0-9A-Za-z]*/,
// which is also a safe label value for endpoint names.
func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}
