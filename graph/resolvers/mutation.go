package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"maps"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/inbound"
	"github.com/revox-graphql/gateway/internal/revox"
)

// CallWriter places and cancels call orders: the REST client.
type CallWriter interface {
	CreateCall(ctx context.Context, cred string, p revox.CreateCallParams) (*revox.CallOrder, error)
	CancelCall(ctx context.Context, cred, id string) error
	// GetCallFresh reads an order from the upstream itself, past every
	// cache and shared request.
	GetCallFresh(ctx context.Context, cred, id string) (*revox.CallOrder, error)
	// Forget drops what is cached for cred: a write changed it.
	Forget(cred string)
}

// createCall places the order of in, once per idempotency key.
func (r *Resolver) createCall(ctx context.Context, in *model.CreateCallInput) (*model.Call, error) {
	params, err := in.Params()
	if err != nil {
		return nil, err
	}
	key, err := idempotencyKeyOf(ctx, in)
	if err != nil {
		return nil, err
	}
	cred := credential(ctx)
	if key == "" {
		order, err := r.Writer.CreateCall(ctx, cred, params)
		if err == nil {
			r.Writer.Forget(cred)
		}
		return (*model.Call)(order), err
	}
	canonical, err := json.Marshal(params) // map keys sorted: canonical
	if err != nil {
		return nil, err
	}
	params.Metadata = maps.Clone(params.Metadata)
	if params.Metadata == nil {
		params.Metadata = make(map[string]string, 1)
	}
	params.Metadata[model.IdempotencyMetadataKey] = key
	k := idempotency.Key{Scope: idempotency.ScopeOf(scopeOf(ctx, cred)), Name: key}
	result, err := idempotency.Run(ctx, r.Idempotency, k, idempotency.FingerprintOf(canonical), func(ctx context.Context) ([]byte, error) {
		order, err := r.Writer.CreateCall(ctx, cred, params)
		if err != nil {
			if errors.Is(err, revox.ErrOutcomeUnknown) {
				return nil, err // spends the key
			}
			return nil, idempotency.NotApplied(err)
		}
		r.Writer.Forget(cred)
		return json.Marshal(order)
	})
	if err != nil {
		return nil, err
	}
	var order revox.CallOrder
	if err := json.Unmarshal(result, &order); err != nil {
		return nil, err
	}
	return (*model.Call)(&order), nil
}

// cancelCall cancels the order id and answers it as it is now.
func (r *Resolver) cancelCall(ctx context.Context, id string) (*model.Call, error) {
	cred := credential(ctx)
	err := r.Writer.CancelCall(ctx, cred, id)
	var apiErr *revox.APIError
	switch {
	case err == nil:
		r.Writer.Forget(cred)
	case errors.As(err, &apiErr) && (apiErr.StatusCode == 409 || apiErr.StatusCode == 400 || apiErr.StatusCode == 422):
		// Already finished or cancelled: the order as it is answers.
	default:
		return nil, err
	}
	order, err := r.Writer.GetCallFresh(ctx, cred, id)
	if err != nil {
		return nil, err
	}
	return (*model.Call)(order), nil
}

// idempotencyKeyOf is the input's key, else the Idempotency-Key header's,
// else "".
func idempotencyKeyOf(ctx context.Context, in *model.CreateCallInput) (string, error) {
	if in.IdempotencyKey != nil {
		return *in.IdempotencyKey, nil // checked by Params
	}
	key, ok := idempotency.HeaderKey(ctx)
	if !ok {
		return "", nil
	}
	if err := model.CheckIdempotencyKey("Idempotency-Key", key); err != nil {
		return "", err
	}
	return key, nil
}

// scopeOf is whose idempotency keys a write's belongs to: the upstream
// credential, and the inbound caller when one is authenticated (callers of
// one server key never share keys).
func scopeOf(ctx context.Context, cred string) string {
	if p := inbound.PrincipalFrom(ctx); p != nil {
		return cred + "\x00" + p.Subject
	}
	return cred
}
