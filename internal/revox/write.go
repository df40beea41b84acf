package revox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"
)

// CreateCallParams is the body of POST /call (revox-api.md 2.1).
type CreateCallParams struct {
	PhoneNumber       string            `json:"phone_number"`
	AssistantID       string            `json:"assistant_id,omitempty"`
	Assistant         json.RawMessage   `json:"assistant,omitempty"`
	FromPhoneNumber   string            `json:"from_phone_number,omitempty"`
	ScheduledAt       *time.Time        `json:"scheduled_at,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	PromptVariables   map[string]string `json:"prompt_variables,omitempty"`
	Concurrency       *Concurrency      `json:"concurrency,omitempty"`
	SkipCallingWindow *bool             `json:"skip_calling_window,omitempty"`
}

// Concurrency limits the calls sharing Key to Max at a time.
type Concurrency struct {
	Key string `json:"key"`
	Max int    `json:"max"`
}

// OutcomeUnknownError says a write may or may not have been applied: the
// request reached the upstream, then the answer was lost (a timeout, a
// connection reset after the request was written, a 5xx, an unreadable
// 2xx). Retrying it could act twice; look the order up first.
type OutcomeUnknownError struct {
	Method, Path string
	Err          error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("revox: %s %s: outcome unknown: %v", e.Method, e.Path, e.Err)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// ErrOutcomeUnknown matches an *OutcomeUnknownError with errors.Is.
var ErrOutcomeUnknown = errors.New("revox: outcome unknown")

// Is reports ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// maxWriteAttempts bounds the tries of one write: it is retried only where
// the upstream certainly did not act (a 429, a request never written).
const maxWriteAttempts = 3

// CreateCall places a call order (POST /call) with the credential cred (the
// client's own key when empty) and returns it. It never risks a second
// dial: it retries only a 429 (after its Retry-After, within ctx's
// deadline) and a connection that failed before the request was written;
// where the upstream may have acted without answering, the error is an
// *OutcomeUnknownError.
func (c *Client) CreateCall(ctx context.Context, cred string, p CreateCallParams) (*CallOrder, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("revox: POST /call: %w", err)
	}
	data, err := c.write(ctx, "create_call", "/call", cred, body, false)
	if err != nil {
		return nil, err
	}
	order, err := decodeCallOrder(data)
	if err != nil {
		// The upstream said yes; which order it made is lost.
		return nil, &OutcomeUnknownError{Method: http.MethodPost, Path: "/call", Err: &DecodeError{Method: http.MethodPost, Path: "/call", Err: err}}
	}
	return order, nil
}

// CancelCall cancels a running or scheduled call order (POST
// /call/{id}/cancel). Cancelling twice does no harm, so it is retried as
// reads are. The upstream's answer body is not read: callers fetch the
// order afresh.
func (c *Client) CancelCall(ctx context.Context, cred, id string) error {
	if id == "" || id == "." || id == ".." {
		return &APIError{StatusCode: http.StatusNotFound, Method: http.MethodPost, Path: "/call/", Message: "invalid id"}
	}
	path := "/call/" + url.PathEscape(id) + "/cancel"
	_, err := c.write(ctx, "cancel_call", path, cred, nil, true)
	return err
}

// write POSTs body to path and returns the 2xx body. idempotent writes are
// also retried on 5xx and transport errors; others end there with an
// *OutcomeUnknownError.
func (c *Client) write(ctx context.Context, endpoint, path, cred string, body []byte, idempotent bool) ([]byte, error) {
	cred = c.credential(cred)
	var last error
	for n := range maxWriteAttempts {
		if n > 0 {
			wait := c.backoff.wait(n, last)
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return nil, last
			}
			if !sleep(ctx, wait) {
				return nil, last
			}
		}
		data, written, err := c.post(ctx, endpoint, path, cred, body)
		if err == nil {
			return data, nil
		}
		last = err
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests:
			continue // refused before acting
		case errors.As(err, &ae) && ae.StatusCode < 500:
			return nil, err // rejected: nothing was done
		case !written && !errors.As(err, &ae):
			if ctx.Err() != nil {
				return nil, err
			}
			continue // the request never left: nothing was done
		case idempotent:
			continue
		default:
			return nil, &OutcomeUnknownError{Method: http.MethodPost, Path: path, Err: err}
		}
	}
	// Every try was refused (429) or never written: nothing was done.
	return nil, last
}

// post makes one POST and reports whether the request was written whole to
// a connection (after which the upstream may have acted).
func (c *Client) post(ctx context.Context, endpoint, path, cred string, body []byte) (data []byte, written bool, err error) {
	t := c.transport
	start := time.Now()
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("revox: POST %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", t.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := t.http.Do(req)
	if err != nil {
		t.observer.UpstreamRequest(endpoint, 0, time.Since(start))
		return nil, wrote.Load(), transportError(ctx, http.MethodPost, path, err)
	}
	defer resp.Body.Close()
	t.observer.UpstreamRequest(endpoint, resp.StatusCode, time.Since(start))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, true, checkResponse(resp, resp.Body, path, cred)
	}
	// Bounded like reads: the buffer never grows past the limit.
	data, over, err := readAtMost(resp.Body, nil, t.maxBody, resp.ContentLength)
	if err == nil && over {
		err = fmt.Errorf("body larger than %d bytes", t.maxBody)
	}
	if err != nil {
		return nil, true, &OutcomeUnknownError{Method: http.MethodPost, Path: path, Err: err}
	}
	return data, true, nil
}

// GetCallFresh is GetCall read from the upstream itself: neither from the
// cache nor joined to a request already in flight (which may have left
// before a write), for answering an order right after changing it.
func (c *Client) GetCallFresh(ctx context.Context, cred, id string) (*CallOrder, error) {
	return c.getCall(ctx, c.layers.fresh, id, cred)
}

// Forget drops the cached responses of cred (the client's own key when
// empty): a write changed what they say.
func (c *Client) Forget(cred string) {
	if c.layers.cache == nil {
		return
	}
	c.layers.cache.forget(c.credential(cred))
}
