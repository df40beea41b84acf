package revox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "delay in seconds", value: "7", want: 7 * time.Second},
		{name: "delay with surrounding spaces", value: " 7 ", want: 7 * time.Second},
		{name: "zero seconds", value: "0", want: 0},
		{name: "a negative delay is no wait", value: "-5", want: 0},
		{name: "an HTTP date in the future", value: "Fri, 20 Feb 2026 10:00:30 GMT", want: 30 * time.Second},
		{name: "an RFC 850 date in the future", value: "Friday, 20-Feb-26 10:02:00 GMT", want: 2 * time.Minute},
		{name: "an HTTP date in the past is no wait", value: "Fri, 20 Feb 2026 09:59:00 GMT", want: 0},
		{name: "an HTTP date equal to now is no wait", value: "Fri, 20 Feb 2026 10:00:00 GMT", want: 0},
		{name: "an empty header is no wait", value: "", want: 0},
		{name: "a word is no wait", value: "soon", want: 0},
		{name: "a fraction is no wait", value: "1.5", want: 0},
		{name: "a delay too large for a Duration saturates instead of turning negative", value: "9999999999", want: maxRetryAfter},
		{name: "a delay beyond int64 is no wait", value: "99999999999999999999", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := parseRetryAfter(tc.value, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

func TestAPIErrorMapsStatusToSentinel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusBadRequest, ErrRejected},
		{http.StatusUnauthorized, ErrUnauthorized},
		{http.StatusPaymentRequired, ErrRejected},
		{http.StatusForbidden, ErrUnauthorized},
		{http.StatusNotFound, ErrNotFound},
		{http.StatusConflict, ErrRejected},
		{http.StatusUnprocessableEntity, ErrRejected},
		{http.StatusTooManyRequests, ErrRateLimited},
		{http.StatusInternalServerError, ErrUnavailable},
		{http.StatusBadGateway, ErrUnavailable},
		{http.StatusServiceUnavailable, ErrUnavailable},
		{http.StatusGatewayTimeout, ErrUnavailable},
		{599, ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d is %v", tc.status, tc.want), func(t *testing.T) {
			t.Parallel()
			checkSentinel(t, &APIError{StatusCode: tc.status, Method: http.MethodGet, Path: "/call"}, tc.want)
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "an API error with the upstream message", err: &APIError{StatusCode: 404, Method: "GET", Path: "/call/ord_1", Message: "Call not found"}, want: "revox: GET /call/ord_1: 404 Call not found"},
		{name: "an API error without a message uses the status text", err: &APIError{StatusCode: 503, Method: "GET", Path: "/call"}, want: "revox: GET /call: 503 Service Unavailable"},
		{name: "a decode error", err: &DecodeError{Method: "GET", Path: "/call", Err: errors.New("unexpected end of JSON input")}, want: "revox: GET /call: malformed response: unexpected end of JSON input"},
		{name: "a connection failure", err: &TransportError{Method: "GET", Path: "/call", Err: cause}, want: "revox: GET /call: connection failed: " + cause.Error()},
		{name: "a timeout", err: &TransportError{Method: "GET", Path: "/call", Timeout: true, Err: context.DeadlineExceeded}, want: "revox: GET /call: timed out: context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("wrapped causes stay reachable", func(t *testing.T) {
		t.Parallel()
		if err := (&TransportError{Err: cause}); !errors.Is(err, cause) || !errors.Is(err, ErrUnavailable) {
			t.Errorf("TransportError does not unwrap to its cause and ErrUnavailable")
		}
		if err := (&DecodeError{Err: cause}); !errors.Is(err, cause) || !errors.Is(err, ErrBadResponse) {
			t.Errorf("DecodeError does not unwrap to its cause and ErrBadResponse")
		}
	})
}
