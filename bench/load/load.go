// Package load is a closed-loop HTTP load generator: a fixed number of
// clients, each sending its next request as soon as the previous one is
// answered, over keep-alive connections, until a request count or a
// duration is reached, whichever comes first.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one run.
type Config struct {
	// URL is the target; it must be on a loopback address.
	URL string
	// Method is GET or POST; empty means GET, or POST when Body is set.
	Method string
	// Body is sent with every request.
	Body []byte
	// Header is added to every request.
	Header http.Header
	// Concurrency is the number of clients (at least 1).
	Concurrency int
	// Requests bounds the number of requests sent (at least 1).
	Requests int
	// Duration bounds the time during which requests are started; requests
	// in flight when it ends are awaited, within Timeout.
	Duration time.Duration
	// Timeout bounds one request; 0 means 10s.
	Timeout time.Duration
	// Reject, when set, makes a 2xx response whose body contains it an
	// error, e.g. `"errors"` for a GraphQL endpoint.
	Reject []byte
}

// Result is what one run measured. Latencies are those of successful
// requests.
type Result struct {
	Requests   int           `json:"requests"` // successful
	Errors     int           `json:"errors"`
	FirstError string        `json:"first_error,omitempty"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	PerSecond  float64       `json:"requests_per_second"` // successful requests per second
	Bytes      int64         `json:"bytes"`               // response bodies of successful requests
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
}

// Run sends the load described by cfg and returns when it is done: it stops
// by itself once cfg.Requests were sent or cfg.Duration has passed.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	method := cfg.Method
	if method == "" {
		method = http.MethodGet
		if cfg.Body != nil {
			method = http.MethodPost
		}
	}
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout}

	var (
		issued   atomic.Int64
		mu       sync.Mutex
		res      Result
		lats     []time.Duration
		firstErr error
	)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			var (
				buf    bytes.Buffer
				mine   = make([]time.Duration, 0, min(cfg.Requests/cfg.Concurrency+1, 1<<16))
				errs   int
				nbytes int64
				errOne error
			)
			for ctx.Err() == nil && time.Now().Before(deadline) && issued.Add(1) <= int64(cfg.Requests) {
				t0 := time.Now()
				n, err := do(ctx, client, method, cfg, &buf)
				d := time.Since(t0)
				if err != nil {
					errs++
					if errOne == nil {
						errOne = err
					}
					continue
				}
				mine = append(mine, d)
				nbytes += n
			}
			mu.Lock()
			defer mu.Unlock()
			lats = append(lats, mine...)
			res.Errors += errs
			res.Bytes += nbytes
			if firstErr == nil {
				firstErr = errOne
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(lats)
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	res.PerSecond = float64(res.Requests) / res.Elapsed.Seconds()
	slices.Sort(lats)
	res.P50, res.P90, res.P99 = percentile(lats, 0.50), percentile(lats, 0.90), percentile(lats, 0.99)
	if len(lats) > 0 {
		res.Max = lats[len(lats)-1]
	}
	return res, ctx.Err()
}

func (cfg Config) check() error {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return fmt.Errorf("load: URL: %w", err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load: URL %q: only loopback IP addresses (127.0.0.1, ::1) are allowed", cfg.URL)
	}
	if cfg.Concurrency < 1 || cfg.Requests < 1 || cfg.Duration <= 0 {
		return errors.New("load: concurrency and requests must be at least 1 and duration positive")
	}
	return nil
}

// do sends one request and reads the whole body, so that the connection is
// reused.
func do(ctx context.Context, client *http.Client, method string, cfg Config, buf *bytes.Buffer) (int64, error) {
	var body io.Reader
	if cfg.Body != nil {
		body = bytes.NewReader(cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, cfg.URL, body)
	if err != nil {
		return 0, err
	}
	for k, v := range cfg.Header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	n, err := buf.ReadFrom(resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return n, fmt.Errorf("status %d: %.200s", resp.StatusCode, buf.Bytes())
	}
	if cfg.Reject != nil && bytes.Contains(buf.Bytes(), cfg.Reject) {
		return n, fmt.Errorf("rejected body: %.300s", buf.Bytes())
	}
	return n, nil
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
