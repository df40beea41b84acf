// Package revox is a client for the Revox REST API's call resource. It knows
// HTTP and JSON and nothing of GraphQL.
//
// A request is a value (ListCallsOptions, GetCallOptions: page, fields to
// decode, credential) that becomes one request crossing the client's layers
// (cache, retries, coalescing, concurrency limit, breaker) down to a thin
// HTTP transport; chain composes them.
package revox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is the production API root used by the official SDKs.
const DefaultBaseURL = "https://www.getrevox.com/api"

// Defaults of the client's options.
const (
	// DefaultTimeout bounds one attempt (headers and body); retries get
	// their own, all within the caller's deadline.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBodyBytes bounds an upstream body after decompression: a
	// 100-attempt page with ten-minute transcripts is about 2 MB.
	DefaultMaxBodyBytes     = 8 << 20
	DefaultMaxRetries       = 2
	DefaultBackoffBase      = 100 * time.Millisecond
	DefaultBackoffMax       = 2 * time.Second
	DefaultMaxConcurrency   = 32
	DefaultBreakerThreshold = 5
	DefaultBreakerOpenFor   = 10 * time.Second
	DefaultCacheEntries     = 1024
)

// Client calls the Revox API. It is safe for concurrent use.
type Client struct {
	base      string // scheme://host/path without a trailing slash
	apiKey    string
	firstPage int
	layers    stack
	transport *transport // the bottom layer, for readiness probes and writes
	backoff   backoff    // of writes' retries
	probe     probeCache
}

// settings are what the options set; New builds the client from them.
type settings struct {
	http             *http.Client
	timeout          *time.Duration
	firstPage        int
	maxBody          int64
	userAgent        string
	maxRetries       int
	backoff          backoff
	maxConcurrency   int
	breakerThreshold int
	breakerOpenFor   time.Duration
	cacheTTL         time.Duration
	cacheEntries     int
	shared           SharedCache
	observer         Observer
}

func defaultSettings() *settings {
	return &settings{
		maxBody:          DefaultMaxBodyBytes,
		userAgent:        "revox-graphql-gateway",
		maxRetries:       DefaultMaxRetries,
		backoff:          backoff{base: DefaultBackoffBase, max: DefaultBackoffMax, rand: rand.Int64N},
		maxConcurrency:   DefaultMaxConcurrency,
		breakerThreshold: DefaultBreakerThreshold,
		breakerOpenFor:   DefaultBreakerOpenFor,
		cacheEntries:     DefaultCacheEntries,
	}
}

// Option configures a Client.
type Option func(*settings)

// WithHTTPClient replaces the HTTP client (its Timeout is then the caller's,
// unless WithTimeout is given too). The client is copied: the caller's,
// possibly shared, is left untouched, and the copy never follows redirects.
// A nil client keeps the default.
func WithHTTPClient(h *http.Client) Option { return func(s *settings) { s.http = h } }

// WithSharedCache shares cached responses through s, under the same TTL as
// WithCache (which must be on for it to take effect).
func WithSharedCache(sc SharedCache) Option { return func(s *settings) { s.shared = sc } }

// WithTimeout sets the timeout of one attempt (a retry gets a new one).
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = &d } }

// WithFirstPage sets the index the upstream gives its first page: the docs
// say both "starting at 0" and "minimum 1".
func WithFirstPage(n int) Option { return func(s *settings) { s.firstPage = n } }

// WithMaxBodyBytes bounds an upstream body, counted after decompression;
// the buffer it is read into never grows past it. n <= 0 keeps
// DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option { return func(s *settings) { s.maxBody = n } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(s *settings) { s.userAgent = ua } }

// WithMaxRetries sets how many times one caller's request is retried (on
// connection errors, timeouts, 429 and 5xx; GETs only, so always
// idempotent).
func WithMaxRetries(n int) Option { return func(s *settings) { s.maxRetries = max(n, 0) } }

// WithBackoff sets the exponential back-off between retries: base, doubled
// each time, capped at maxWait, with full jitter. A Retry-After from the
// upstream is waited for when it is longer.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(s *settings) { s.backoff.base, s.backoff.max = base, maxWait }
}

// WithMaxConcurrency bounds the upstream requests in flight from this client.
func WithMaxConcurrency(n int) Option { return func(s *settings) { s.maxConcurrency = max(n, 1) } }

// WithBreaker opens the circuit after threshold consecutive failures (5xx,
// timeouts, connection errors) and lets one probe through after openFor.
// threshold 0 disables the breaker.
func WithBreaker(threshold int, openFor time.Duration) Option {
	return func(s *settings) { s.breakerThreshold, s.breakerOpenFor = threshold, openFor }
}

// WithCache keeps successful responses for ttl, keyed by credential, URL and
// fields decoded (at most entries of them). ttl 0 disables it, the default.
func WithCache(ttl time.Duration, entries int) Option {
	return func(s *settings) { s.cacheTTL, s.cacheEntries = ttl, entries }
}

// WithObserver sets the receiver of the client's events.
func WithObserver(o Observer) Option { return func(s *settings) { s.observer = o } }

// New returns a client for the API at baseURL (DefaultBaseURL when empty)
// that authenticates with apiKey unless a request brings its own credential.
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
	s := defaultSettings()
	for _, opt := range opts {
		opt(s)
	}
	h := http.Client{Timeout: DefaultTimeout, Transport: NewTransport(DefaultMaxConcurrency)}
	if s.http != nil {
		h = *s.http
	}
	if s.timeout != nil {
		h.Timeout = *s.timeout
	}
	h.CheckRedirect = refuseRedirects
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.observer == nil {
		s.observer = nopObserver{}
	}
	t := &transport{http: &h, userAgent: s.userAgent, maxBody: s.maxBody, observer: s.observer}
	return &Client{base: u.String(), apiKey: apiKey, firstPage: s.firstPage, layers: chain(s, t), transport: t, backoff: s.backoff}, nil
}

// Observer receives the client's events, for metrics. Calls come from many
// goroutines and must be quick.
type Observer interface {
	// UpstreamRequest reports one HTTP attempt: endpoint is "list_calls" or
	// "get_call", status 0 means no HTTP response.
	UpstreamRequest(endpoint string, status int, d time.Duration)
	// UpstreamRetry reports a caller about to retry (joining an identical
	// retry in flight, if there is one).
	UpstreamRetry(endpoint string)
	// BreakerState reports the breaker's new state: "closed", "half-open" or "open".
	BreakerState(state string)
}

type nopObserver struct{}

func (nopObserver) UpstreamRequest(string, int, time.Duration) {}
func (nopObserver) UpstreamRetry(string)                       {}
func (nopObserver) BreakerState(string)                        {}

// FirstPage returns the upstream index of the first page.
func (c *Client) FirstPage() int { return c.firstPage }

// credential is the credential a request authenticates with.
func (c *Client) credential(own string) string {
	if own != "" {
		return own
	}
	return c.apiKey
}

// ListCallsOptions is one request for a page of GET /call: which page, the
// fields of its attempts the caller reads, and whose credential.
type ListCallsOptions struct {
	// Page is 0-based; the client adds the upstream's first-page index.
	Page int
	// PageSize is the number of attempts per page (at least 1).
	PageSize int
	// Statuses filters on the status of each attempt's call order; empty means all.
	Statuses []OrderStatus
	// Fields are the attempt fields decoded (AttemptFieldsOf), the
	// transcript among them or not; the others are left zero. Zero means
	// AllAttemptFields. Pages decoded for other fields are other values for
	// coalescing and the cache.
	Fields AttemptFields
	// Credential authenticates the request instead of the client's key
	// (the gateway's forward auth mode) when not empty.
	Credential string
}

// ListCalls fetches one page of call attempts. A page shorter than PageSize
// is the last one: the API returns no total and no next-page token.
func (c *Client) ListCalls(ctx context.Context, opts ListCallsOptions) ([]CallAttempt, error) {
	return c.listCalls(ctx, c.layers.reads, "ListCalls", opts)
}

// listCalls reads one page through the layers d; name is the method asking,
// for errors.
func (c *Client) listCalls(ctx context.Context, d doer, name string, opts ListCallsOptions) ([]CallAttempt, error) {
	req, err := c.listRequest(name, opts)
	if err != nil {
		return nil, err
	}
	v, err := d.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	return v.([]CallAttempt), nil
}

// listRequest is the request of GET /call for opts; name is the method
// asking, for errors.
func (c *Client) listRequest(name string, opts ListCallsOptions) (*request, error) {
	if opts.Page < 0 || opts.PageSize < 1 {
		return nil, fmt.Errorf("revox: %s: page %d, page size %d out of range", name, opts.Page, opts.PageSize)
	}
	q := make(url.Values, 3)
	q.Set("page", strconv.Itoa(opts.Page+c.firstPage))
	q.Set("page_size", strconv.Itoa(opts.PageSize))
	for _, s := range opts.Statuses {
		q.Add("statuses", string(s))
	}
	fields := opts.Fields.normal()
	return &request{
		Endpoint:   "list_calls",
		Path:       "/call",
		URL:        c.base + "/call?" + q.Encode(),
		Credential: c.credential(opts.Credential),
		Variant:    fields.variant(),
		Decode:     listDecoder(fields, opts.PageSize),
	}, nil
}

// listDecoder decodes a page of GET /call for fields. A page read with its
// transcripts is decoded in place from a copy of the body of its own
// (Decode keeps nothing of the bytes it is given): one allocation of the
// body's size instead of one for each string (issue 14). Without them, the
// strings are copied, so that a page read for a few fields keeps the
// transcripts it skipped out of memory; and so is a body over
// maxInPlaceBody, so that the copy never adds more than that to what a
// hostile body costs.
func listDecoder(fields AttemptFields, most int) func([]byte) (any, error) {
	return func(data []byte) (any, error) {
		if fields&fieldTranscript != 0 && len(data) <= maxInPlaceBody {
			return decodeListPageInPlace(bytes.Clone(data), fields, most)
		}
		return decodeListPage(data, fields, most)
	}
}

// maxInPlaceBody bounds the bodies decoded in place: a 100-attempt page
// with transcripts is 60-230 KB.
const maxInPlaceBody = 1 << 20

// GetCallOptions is what a request for one call order carries besides its id.
type GetCallOptions struct {
	// Credential authenticates the request instead of the client's key
	// when not empty.
	Credential string
}

// GetCall fetches one call order with all its attempts, newest first.
func (c *Client) GetCall(ctx context.Context, id string, opts GetCallOptions) (*CallOrder, error) {
	return c.getCall(ctx, c.layers.reads, id, opts.Credential)
}

// getCall reads order id through the layers d.
func (c *Client) getCall(ctx context.Context, d doer, id, cred string) (*CallOrder, error) {
	// "." and ".." survive path escaping and would address another
	// resource once a proxy cleans the path; no call has such an id.
	if id == "" || id == "." || id == ".." {
		return nil, &APIError{StatusCode: http.StatusNotFound, Method: http.MethodGet, Path: "/call/", Message: "invalid id"}
	}
	path := "/call/" + url.PathEscape(id)
	v, err := d.Do(ctx, &request{
		Endpoint:   "get_call",
		Path:       path,
		URL:        c.base + path,
		Credential: c.credential(cred),
		Decode:     func(data []byte) (any, error) { return decodeCallOrder(data) },
	})
	if err != nil {
		return nil, err
	}
	return v.(*CallOrder), nil
}

// BreakerOpen reports whether the breaker is holding requests back.
func (c *Client) BreakerOpen() bool { return c.layers.breaker.open() }

// probeCache remembers the last readiness probe, so that frequent probes
// from an orchestrator cost the upstream at most one request per interval.
type probeCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// readyProbeInterval is how long a readiness answer is reused.
const readyProbeInterval = 2 * time.Second

// Ready reports whether the upstream can serve: the breaker is not open and
// the API answers over HTTP (any status below 500 counts: a 401 still proves
// it is reachable). Answers are reused for two seconds.
func (c *Client) Ready(ctx context.Context) error {
	if c.BreakerOpen() {
		return ErrCircuitOpen
	}
	c.probe.mu.Lock()
	defer c.probe.mu.Unlock()
	if time.Since(c.probe.at) < readyProbeInterval {
		return c.probe.err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c.probe.err = c.probeOnce(ctx)
	c.probe.at = time.Now()
	return c.probe.err
}

// probeOnce asks for the smallest page straight from the transport: past
// the breaker, the cache and the limit.
func (c *Client) probeOnce(ctx context.Context) error {
	_, err := c.transport.Do(ctx, &request{
		Endpoint:   "",
		Path:       "/call",
		URL:        c.base + "/call?page=" + strconv.Itoa(c.firstPage) + "&page_size=1",
		Credential: c.apiKey,
		Decode:     func([]byte) (any, error) { return nil, nil },
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode < 500 {
		return nil
	}
	return err
}
