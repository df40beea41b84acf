package revox

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors matched with errors.Is against any error this package returns.
var (
	// ErrUnauthorized: the upstream refused the key (401 or 403).
	ErrUnauthorized = errors.New("revox: unauthorized")
	// ErrNotFound: the upstream has no such resource (404).
	ErrNotFound = errors.New("revox: not found")
	// ErrRateLimited: the upstream asked us to slow down (429).
	ErrRateLimited = errors.New("revox: rate limited")
	// ErrUnavailable: the upstream failed (5xx), timed out or could not be reached.
	ErrUnavailable = errors.New("revox: upstream unavailable")
	// ErrBadResponse: the upstream answered with a body we could not read.
	ErrBadResponse = errors.New("revox: malformed upstream response")
	// ErrRejected: the upstream refused the request for another 4xx reason.
	ErrRejected = errors.New("revox: request rejected")
	// ErrRedirect: the upstream answered with a redirect (3xx), which the
	// client never follows: it would take the key elsewhere.
	ErrRedirect = errors.New("revox: upstream redirect")
)

// APIError is a non-2xx answer from the upstream (a 3xx included: redirects
// are not followed). Message is the upstream's
// own "message" (or a prefix of its body); the API key never appears in it.
type APIError struct {
	StatusCode int
	Method     string
	Path       string
	Message    string
	// RetryAfter is the wait the upstream asked for with a 429 or 503, zero
	// when it gave none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("revox: %s %s: %d %s", e.Method, e.Path, e.StatusCode, msg)
}

// Unwrap maps the status to one of the package's sentinel errors.
func (e *APIError) Unwrap() error {
	switch {
	case e.StatusCode >= 300 && e.StatusCode < 400:
		return ErrRedirect
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden:
		return ErrUnauthorized
	case e.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case e.StatusCode == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.StatusCode >= 500:
		return ErrUnavailable
	default:
		return ErrRejected
	}
}

// DecodeError is a 2xx answer whose body is not the JSON the API documents.
type DecodeError struct {
	Method string
	Path   string
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("revox: %s %s: malformed response: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns ErrBadResponse and the underlying decoding error.
func (e *DecodeError) Unwrap() []error { return []error{ErrBadResponse, e.Err} }

// TransportError is a request that got no HTTP answer: a connection failure,
// a timeout, or a cancelled context.
type TransportError struct {
	Method string
	Path   string
	// Timeout is true when the request ran out of time (the client's timeout
	// or the caller's deadline).
	Timeout bool
	Err     error
}

func (e *TransportError) Error() string {
	kind := "connection failed"
	if e.Timeout {
		kind = "timed out"
	}
	return fmt.Sprintf("revox: %s %s: %s: %v", e.Method, e.Path, kind, e.Err)
}

// Unwrap returns ErrUnavailable and the underlying error, so that
// errors.Is(err, context.Canceled) still works.
func (e *TransportError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// maxRetryAfter is the longest wait a Retry-After header can ask for: the
// largest whole number of seconds a time.Duration holds, so that a huge
// delay-seconds saturates instead of overflowing into a negative wait.
const maxRetryAfter = math.MaxInt64 / time.Second * time.Second

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		if secs > int(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}
