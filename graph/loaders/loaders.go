// Package loaders holds the per-request dataloaders in front of the Revox
// client. Within one GraphQL request an upstream request is made at most
// once per distinct key (aliases, look-aheads and repeated ids share it),
// distinct ones run concurrently up to a bound, and nothing is cached
// beyond the request.
package loaders

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/revox"
)

// Upstream is what the loaders need of the Revox client.
type Upstream interface {
	ListCalls(ctx context.Context, opts revox.ListCallsOptions) ([]revox.CallAttempt, error)
	GetCall(ctx context.Context, id string, opts revox.GetCallOptions) (*revox.CallOrder, error)
}

// PageKey is one request for an upstream page of GET /call: the whole of
// revox.ListCallsOptions, in a comparable form. Requests differing in any
// of it (the fields decoded, the credential) are loaded apart.
type PageKey struct {
	Index      int                 // 0-based page index
	Size       int                 // attempts per page
	Filter     string              // paging.Filter.Key
	Fields     revox.AttemptFields // the attempt fields decoded; 0 is all
	Credential string              // the caller's credential; "" is the client's own
}

// options is the client request k stands for.
func (k PageKey) options() revox.ListCallsOptions {
	return revox.ListCallsOptions{Page: k.Index, PageSize: k.Size, Statuses: paging.ParseFilterKey(k.Filter), Fields: k.Fields, Credential: k.Credential}
}

// CallKey is one request for a call order.
type CallKey struct {
	ID         string
	Credential string
}

// Loaders are the dataloaders of one GraphQL request.
type Loaders struct {
	credential string
	pages      *dataloader.Loader[PageKey, []revox.CallAttempt]
	calls      *dataloader.Loader[CallKey, *revox.CallOrder]
	// lengths outlives the request (see paging.Lengths); scope says whose
	// lists this request reads.
	lengths *paging.Lengths
	scope   string
}

// New makes the loaders of one request, whose upstream requests carry
// credential (empty: the client's own key). At most concurrency upstream
// requests of the request run at once.
func New(up Upstream, concurrency int, credential string) *Loaders {
	sem := make(chan struct{}, max(concurrency, 1))
	listPage := func(ctx context.Context, k PageKey) ([]revox.CallAttempt, error) {
		return up.ListCalls(ctx, k.options())
	}
	getCall := func(ctx context.Context, k CallKey) (*revox.CallOrder, error) {
		return up.GetCall(ctx, k.ID, revox.GetCallOptions{Credential: k.Credential})
	}
	// The upstream has no batch endpoint, so batching buys nothing: a batch
	// of one starts at once (no wait window added to latency) and the
	// loader's cache does the deduplication. The input queue of a batch of
	// one needs one slot (the default allocates 1000 per load).
	return &Loaders{
		credential: credential,
		pages: dataloader.NewBatchedLoader(eachKey(sem, listPage),
			dataloader.WithBatchCapacity[PageKey, []revox.CallAttempt](1), dataloader.WithInputCapacity[PageKey, []revox.CallAttempt](1)),
		calls: dataloader.NewBatchedLoader(eachKey(sem, getCall),
			dataloader.WithBatchCapacity[CallKey, *revox.CallOrder](1), dataloader.WithInputCapacity[CallKey, *revox.CallOrder](1)),
	}
}

// eachKey turns a single-key fetch into a batch function that fetches every
// key concurrently, holding a slot of sem for each upstream request.
func eachKey[K comparable, V any](sem chan struct{}, fetch func(context.Context, K) (V, error)) dataloader.BatchFunc[K, V] {
	return func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		results := make([]*dataloader.Result[V], len(keys))
		one := func(i int) {
			defer func() {
				// A bug below must cost this key an error, not the process;
				// the presenter logs it as an internal error.
				if p := recover(); p != nil {
					results[i] = &dataloader.Result[V]{Error: fmt.Errorf("loaders: panic fetching %v: %v\n%s", keys[i], p, debug.Stack())}
				}
			}()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = &dataloader.Result[V]{Error: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			v, err := fetch(ctx, keys[i])
			results[i] = &dataloader.Result[V]{Data: v, Error: err}
		}
		if len(keys) == 1 {
			// The loader already runs each batch on its own goroutine.
			one(0)
			return results
		}
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() { one(i) })
		}
		wg.Wait()
		return results
	}
}

// Page starts loading one upstream page and returns the wait for it. The
// key's credential is the request's, whatever k says.
func (l *Loaders) Page(ctx context.Context, k PageKey) func() ([]revox.CallAttempt, error) {
	k.Credential = l.credential
	return l.pages.Load(ctx, k)
}

// PageSource binds Page to a filter and the attempt fields the operation
// reads, for the paging package.
func (l *Loaders) PageSource(f paging.Filter, fields revox.AttemptFields) paging.Source {
	return paging.Source{
		Load: func(ctx context.Context, index, size int) func() ([]revox.CallAttempt, error) {
			return l.Page(ctx, PageKey{Index: index, Size: size, Filter: f.Key, Fields: fields})
		},
		Lengths: l.lengths,
		Scope:   l.scope,
	}
}

// Call loads one call order by id.
func (l *Loaders) Call(ctx context.Context, id string) (*revox.CallOrder, error) {
	return l.calls.Load(ctx, CallKey{ID: id, Credential: l.credential})()
}

// Calls loads several call orders concurrently, one upstream request per
// distinct id; errors are per id.
func (l *Loaders) Calls(ctx context.Context, ids []string) ([]*revox.CallOrder, []error) {
	keys := make([]CallKey, len(ids))
	for i, id := range ids {
		keys[i] = CallKey{ID: id, Credential: l.credential}
	}
	return l.calls.LoadMany(ctx, keys)()
}

type credentialKey struct{}

// WithCredential returns a context whose GraphQL request authenticates
// upstream with key instead of the client's own (the gateway's forward auth
// mode); Middleware puts it in every upstream request of that request.
func WithCredential(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, credentialKey{}, key)
}

// CredentialFrom is the caller's credential ctx carries (forward auth), ""
// when requests use the client's own key.
func CredentialFrom(ctx context.Context) string {
	k, _ := ctx.Value(credentialKey{}).(string)
	return k
}

type ctxKey struct{}

// Middleware gives every HTTP request its own Loaders. The list lengths
// they remember (lengths, see paging.Lengths; nil remembers none) outlive
// the request, per upstream credential.
func Middleware(up Upstream, concurrency int, lengths *paging.Lengths) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l := newWithLengths(up, concurrency, CredentialFrom(r.Context()), lengths)
			ctx := context.WithValue(r.Context(), ctxKey{}, l)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// newWithLengths makes the loaders of one request or operation, reading
// the lists of credential, with the lengths remembered for them.
func newWithLengths(up Upstream, concurrency int, credential string, lengths *paging.Lengths) *Loaders {
	l := New(up, concurrency, credential)
	l.lengths, l.scope = lengths, scopeOf(credential)
	return l
}

// scopeOf names whose lists a credential reads, for remembered list
// lengths: a digest of it, which keeps keys out of the memo (and out of
// Redis when lengths are shared). With AUTH_MODE=server the credential is
// empty and every request reads the server key's lists: one scope.
func scopeOf(credential string) string {
	if credential == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(credential))
	return string(sum[:])
}

// For returns the Loaders of the request in ctx. It panics when the
// middleware is missing: that is a wiring bug, not a runtime condition.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loaders: no Loaders in context; is loaders.Middleware installed?")
	}
	return l
}

// PerOperation gives an operation whose request carried no Loaders (one of
// the many operations of a WebSocket) Loaders of its own, whose cache lives
// as long as that operation. Requests through Middleware keep theirs.
func PerOperation(up Upstream, concurrency int, lengths *paging.Lengths) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if _, ok := ctx.Value(ctxKey{}).(*Loaders); !ok {
			ctx = context.WithValue(ctx, ctxKey{}, newWithLengths(up, concurrency, CredentialFrom(ctx), lengths))
		}
		return next(ctx)
	}
}
