package gateway

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/revox-graphql/gateway/graph/generated"
	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/revox"
)

// Stable values of extensions.code. Clients switch on these, never on messages.
const (
	CodeBadUserInput        = "BAD_USER_INPUT"
	CodeNotFound            = "NOT_FOUND"
	CodeUnauthenticated     = "UNAUTHENTICATED"
	CodeUpstreamRateLimited = "UPSTREAM_RATE_LIMITED"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamBadResponse = "UPSTREAM_BAD_RESPONSE"
	CodeUpstreamRejected    = "UPSTREAM_REJECTED"
	CodeUpstreamRedirect    = "UPSTREAM_REDIRECT"
	CodeInternal            = "INTERNAL_SERVER_ERROR"
)

// errPanic marks an error made from a recovered panic.
var errPanic = errors.New("internal server error")

// presentError is the one place errors become GraphQL errors: typed errors
// from the client and the paging package get a stable code and a message
// safe to show; anything unexpected is logged and answered as internal.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if _, ok := gqlErr.Extensions["code"]; ok {
			return gqlErr // parse and validation errors come coded
		}
		code, msg, ext := classify(err)
		if code == CodeInternal && !errors.Is(err, errPanic) {
			logger.ErrorContext(ctx, "unexpected resolver error", "error", err, "path", gqlErr.Path.String())
		}
		if code == CodeUpstreamUnavailable || code == CodeUpstreamBadResponse || code == CodeUpstreamRejected || code == CodeUpstreamRedirect {
			logger.WarnContext(ctx, "upstream error", "code", code, "error", err, "path", gqlErr.Path.String())
		}
		out := &gqlerror.Error{
			Message:    msg,
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": code},
		}
		for k, v := range ext {
			out.Extensions[k] = v
		}
		return out
	}
}

// classify maps an error to its code, a client-safe message and extra
// extensions.
func classify(err error) (code, msg string, ext map[string]any) {
	var (
		inputErr *model.InputError
		apiErr   *revox.APIError
		trErr    *revox.TransportError
	)
	switch {
	case errors.As(err, &inputErr):
		return CodeBadUserInput, inputErr.Error(), nil
	case isBadRepresentation(err):
		return CodeBadUserInput, "invalid _entities representation", nil
	case errors.Is(err, idempotency.ErrKeyReused):
		return CodeIdempotencyKeyReused, "this idempotency key was used before with a different input", nil
	case errors.Is(err, idempotency.ErrOutcomeUnknown), errors.Is(err, revox.ErrOutcomeUnknown):
		return CodeOutcomeUnknown, "the Revox API may or may not have placed this call: look the call up (its metadata carries the idempotency key as " + model.IdempotencyMetadataKey + ") before placing it again", nil
	case errors.Is(err, idempotency.ErrStoreFull), errors.Is(err, idempotency.ErrLeaseLost), errors.Is(err, idempotency.ErrStoreUnavailable):
		return CodeIdempotencyUnavailable, "the gateway cannot record this idempotency key now; nothing was placed, try again later", nil
	case errors.Is(err, errPanic):
		return CodeInternal, "internal server error", nil
	case errors.Is(err, live.ErrConnectionFull):
		return CodeTooManySubscriptions, "this connection has as many subscriptions as it may (MAX_SUBSCRIPTIONS_PER_CONNECTION)", nil
	case errors.Is(err, live.ErrTooManySubscriptions):
		return CodeTooManySubscriptions, "the gateway serves as many subscriptions as it may (MAX_SUBSCRIPTIONS): try again later", nil
	case errors.Is(err, live.ErrShuttingDown):
		return CodeShuttingDown, "the gateway is shutting down: subscribe again (another replica, or this one once restarted)", nil
	case errors.Is(err, revox.ErrNotFound):
		return CodeNotFound, "not found", nil
	case errors.Is(err, revox.ErrUnauthorized):
		return CodeUnauthenticated, "the Revox API refused the credentials", nil
	case errors.Is(err, revox.ErrRateLimited):
		ext = map[string]any{}
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			ext["retryAfterSeconds"] = int(math.Ceil(apiErr.RetryAfter.Seconds()))
		}
		return CodeUpstreamRateLimited, "the Revox API is rate limiting requests", ext
	case errors.As(err, &trErr) && trErr.Timeout:
		return CodeUpstreamUnavailable, "the Revox API did not answer in time", nil
	case errors.Is(err, revox.ErrUnavailable):
		return CodeUpstreamUnavailable, "the Revox API is unavailable", nil
	case errors.Is(err, revox.ErrRedirect):
		ext = map[string]any{}
		if errors.As(err, &apiErr) {
			ext["upstreamStatus"] = apiErr.StatusCode
		}
		return CodeUpstreamRedirect, "the Revox API answered with a redirect, which the gateway does not follow: check REVOX_BASE_URL", ext
	case errors.Is(err, revox.ErrBadResponse), errors.Is(err, paging.ErrListTooLong):
		return CodeUpstreamBadResponse, "the Revox API sent a response the gateway cannot read", nil
	case errors.As(err, &apiErr):
		return CodeUpstreamRejected, "the Revox API rejected the request: " + apiErr.Message, map[string]any{"upstreamStatus": apiErr.StatusCode}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return CodeUpstreamUnavailable, "the request was cancelled or timed out", nil
	default:
		return CodeInternal, "internal server error", nil
	}
}

// recoverPanic turns a resolver panic into a logged internal error.
func recoverPanic(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic while resolving", "panic", p, "stack", string(debug.Stack()))
		return errPanic
	}
}

// isBadRepresentation recognises the errors of gqlgen's federation runtime
// for representations a client got wrong (unknown __typename, missing key
// field). Two of them are plain strings in gqlgen's template, so they are
// matched by their fixed text.
func isBadRepresentation(err error) bool {
	if errors.Is(err, generated.ErrTypeNotFound) || errors.Is(err, generated.ErrUnknownType) {
		return true
	}
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(inner) {
		err = inner
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown type: ") || msg == "__typename must be an existing string"
}
