// Package revox is a client for the Revox REST API's call resource. It knows
// HTTP and JSON and nothing of GraphQL.
package revox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/sony/gobreaker/v2"
)

// DefaultBaseURL is the production API root used by the official SDKs.
const DefaultBaseURL = "https://www.getrevox.com/api"

// Defaults for the client's options.
const (
	// DefaultTimeout bounds one attempt (headers and body); retries get
	// their own, all within the caller's deadline.
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBodyBytes = 16 << 20
)

// Client calls the Revox API. It is safe for concurrent use.
type Client struct {
	base      string // scheme://host/path without a trailing slash
	apiKey    string
	http      *http.Client
	timeout   *time.Duration // set by WithTimeout, applied once all options ran
	firstPage int
	maxBody   int64
	userAgent string

	maxRetries       int
	backoffBase      time.Duration
	backoffMax       time.Duration
	sem              chan struct{}
	breakerThreshold int
	breakerOpenFor   time.Duration
	breaker          *gobreaker.CircuitBreaker[*fetched]
	cacheTTL         time.Duration
	cacheEntries     int
	cache            *expirable.LRU[string, any]
	shared           SharedCache
	observer         Observer
	flightMu         sync.Mutex
	flights          map[string]*flight
	probe            probeCache
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (its Timeout is then the caller's,
// unless WithTimeout is given too). A nil client keeps the default.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout sets the timeout of one attempt (a retry gets a new one). With WithHTTPClient, in either
// order, it applies to a copy: the caller's client, possibly shared, is left
// untouched.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = &d } }

// WithFirstPage sets the index the upstream gives its first page: the docs
// say both "starting at 0" and "minimum 1".
func WithFirstPage(n int) Option { return func(c *Client) { c.firstPage = n } }

// WithMaxBodyBytes bounds how much of a response body is read; n <= 0 keeps
// DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option { return func(c *Client) { c.maxBody = n } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client for the API at baseURL (DefaultBaseURL when empty)
// that authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("revox: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("revox: base URL %q: want http(s)://host[/path]", u.Redacted())
	}
	c := &Client{
		base:      u.String(),
		apiKey:    apiKey,
		http:      &http.Client{Timeout: DefaultTimeout, Transport: NewTransport(DefaultMaxConcurrency)},
		maxBody:   DefaultMaxBodyBytes,
		userAgent: "revox-graphql-gateway",

		maxRetries:       DefaultMaxRetries,
		backoffBase:      DefaultBackoffBase,
		backoffMax:       DefaultBackoffMax,
		breakerThreshold: DefaultBreakerThreshold,
		breakerOpenFor:   DefaultBreakerOpenFor,
		cacheEntries:     DefaultCacheEntries,
	}
	for _, opt := range opts {
		opt(c)
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout, Transport: NewTransport(DefaultMaxConcurrency)}
	}
	if c.timeout != nil {
		h := *c.http
		h.Timeout = *c.timeout
		c.http = &h
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	c.setupResilience()
	return c, nil
}

// NewTransport returns an HTTP transport for the upstream that keeps up to
// conns idle connections to it. http.DefaultTransport keeps 2 per host, so
// under concurrent load every other upstream request dialled a new
// connection (and left one in TIME_WAIT).
func NewTransport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(conns, 2)
	t.MaxIdleConns = max(2*conns, 100)
	// Pages are 60-230 KB: read them in 64 KiB pieces, not the default 4.
	t.ReadBufferSize = readBufferSize
	return t
}

// readBufferSize is the size of the buffer upstream responses are read
// through, per connection.
const readBufferSize = 64 << 10

// FirstPage returns the upstream index of the first page.
func (c *Client) FirstPage() int { return c.firstPage }

// ListCallsOptions selects one page of GET /call.
type ListCallsOptions struct {
	// Page is 0-based; the client adds the upstream's first-page index.
	Page int
	// PageSize is the number of attempts per page (at least 1).
	PageSize int
	// Statuses filters on the status of each attempt's call order; empty means all.
	Statuses []OrderStatus
}

// ListCalls fetches one page of call attempts. A page shorter than PageSize
// is the last one: the API returns no total and no next-page token.
func (c *Client) ListCalls(ctx context.Context, opts ListCallsOptions) ([]CallAttempt, error) {
	if opts.Page < 0 || opts.PageSize < 1 {
		return nil, fmt.Errorf("revox: ListCalls: page %d, page size %d out of range", opts.Page, opts.PageSize)
	}
	q := make(url.Values, 3)
	q.Set("page", strconv.Itoa(opts.Page+c.firstPage))
	q.Set("page_size", strconv.Itoa(opts.PageSize))
	for _, s := range opts.Statuses {
		q.Add("statuses", string(s))
	}
	decode, variant := decodeListPage, ""
	if !TranscriptsWanted(ctx) {
		decode = decodeListPageLazily
	}
	if fields, ok := projectedFields(ctx); ok {
		decode = func(data []byte) ([]CallAttempt, error) { return decodeListPageFields(data, fields) }
		variant = fields.variant()
	}
	v, err := c.fetch(ctx, "list_calls", "/call", c.base+"/call?"+q.Encode(), variant, func(data []byte) (any, error) {
		return decode(data)
	})
	if err != nil {
		return nil, err
	}
	return v.([]CallAttempt), nil
}

// decodeListPage reads the body of GET /call, transcripts included.
// goccy/go-json decodes a 100-attempt page 5x faster than encoding/json
// (BenchmarkDecodeListPage: 1.2 ms against 6.4 ms) with the same
// json.Unmarshaler hooks.
// A transcript that cannot be decoded costs its attempt's transcript fields
// only: the page is then read again, lazily.
func decodeListPage(data []byte) ([]CallAttempt, error) {
	var body struct {
		Calls []eagerCallAttempt `json:"calls"`
	}
	if err := decodeJSON(data, &body); err != nil {
		if calls, lazyErr := decodeListPageLazily(data); lazyErr == nil {
			return calls, nil
		}
		return nil, err
	}
	calls := make([]CallAttempt, len(body.Calls))
	for i := range body.Calls {
		calls[i] = body.Calls[i].CallAttempt
		if turns := body.Calls[i].Transcript; turns != nil {
			calls[i].Transcript = NewTranscript(turns)
		}
	}
	return calls, nil
}

// eagerCallAttempt decodes the transcript in the same pass as the rest: its
// Transcript field hides the embedded CallAttempt's.
type eagerCallAttempt struct {
	CallAttempt
	Transcript []TranscriptEntry `json:"transcript"`
}

// decodeListPageLazily reads the body of GET /call leaving transcripts
// undecoded until first use (then all of the page's at once): 40% less
// work for a page whose transcripts nobody reads, 40% more for one whose
// transcripts are all read (BenchmarkDecodeListPage*).
func decodeListPageLazily(data []byte) ([]CallAttempt, error) {
	var body listCallsResponse
	if err := decodeJSON(data, &body); err != nil {
		return nil, err
	}
	attempts := make([]*CallAttempt, len(body.Calls))
	for i := range body.Calls {
		attempts[i] = &body.Calls[i]
	}
	groupTranscripts(attempts...)
	return body.Calls, nil
}

// decodeJSON unmarshals upstream bytes. A decoder panic on hostile input
// becomes an error: the upstream must never be able to crash the gateway.
func decodeJSON(data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return gojson.Unmarshal(data, v)
}

// GetCall fetches one call order with all its attempts, newest first.
func (c *Client) GetCall(ctx context.Context, id string) (*CallOrder, error) {
	// "." and ".." survive path escaping and would address another
	// resource once a proxy cleans the path; no call has such an id.
	if id == "" || id == "." || id == ".." {
		return nil, &APIError{StatusCode: http.StatusNotFound, Method: http.MethodGet, Path: "/call/", Message: "invalid id"}
	}
	path := "/call/" + url.PathEscape(id)
	v, err := c.fetch(ctx, "get_call", path, c.base+path, "", func(data []byte) (any, error) {
		return decodeCallOrder(data)
	})
	if err != nil {
		return nil, err
	}
	return v.(*CallOrder), nil
}

// decodeCallOrder reads the body of GET /call/{id}; the transcripts of its
// attempts decode together, on first use.
func decodeCallOrder(data []byte) (*CallOrder, error) {
	var body getCallResponse
	if err := decodeJSON(data, &body); err != nil {
		return nil, err
	}
	if body.Call == nil {
		return nil, errors.New(`no "call" object in body`)
	}
	attempts := make([]*CallAttempt, 0, len(body.Call.CallAttempts)+1)
	for i := range body.Call.CallAttempts {
		attempts = append(attempts, &body.Call.CallAttempts[i])
	}
	if body.Call.LastCallAttempt != nil {
		attempts = append(attempts, body.Call.LastCallAttempt)
	}
	groupTranscripts(attempts...)
	return body.Call, nil
}

// do performs one HTTP attempt of a GET of target (path is its escaped
// path, for errors) and decodes a 2xx body.
func (c *Client) do(ctx context.Context, endpoint, path, target, cred string, decode func([]byte) (any, error)) (any, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("revox: GET %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.observer.UpstreamRequest(endpoint, 0, time.Since(start))
		return nil, transportError(ctx, http.MethodGet, path, err)
	}
	defer func() { c.observer.UpstreamRequest(endpoint, resp.StatusCode, time.Since(start)) }()
	defer func() {
		// Drain a little so the connection can be reused, never the whole body.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()
	limit := c.maxBody
	if limit < math.MaxInt64 {
		limit++ // one byte more tells "too large" from "exactly the limit"
	}
	body := io.LimitReader(resp.Body, limit)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, checkResponse(resp, body, path, cred)
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer releaseBodyBuffer(buf)
	if n := resp.ContentLength; n > 0 && n < limit {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, transportError(ctx, http.MethodGet, path, err)
	}
	data := buf.Bytes()
	if int64(len(data)) > c.maxBody {
		return nil, &DecodeError{Method: http.MethodGet, Path: path, Err: fmt.Errorf("body larger than %d bytes", c.maxBody)}
	}
	// decode keeps nothing of data: the buffer goes back to the pool
	// (goccy/go-json decodes from a copy of its own; TestDecodedPagesKeepNothingOfTheBody).
	v, err := decode(data)
	if err != nil {
		return nil, &DecodeError{Method: http.MethodGet, Path: path, Err: err}
	}
	return v, nil
}

// bodyBuffers are the buffers upstream bodies are read into, reused once
// decoded: a 100-attempt page is 60-230 KB, read by doubling from 512
// bytes each time before.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody bounds the buffers kept for reuse.
const maxPooledBody = 1 << 20

func releaseBodyBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBody {
		return
	}
	buf.Reset()
	bodyBuffers.Put(buf)
}

// maxErrorBody bounds how much of an error body is read for its message.
const maxErrorBody = 8 << 10

// checkResponse turns a non-2xx response into an *APIError. An upstream that
// echoes the key in its message gets it replaced: the message ends up in logs
// and GraphQL errors.
func checkResponse(resp *http.Response, body io.Reader, path, apiKey string) error {
	e := &APIError{StatusCode: resp.StatusCode, Method: resp.Request.Method, Path: path}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	data, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	var shaped struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &shaped) == nil && shaped.Message != "" {
		e.Message = shaped.Message
	} else {
		e.Message = strings.TrimSpace(string(data))
	}
	if apiKey != "" {
		e.Message = strings.ReplaceAll(e.Message, apiKey, "[REDACTED]")
	}
	const maxMessage = 200
	if len(e.Message) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(e.Message[cut]) {
			cut--
		}
		e.Message = e.Message[:cut] + "…"
	}
	return e
}

// transportError classifies a failure that produced no HTTP response.
func transportError(ctx context.Context, method, path string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		// url.Error repeats the URL; keep the cause only.
		err = uerr.Err
	}
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		timeout = true
	}
	return &TransportError{Method: method, Path: path, Timeout: timeout, Err: err}
}
