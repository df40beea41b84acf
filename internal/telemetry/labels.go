package telemetry

import (
	"context"
	"sync"
)

// Label values that stand for many.
const (
	labelAnonymous = "anonymous" // an operation without a name
	labelOther     = "other"     // a name over the length limit or past the cap
	codeOther      = "OTHER"     // an error code outside knownCodes, or none

	codeUnauthenticated = "UNAUTHENTICATED"
)

// Caps on the distinct values of name-like labels.
const (
	maxNameLength     = 64
	maxOperationNames = 200
	// maxNamesPerClient is the share of the operation names one client may
	// admit, so that one caller inventing names cannot take every place.
	maxNamesPerClient = maxOperationNames / 4
	// maxNamingClients bounds the clients whose shares are counted; past
	// it, a new client admits no name.
	maxNamingClients   = 10000
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
	"REQUEST_TOO_LARGE":         true,
	"REQUEST_BODY_TIMEOUT":      true,
	"CSRF_PREVENTED":            true,
	"RATE_LIMITED":              true,
	"OVERLOADED":                true,
	"FORBIDDEN":                 true,
	"FORBIDDEN_ORIGIN":          true,
	"METHOD_NOT_ALLOWED":        true,
	"SHUTTING_DOWN":             true,
	"TOO_MANY_MUTATIONS":        true,
	"TOO_MANY_SUBSCRIPTIONS":    true,
	"IDEMPOTENCY_KEY_REUSED":    true,
	"IDEMPOTENCY_UNAVAILABLE":   true,
	"OUTCOME_UNKNOWN":           true,
	"UPSTREAM_REDIRECT":         true,
}

// codeLabel bounds an error's extensions.code.
func codeLabel(code any) string {
	if s, ok := code.(string); ok && knownCodes[s] {
		return s
	}
	return codeOther
}

// nameSet admits the first max distinct names it is asked to as label
// values of their own; later ones are counted under "other". A name is
// admitted only for an operation that ran and authenticated (the caller
// says so with admit), and each client may admit at most perClient names:
// a client inventing names can fill its own share, never the others'.
type nameSet struct {
	max, maxLen, perClient int

	mu      sync.RWMutex
	names   map[string]struct{}
	clients map[string]int // names admitted per client
}

func newNameSet(maxNames, maxLen, perClient int) *nameSet {
	return &nameSet{max: maxNames, maxLen: maxLen, perClient: perClient,
		names: make(map[string]struct{}, maxNames), clients: map[string]int{}}
}

// label returns the label value of name. Only when admit is true may a name
// not yet seen take one of the free places, within client's share (a
// request without a client, outside the gateway, has no share to keep);
// otherwise it is "other".
func (s *nameSet) label(name, client string, admit bool) string {
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
	if client != "" {
		n, known := s.clients[client]
		if n >= s.perClient || !known && len(s.clients) >= maxNamingClients {
			return labelOther
		}
		s.clients[client] = n + 1
	}
	s.names[name] = struct{}{}
	return name
}

type clientKey struct{}

// WithClient says who sent the request of ctx (an address, or a digest of
// its credential), so that each client's operations admit names within a
// share of their own.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

func clientOf(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
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
