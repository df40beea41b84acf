package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/inbound"
)

// Codes of the write path.
const (
	CodeForbidden              = "FORBIDDEN"
	CodeTooManyMutations       = "TOO_MANY_MUTATIONS"
	CodeIdempotencyKeyReused   = "IDEMPOTENCY_KEY_REUSED"
	CodeOutcomeUnknown         = "OUTCOME_UNKNOWN"
	CodeIdempotencyUnavailable = "IDEMPOTENCY_UNAVAILABLE"
)

func init() {
	// Refused before execution: no data entry; 400 (403 for FORBIDDEN) under
	// application/graphql-response+json.
	errcode.RegisterErrorType(CodeForbidden, errcode.KindProtocol)
	errcode.RegisterErrorType(CodeTooManyMutations, errcode.KindProtocol)
}

// DefaultMaxMutations bounds the mutation fields of one operation.
const DefaultMaxMutations = 10

// authenticate admits callers a credential check accepts (INBOUND_AUTH);
// the others get 401 UNAUTHENTICATED before anything else is done.
func authenticate(f refuser, auth inbound.Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r.Context(), r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="revox-gateway"`)
			msg := "send a gateway token as Authorization: Bearer <token>"
			if errors.Is(err, inbound.ErrInvalid) {
				msg = "the bearer token is not valid for this gateway"
			}
			f.refuse(w, r, http.StatusUnauthorized, CodeUnauthenticated, msg)
			return
		}
		next.ServeHTTP(w, r.WithContext(inbound.WithPrincipal(r.Context(), p)))
	})
}

// idempotencyHeader hands the Idempotency-Key header to createCall, for
// inputs that name no key.
func idempotencyHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Values("Idempotency-Key"); len(v) > 0 {
			r = r.WithContext(idempotency.WithHeaderKey(r.Context(), v[0]))
		}
		next.ServeHTTP(w, r)
	})
}

// accessGuard decides, once the operation is known, whether its caller may
// run it: reads need calls:read and writes calls:write when inbound
// authentication is on; without it, writes in server mode spend the
// server's key for anyone and are refused unless allowed. Refusals cost no
// upstream request. It also bounds the mutation fields of an operation.
type accessGuard struct {
	inboundAuth    bool // INBOUND_AUTH is token or jwt
	anonymousWrite bool // writes allowed without inbound authentication
	maxMutations   int
}

var (
	_ graphql.HandlerExtension        = accessGuard{}
	_ graphql.OperationContextMutator = accessGuard{}
)

func (accessGuard) ExtensionName() string                   { return "AccessGuard" }
func (accessGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (g accessGuard) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil {
		return nil
	}
	var mutations int
	if op.Operation == ast.Mutation {
		for _, f := range graphql.CollectFields(opCtx, op.SelectionSet, []string{"Mutation"}) {
			if f.Name != "__typename" {
				mutations++
			}
		}
	}
	write := mutations > 0
	if write && overGET(ctx) {
		return nil // the GET transport answers 405
	}
	if g.inboundAuth {
		p := inbound.PrincipalFrom(ctx)
		if write && !p.Has(inbound.ScopeWrite) {
			return refusal(CodeForbidden, "placing or cancelling calls needs the %s scope", inbound.ScopeWrite)
		}
		if !write && !p.Has(inbound.ScopeRead) {
			return refusal(CodeForbidden, "reading calls needs the %s scope", inbound.ScopeRead)
		}
	} else if write && !g.anonymousWrite {
		return refusal(CodeForbidden, "writes are off: this gateway spends its own Revox key and authenticates no caller (set INBOUND_AUTH, or ALLOW_ANONYMOUS_WRITES=true)")
	}
	if mutations > g.maxMutations {
		return refusal(CodeTooManyMutations, "an operation may have at most %d mutation fields, this one has %d", g.maxMutations, mutations)
	}
	return nil
}
