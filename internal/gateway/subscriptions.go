package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/revox-graphql/gateway/graph/loaders"
	"github.com/revox-graphql/gateway/graph/resolvers"
	"github.com/revox-graphql/gateway/internal/inbound"
	"github.com/revox-graphql/gateway/internal/live"
)

// CodeTooManySubscriptions refuses a subscription beyond MAX_SUBSCRIPTIONS
// or MAX_SUBSCRIPTIONS_PER_CONNECTION; CodeShuttingDown one asked for while
// the gateway shuts down.
const (
	CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"
	CodeShuttingDown         = "SHUTTING_DOWN"
)

// Defaults of Subscriptions.
const (
	DefaultMaxSubscriptionsPerConnection = 100
	DefaultKeepAlive                     = 15 * time.Second
	// wsInitTimeout bounds the wait for connection_init.
	wsInitTimeout = 10 * time.Second
)

// Subscriptions is the live side of a gateway: the poller registry and the
// open WebSocket connections, which Shutdown completes and closes.
type Subscriptions struct {
	// Registry runs the shared pollers; nil means a live.Memory with its
	// defaults.
	Registry live.Registry
	// Fresh reads the upstream for the pollers; nil means Config.Upstream
	// when it can (the REST client can).
	Fresh resolvers.FreshReader
	// PollSlots bounds the pollers' upstream requests at once; 0 means 4
	// (server.go passes half of REVOX_MAX_CONCURRENCY).
	PollSlots int
	// PerConnection bounds the subscriptions of one WebSocket connection
	// (MAX_SUBSCRIPTIONS_PER_CONNECTION, default 100).
	PerConnection int
	// KeepAlive is the interval of WebSocket pings (a connection that does
	// not pong within two is closed) and of SSE comments (default 15s).
	KeepAlive time.Duration
	// WebhookSecret turns on POST /webhooks/revox (WEBHOOK_SECRET).
	WebhookSecret string

	mu    sync.Mutex
	conns map[*wsConn]struct{}
}

// wsConn is one open WebSocket connection.
type wsConn struct {
	quota *live.Quota
	close context.CancelFunc
}

func (s *Subscriptions) withDefaults(up any) {
	if s.Registry == nil {
		s.Registry = live.NewMemory(live.MemoryOptions{})
	}
	if s.Fresh == nil {
		s.Fresh, _ = up.(resolvers.FreshReader)
	}
	if s.PollSlots == 0 {
		s.PollSlots = 4
	}
	if s.PerConnection == 0 {
		s.PerConnection = DefaultMaxSubscriptionsPerConnection
	}
	if s.KeepAlive == 0 {
		s.KeepAlive = DefaultKeepAlive
	}
	s.conns = map[*wsConn]struct{}{}
}

// registerMetrics adds the registry's gauges to reg: subscriptions served
// and pollers running (a poller without subscribers is a leak).
func (s *Subscriptions) registerMetrics(reg prometheus.Registerer) {
	for _, g := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_subscriptions", Help: "GraphQL subscriptions being served."},
			func() float64 { return float64(s.Registry.Stats().Subscriptions) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_subscription_pollers", Help: "Upstream pollers running for subscriptions."},
			func() float64 { return float64(s.Registry.Stats().Pollers) }),
	} {
		// A second handler on the same telemetry keeps the first's gauges.
		_ = reg.Register(g)
	}
}

// live is what the resolvers get.
func (s *Subscriptions) live() resolvers.Live {
	return resolvers.Live{Registry: s.Registry, Fresh: s.Fresh, Slots: live.NewSlots(s.PollSlots)}
}

// Shutdown completes every subscription (each client gets `complete`),
// then closes the WebSocket connections once their subscriptions have
// ended, or when ctx is done.
func (s *Subscriptions) Shutdown(ctx context.Context) error {
	err := s.Registry.Shutdown(ctx)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		for c := range s.conns {
			if c.quota.Used() == 0 || ctx.Err() != nil {
				c.close()
				delete(s.conns, c)
			}
		}
		left := len(s.conns)
		s.mu.Unlock()
		if left == 0 {
			return err
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

// addSubscriptionTransports adds the WebSocket (graphql-transport-ws) and
// SSE (graphql-sse, distinct connections) transports, before the HTTP ones,
// and the interceptor that sends a poller's failure as an error event.
func addSubscriptionTransports(srv *handler.Server, cfg Config, present graphql.ErrorPresenterFunc) {
	subs := cfg.Subscriptions
	readLimit := cfg.MaxBodyBytes
	srv.AddTransport(transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
			OriginPatterns: cfg.CORSAllowedOrigins,
		}},
		InitFunc:         subs.initConnection(cfg),
		InitTimeout:      wsInitTimeout,
		PingPongInterval: subs.KeepAlive,
		PayloadReadLimit: &readLimit, // a message is bounded as a body is
	})
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: subs.KeepAlive})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil {
			return nil
		}
		if e := resolvers.EventErrorFrom(ctx); e != nil {
			// The event has no data: its error replaces gqlgen's complaint
			// about a null non-null field.
			resp.Data = nil
			resp.Errors = gqlerror.List{present(ctx, gqlerror.WrapPath(e.Path, e.Err))}
		}
		return resp
	})
}

// initConnection authenticates a WebSocket connection on connection_init:
// the credential of the upgrade request's Authorization header, else the
// payload's Authorization.
func (s *Subscriptions) initConnection(cfg Config) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		authz, _ := ctx.Value(upgradeAuthorizationKey{}).(string)
		if authz == "" {
			authz = payload.Authorization()
		}
		if cfg.AuthMode == AuthForward {
			token, ok := bearerOf(authz)
			if !ok {
				return transport.WithWebsocketCloseCode(ctx, 4403), nil, errors.New("send your Revox API key as Authorization: Bearer <key> (header or connection_init payload)")
			}
			ctx = loaders.WithCredential(ctx, token)
		}
		if cfg.Inbound != nil {
			r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/query", nil)
			r.Header.Set("Authorization", authz)
			p, err := cfg.Inbound.Authenticate(ctx, r)
			if err != nil {
				return transport.WithWebsocketCloseCode(ctx, 4403), nil, errors.New("send a gateway token as Authorization: Bearer <token> (header or connection_init payload)")
			}
			ctx = inbound.WithPrincipal(ctx, p)
		}
		quota := live.NewQuota(s.PerConnection)
		ctx, cancel := context.WithCancel(live.WithQuota(ctx, quota))
		c := &wsConn{quota: quota, close: cancel}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		context.AfterFunc(ctx, func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		})
		return ctx, nil, nil
	}
}

// upgradeAuthorizationKey carries the upgrade request's Authorization
// header to connection_init.
type upgradeAuthorizationKey struct{}

// maxRevoxKeyBytes bounds the Revox keys callers forward.
const maxRevoxKeyBytes = 512

// bearerOf is the Revox key of an `Authorization: Bearer …` value.
func bearerOf(v string) (string, bool) { return inbound.ParseBearer(v, maxRevoxKeyBytes) }

// isWebSocket reports a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	return r.Header.Get("Upgrade") != ""
}

// isEventStream reports a graphql-sse request (distinct connections mode):
// a POST, or a GET with the request in its URL as GraphQL over HTTP has it
// (federation gateways such as Hive Gateway subscribe to subgraphs so).
//
// A client that also accepts JSON (urql lists text/event-stream after the
// JSON types) is answered with JSON as any query is: the stream is chosen
// only by a client that accepts nothing else.
func isEventStream(r *http.Request) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return false
	}
	accept := strings.Join(r.Header.Values("Accept"), ",")
	return strings.Contains(accept, "text/event-stream") &&
		!strings.Contains(accept, mediaTypeJSON) && !strings.Contains(accept, mediaTypeGraphQLResponse)
}

// getAsPost turns a GET event-stream request into the JSON POST gqlgen's
// SSE transport reads: query, operationName, and variables and extensions
// as JSON objects, from the URL.
func getAsPost(r *http.Request) (*http.Request, error) {
	q := r.URL.Query()
	params := map[string]any{"query": q.Get("query")}
	if op := q.Get("operationName"); op != "" {
		params["operationName"] = op
	}
	for _, name := range []string{"variables", "extensions"} {
		if v := q.Get(name); v != "" {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal([]byte(v), &obj); err != nil {
				return nil, fmt.Errorf("%s must be a JSON object", name)
			}
			params[name] = json.RawMessage(v)
		}
	}
	body, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	post := r.Clone(r.Context())
	post.Method = http.MethodPost
	post.Body = io.NopCloser(bytes.NewReader(body))
	post.ContentLength = int64(len(body))
	post.Header.Set("Content-Type", "application/json")
	return post, nil
}

// routeQuery sends WebSocket upgrades and event streams to their own
// chains: they outlive REQUEST_TIMEOUT and MAX_IN_FLIGHT (MAX_SUBSCRIPTIONS
// bounds them), and a WebSocket client may authenticate in connection_init.
func routeQuery(cfg Config, gql, stream, query http.Handler) http.Handler {
	f := refuser{cfg.Telemetry}
	ws := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !originAllowed(r, cfg.CORSAllowedOrigins) {
			f.refuse(w, r, http.StatusForbidden, CodeForbiddenOrigin, "a WebSocket from origin "+strconv.Quote(r.Header.Get("Origin"))+" is not allowed: list it in CORS_ALLOWED_ORIGINS")
			return
		}
		ctx := context.WithValue(r.Context(), upgradeAuthorizationKey{}, r.Header.Get("Authorization"))
		gql.ServeHTTP(w, r.WithContext(ctx))
	}))
	var sse http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A stream lives as long as its subscription, past the server's
		// write timeout.
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{})
		ctx := live.WithQuota(r.Context(), live.NewQuota(1))
		if r.Method == http.MethodGet {
			post, err := getAsPost(r)
			if err != nil {
				writeRefusal(w, r, http.StatusBadRequest, CodeBadRequest, err.Error())
				return
			}
			r = post
		}
		stream.ServeHTTP(flushWriter{w, rc}, r.WithContext(ctx))
	})
	if cfg.AuthMode == AuthForward {
		sse = forwardCredential(f, sse)
	}
	if cfg.Inbound != nil {
		sse = authenticate(f, cfg.Inbound, sse)
	}
	sse = identifyClient(cfg.TrustedProxies, sse)
	ws = identifyClient(cfg.TrustedProxies, ws)
	sse = limitBody(f, cfg.MaxBodyBytes, cfg.BodyReadTimeout, sse)
	if !cfg.DisableCSRFPrevention {
		sse = preventCSRF(f, sse)
	}
	if cfg.RateLimitRPS > 0 {
		ws = rateLimit(f, cfg.RateLimiter, cfg.TrustedProxies, ws)
		sse = rateLimit(f, cfg.RateLimiter, cfg.TrustedProxies, sse)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case isWebSocket(r):
			ws.ServeHTTP(w, r)
		case isEventStream(r):
			sse.ServeHTTP(w, r)
		default:
			query.ServeHTTP(w, r)
		}
	})
}

// flushWriter lets gqlgen's SSE transport flush through the middlewares'
// writers, which reach the connection's Flush by Unwrap only.
type flushWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (w flushWriter) Flush() { _ = w.rc.Flush() }

func (w flushWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
