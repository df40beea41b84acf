// Package inbound authenticates the callers of the gateway itself
// (INBOUND_AUTH): static bearer tokens kept as SHA-256 digests, or JWTs
// verified against a JWKS. It knows HTTP and tokens, nothing of GraphQL or
// of the upstream's credentials.
package inbound

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// The scopes a caller needs: reads (queries, subscriptions) and writes
// (mutations, which place and cancel real calls).
const (
	ScopeRead  = "calls:read"
	ScopeWrite = "calls:write"
)

// Principal is an authenticated caller.
type Principal struct {
	// Subject names the caller in logs: the JWT's sub, or the first 8 hex
	// digits of a token's digest. Never the token.
	Subject string
	Scopes  []string
}

// Has reports whether p was granted scope. A nil Principal (INBOUND_AUTH=none)
// has none.
func (p *Principal) Has(scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

// Errors of Authenticate: both are answered 401 UNAUTHENTICATED.
var (
	ErrMissing = errors.New("no bearer token")
	ErrInvalid = errors.New("invalid bearer token")
)

// Authenticator checks a request's credential.
type Authenticator interface {
	// Authenticate returns the caller, ErrMissing, or an error wrapping
	// ErrInvalid. It must not echo the token in its error.
	Authenticate(ctx context.Context, r *http.Request) (*Principal, error)
}

// maxTokenBytes bounds the bearer tokens looked at.
const maxTokenBytes = 8 << 10

// BearerToken is the token of an `Authorization: Bearer …` header, or
// ErrMissing / ErrInvalid.
func BearerToken(h http.Header) (string, error) {
	v := h.Get("Authorization")
	if v == "" {
		return "", ErrMissing
	}
	token, ok := ParseBearer(v, maxTokenBytes)
	if !ok {
		return "", ErrInvalid
	}
	return token, nil
}

// ParseBearer is the token of an Authorization value `Bearer <token>`
// (scheme in any case), refusing an empty token, one longer than maxLen
// bytes, and one with white space inside.
func ParseBearer(v string, maxLen int) (string, bool) {
	scheme, token, ok := strings.Cut(v, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > maxLen || strings.ContainsAny(token, " \t\r\n") {
		return "", false
	}
	return token, true
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom is the caller authenticated for ctx, nil when none was.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
