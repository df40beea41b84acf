package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/time/rate"

	"github.com/revox-graphql/gateway/graph/loaders"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/telemetry"
)

// Codes of requests refused before GraphQL sees them.
const (
	CodeRequestTooLarge = "REQUEST_TOO_LARGE"
	CodeCSRFPrevented   = "CSRF_PREVENTED"
	CodeRateLimited     = "RATE_LIMITED"
	CodeOverloaded      = "OVERLOADED"
	CodeBodyTimeout     = "REQUEST_BODY_TIMEOUT"
)

// Auth modes.
const (
	// AuthServer sends the gateway's own key upstream for every request.
	AuthServer = "server"
	// AuthForward sends each caller's own Bearer credential upstream.
	AuthForward = "forward"
)

// writeRefusal answers a request refused before execution with a GraphQL
// error body, so clients handle it like any other error, in the media type
// the client asked for.
func writeRefusal(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body, _ := json.Marshal(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}},
	})
	mediaType, ok := negotiate(r.Header.Values("Accept"))
	if !ok {
		mediaType = mediaTypeJSON
	}
	w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// refuser answers the requests the guards refuse and counts them by code.
type refuser struct{ tel *telemetry.Telemetry }

func (f refuser) refuse(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	f.tel.Refused(code)
	writeRefusal(w, r, status, code, msg)
}

// limitBody reads the request body, bounded in size and time, before
// anything that holds a resource (an execution slot) for the request:
// larger than maxBytes is 413, slower than timeout 408. The handler below
// reads the body from memory. A gzipped body (Content-Encoding: gzip) is
// decompressed here and the limit applies to both its sizes: it is never
// inflated past maxBytes + 1. Any other coding is refused with 415.
func limitBody(f refuser, maxBytes int64, timeout time.Duration, next http.Handler) http.Handler {
	tooLarge := "request body larger than " + strconv.FormatInt(maxBytes, 10) + " bytes"
	tooSlow := "the request body did not arrive within " + timeout.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		gzipped := false
		switch coding := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); coding {
		case "", "identity":
		case "gzip", "x-gzip":
			gzipped = true
		default:
			w.Header().Set("Accept-Encoding", "gzip")
			f.refuse(w, r, http.StatusUnsupportedMediaType, CodeBadRequest,
				"unsupported Content-Encoding of the request body: send it as it is or gzipped")
			return
		}
		if r.ContentLength > maxBytes {
			f.refuse(w, r, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, tooLarge)
			return
		}
		// Without a connection (a handler called directly) there is no
		// deadline to set, and nothing slow to guard against.
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
		sent := &io.LimitedReader{R: r.Body, N: maxBytes + 1}
		data, err := readBody(sent, gzipped, maxBytes)
		_ = rc.SetReadDeadline(time.Time{})
		var netErr net.Error
		switch {
		case errors.As(err, &netErr) && netErr.Timeout():
			w.Header().Set("Connection", "close")
			f.refuse(w, r, http.StatusRequestTimeout, CodeBodyTimeout, tooSlow)
			return
		case sent.N <= 0 || int64(len(data)) > maxBytes:
			f.refuse(w, r, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, tooLarge)
			return
		case err != nil && gzipped:
			f.refuse(w, r, http.StatusBadRequest, CodeBadRequest, "the request body is not valid gzip")
			return
		case err != nil:
			f.refuse(w, r, http.StatusBadRequest, CodeBadRequest, "request body could not be read")
			return
		}
		if gzipped {
			r = r.Clone(r.Context())
			r.Header.Del("Content-Encoding")
			r.ContentLength = int64(len(data))
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		next.ServeHTTP(w, r)
	})
}

// readBody reads at most maxBytes + 1 bytes of the body, decompressed when
// gzipped: a gzip bomb stops there.
func readBody(body io.Reader, gzipped bool, maxBytes int64) ([]byte, error) {
	if !gzipped {
		return io.ReadAll(body)
	}
	zr, err := gzip.NewReader(body)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(io.LimitReader(zr, maxBytes+1))
}

// preventCSRF blocks requests a browser could send cross-origin without a
// CORS preflight, in the manner of Apollo Server: a GET or POST is let
// through only with a Content-Type other than the three "simple" ones, or
// with a non-empty Apollo-Require-Preflight or X-Apollo-Operation-Name
// header (which a simple request cannot carry). Other methods pass: the
// transport answers them 405.
func preventCSRF(f refuser, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Other methods are never simple requests, and get their 405.
		if r.Method != http.MethodGet && r.Method != http.MethodPost ||
			r.Header.Get("Apollo-Require-Preflight") != "" ||
			r.Header.Get("X-Apollo-Operation-Name") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err == nil && mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" && mt != "text/plain" {
				next.ServeHTTP(w, r)
				return
			}
		}
		f.refuse(w, r, http.StatusBadRequest, CodeCSRFPrevented,
			"this request has been blocked as a potential cross-site request forgery: send Content-Type: application/json, or a non-empty Apollo-Require-Preflight header")
	})
}

// forwardCredential takes the caller's Bearer credential for upstream
// requests; a request without one is refused before any upstream call.
func forwardCredential(f refuser, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerOf(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="revox"`)
			f.refuse(w, r, http.StatusUnauthorized, CodeUnauthenticated, "send your Revox API key as Authorization: Bearer <key>")
			return
		}
		sum := sha256.Sum256([]byte(token))
		ctx := telemetry.WithClient(r.Context(), "key:"+hex.EncodeToString(sum[:8]))
		next.ServeHTTP(w, r.WithContext(loaders.WithCredential(ctx, token)))
	})
}

// identifyClient names the client of a request by its address, for the
// shares of metrics labels (forward mode names it by its credential).
func identifyClient(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(telemetry.WithClient(r.Context(), "ip:"+clientIP(r, trusted))))
	})
}

// maxRateLimitedClients bounds the per-client limiters kept in memory.
const maxRateLimitedClients = 10000

// RateLimiter decides whether a client may make one more request: the
// replica's own (NewLocalRateLimiter, the default) or one shared by the
// replicas (redisstore.RateLimiter).
type RateLimiter interface {
	// Allow reports whether client may proceed and, when not, how long
	// until it may.
	Allow(ctx context.Context, client string) (bool, time.Duration)
}

// LocalRateLimiter is a token bucket per client in this process's memory,
// for the most recent maxRateLimitedClients clients.
type LocalRateLimiter struct {
	rps      float64
	burst    int
	limiters *expirable.LRU[string, *rate.Limiter]
}

// NewLocalRateLimiter allows rps requests per second per client with the
// given burst.
func NewLocalRateLimiter(rps float64, burst int) *LocalRateLimiter {
	return &LocalRateLimiter{
		rps:      rps,
		burst:    burst,
		limiters: expirable.NewLRU[string, *rate.Limiter](maxRateLimitedClients, nil, 10*time.Minute),
	}
}

// Allow implements RateLimiter.
func (l *LocalRateLimiter) Allow(_ context.Context, client string) (bool, time.Duration) {
	lim, ok := l.limiters.Get(client)
	if !ok {
		lim = rate.NewLimiter(rate.Limit(l.rps), l.burst)
		l.limiters.Add(client, lim)
	}
	res := lim.Reserve()
	if delay := res.Delay(); delay > 0 {
		res.Cancel()
		return false, delay
	}
	return true, 0
}

// rateLimit lets each client (by IP, see clientIP) through as limiter
// allows, answering 429 with Retry-After beyond that.
func rateLimit(f refuser, limiter RateLimiter, trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, delay := limiter.Allow(r.Context(), clientIP(r, trusted)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(delay.Seconds())), 1)))
			f.refuse(w, r, http.StatusTooManyRequests, CodeRateLimited, "too many requests; retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxForwardedHops bounds the X-Forwarded-For entries read.
const maxForwardedHops = 16

// clientIP is the address a request came from: the peer's, unless the peer
// is a trusted proxy (TRUSTED_PROXIES: the load balancer in front of the
// replicas), in which case X-Forwarded-For is read from the right, past
// every trusted hop, to the first address a trusted proxy saw. Entries left
// of it are the client's to invent, so they are never used; a malformed
// entry stops the walk at the last address known good.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0 && i >= len(hops)-maxForwardedHops; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = addr.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	addr = addr.Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// limitInFlight answers 503 with Retry-After when n requests are already
// being served, at once rather than queueing them. A request's memory is
// bounded (body limit, operation limits, page sizes: about 0.5 MiB for a
// full 100-attempt page, BENCHMARKS.md), and this bounds how many of them
// the process holds.
func limitInFlight(f refuser, n int, next http.Handler) http.Handler {
	slots := make(chan struct{}, n)
	msg := "the gateway is serving its maximum of " + strconv.Itoa(n) + " requests at once; retry later"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		default:
			w.Header().Set("Retry-After", "1")
			f.refuse(w, r, http.StatusServiceUnavailable, CodeOverloaded, msg)
			return
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}

// ReadinessChecker reports whether the upstream can serve.
type ReadinessChecker interface {
	Ready(ctx context.Context) error
}

// StatusReporter reports the state of a dependency the gateway can serve
// without ("up" or "down"), shown by /readyz.
type StatusReporter interface {
	Status() string
}

// readyz answers 200 while the upstream can serve and 503 otherwise. Redis,
// when configured, is reported but never makes the gateway unready: reads
// do not need it.
func readyz(check ReadinessChecker, redis StatusReporter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		extra := ""
		if redis != nil {
			extra = `,"redis":"` + redis.Status() + `"`
		}
		if err := check.Ready(r.Context()); err != nil {
			reason := "upstream unreachable"
			if errors.Is(err, revox.ErrCircuitOpen) {
				reason = "circuit breaker open"
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","reason":"` + reason + `"` + extra + `}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"` + extra + `}`))
	}
}
