package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/time/rate"

	"github.com/revox-graphql/gateway/graph/loaders"
	"github.com/revox-graphql/gateway/internal/revox"
)

// Codes of requests refused before GraphQL sees them.
const (
	CodeRequestTooLarge = "REQUEST_TOO_LARGE"
	CodeCSRFPrevented   = "CSRF_PREVENTED"
	CodeRateLimited     = "RATE_LIMITED"
	CodeOverloaded      = "OVERLOADED"
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

// limitBody refuses bodies larger than maxBytes with 413 before any
// parsing. The body is read here, bounded, so that the refusal is certain
// and the handler below reads from memory. A gzipped body (Content-Encoding:
// gzip) is decompressed here and the limit applies to both its sizes: it is
// never inflated past maxBytes + 1. Any other coding is refused with 415.
func limitBody(maxBytes int64, next http.Handler) http.Handler {
	tooLarge := "request body larger than " + strconv.FormatInt(maxBytes, 10) + " bytes"
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
			writeRefusal(w, r, http.StatusUnsupportedMediaType, CodeBadRequest,
				"unsupported Content-Encoding of the request body: send it as it is or gzipped")
			return
		}
		if r.ContentLength > maxBytes {
			writeRefusal(w, r, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, tooLarge)
			return
		}
		sent := &io.LimitedReader{R: r.Body, N: maxBytes + 1}
		data, err := readBody(sent, gzipped, maxBytes)
		switch {
		case sent.N <= 0 || int64(len(data)) > maxBytes:
			writeRefusal(w, r, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, tooLarge)
			return
		case err != nil && gzipped:
			writeRefusal(w, r, http.StatusBadRequest, CodeBadRequest, "the request body is not valid gzip")
			return
		case err != nil:
			writeRefusal(w, r, http.StatusBadRequest, CodeBadUserInput, "request body could not be read")
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
// header (which a simple request cannot carry). OPTIONS passes.
func preventCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions ||
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
		writeRefusal(w, r, http.StatusBadRequest, CodeCSRFPrevented,
			"this request has been blocked as a potential cross-site request forgery: send Content-Type: application/json, or a non-empty Apollo-Require-Preflight header")
	})
}

// forwardCredential takes the caller's Bearer credential for upstream
// requests; a request without one is refused before any upstream call.
func forwardCredential(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 512 || strings.ContainsAny(token, " \t\r\n") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="revox"`)
			writeRefusal(w, r, http.StatusUnauthorized, CodeUnauthenticated, "send your Revox API key as Authorization: Bearer <key>")
			return
		}
		next.ServeHTTP(w, r.WithContext(loaders.WithCredential(r.Context(), token)))
	})
}

// maxRateLimitedClients bounds the per-client limiters kept in memory.
const maxRateLimitedClients = 10000

// rateLimit allows each client (by remote IP) rps requests per second with
// the given burst, answering 429 with Retry-After beyond that.
func rateLimit(rps float64, burst int, next http.Handler) http.Handler {
	limiters := expirable.NewLRU[string, *rate.Limiter](maxRateLimitedClients, nil, 10*time.Minute)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			client = r.RemoteAddr
		}
		lim, ok := limiters.Get(client)
		if !ok {
			lim = rate.NewLimiter(rate.Limit(rps), burst)
			limiters.Add(client, lim)
		}
		res := lim.Reserve()
		if delay := res.Delay(); delay > 0 {
			res.Cancel()
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(delay.Seconds()))))
			writeRefusal(w, r, http.StatusTooManyRequests, CodeRateLimited, "too many requests; retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitInFlight answers 503 with Retry-After when n requests are already
// being served, at once rather than queueing them. A request's memory is
// bounded (body limit, operation limits, page sizes: about 0.5 MiB for a
// full 100-attempt page, BENCHMARKS.md), and this bounds how many of them
// the process holds.
func limitInFlight(n int, next http.Handler) http.Handler {
	slots := make(chan struct{}, n)
	msg := "the gateway is serving its maximum of " + strconv.Itoa(n) + " requests at once; retry later"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		default:
			w.Header().Set("Retry-After", "1")
			writeRefusal(w, r, http.StatusServiceUnavailable, CodeOverloaded, msg)
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

// readyz answers 200 while the upstream can serve and 503 otherwise.
func readyz(check ReadinessChecker) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err := check.Ready(r.Context()); err != nil {
			reason := "upstream unreachable"
			if errors.Is(err, revox.ErrCircuitOpen) {
				reason = "circuit breaker open"
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","reason":"` + reason + `"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	}
}
