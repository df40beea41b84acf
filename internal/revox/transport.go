package revox

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// transport is the thin client at the bottom of the layers: one HTTP
// request, its body read within the limit, decoded.
type transport struct {
	http      *http.Client
	userAgent string
	maxBody   int64
	observer  Observer
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

// refuseRedirects is the redirect policy of every upstream request: a 3xx
// is answered as it is (and becomes an *APIError). Following it would send
// the key to wherever the upstream points, in clear text to an http:// URL
// of the same host, and serve another host's JSON as Revox data.
func refuseRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Do performs one HTTP attempt of req and decodes a 2xx body.
func (t *transport) Do(ctx context.Context, req *request) (any, error) {
	start := time.Now()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("revox: GET %s: %w", req.Path, err)
	}
	hreq.Header.Set("Accept", "application/json")
	// Asked for explicitly, gzip is left to us to decode (net/http decodes
	// it only when it added the header itself), so the body limit applies
	// to the decoded bytes.
	hreq.Header.Set("Accept-Encoding", "gzip")
	hreq.Header.Set("User-Agent", t.userAgent)
	if req.Credential != "" {
		hreq.Header.Set("Authorization", "Bearer "+req.Credential)
	}
	observer := t.observer
	if req.Endpoint == "" {
		observer = nopObserver{}
	}
	resp, err := t.http.Do(hreq)
	if err != nil {
		observer.UpstreamRequest(req.Endpoint, 0, time.Since(start))
		return nil, transportError(ctx, http.MethodGet, req.Path, err)
	}
	defer func() { observer.UpstreamRequest(req.Endpoint, resp.StatusCode, time.Since(start)) }()
	defer func() {
		// Drain a little so the connection can be reused, never the whole body.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()
	body, release, err := decodedBody(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if err != nil {
			// The status says enough; the message is best effort.
			body, release = resp.Body, func() {}
		}
		defer release()
		return nil, checkResponse(resp, body, req.Path, req.Credential)
	}
	if err != nil {
		return nil, &DecodeError{Method: http.MethodGet, Path: req.Path, Err: err}
	}
	defer release()
	buf := bodyBuffers.Get().(*[]byte)
	defer releaseBodyBuffer(buf)
	hint := int64(0)
	if resp.Header.Get("Content-Encoding") == "" {
		hint = resp.ContentLength
	}
	data, over, err := readAtMost(body, (*buf)[:0], t.maxBody, hint)
	*buf = data
	if err != nil {
		var nerr net.Error
		if ctx.Err() == nil && !errors.As(err, &nerr) && body != resp.Body {
			// The connection is fine; the compressed stream is not.
			return nil, &DecodeError{Method: http.MethodGet, Path: req.Path, Err: fmt.Errorf("gzip body: %w", err)}
		}
		return nil, transportError(ctx, http.MethodGet, req.Path, err)
	}
	if over {
		return nil, &DecodeError{Method: http.MethodGet, Path: req.Path, Err: fmt.Errorf("body larger than %d bytes", t.maxBody)}
	}
	// decode keeps nothing of data: the buffer goes back to the pool
	// (goccy/go-json decodes from a copy of its own; TestDecodedPagesKeepNothingOfTheBody).
	v, err := req.Decode(data)
	if err != nil {
		return nil, &DecodeError{Method: http.MethodGet, Path: req.Path, Err: err}
	}
	return v, nil
}

// gzipReaders are reused gzip decoders (each holds a 32 KiB window).
var gzipReaders sync.Pool

// decodedBody is the response body with its Content-Encoding undone: gzip
// (which the client asks for) or none. release returns the decoder.
func decodedBody(resp *http.Response) (body io.Reader, release func(), err error) {
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return resp.Body, func() {}, nil
	case "gzip", "x-gzip":
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		if zr == nil {
			zr, err = gzip.NewReader(resp.Body)
		} else {
			err = zr.Reset(resp.Body)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("gzip body: %w", err)
		}
		return zr, func() { gzipReaders.Put(zr) }, nil
	default:
		return nil, nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
}

// readAtMost reads r into buf until EOF or until more than limit bytes
// came, growing buf by doubling but never past limit bytes of capacity, so
// that a hostile body costs at most the limit however it is sent (chunked,
// compressed, lying Content-Length). hint is the expected length, when
// known. over reports a body longer than limit (data then holds its first
// limit bytes).
func readAtMost(r io.Reader, buf []byte, limit, hint int64) (data []byte, over bool, err error) {
	const minRead = 512
	if hint > 0 && int64(cap(buf)) <= hint && hint <= limit {
		// Room past the expected length, so that the read meeting EOF
		// needs no growth (a buffer of exactly the length would double).
		buf = make([]byte, 0, min(hint+512, limit))
	}
	for {
		room := min(int64(cap(buf)), limit) // a pooled buffer may be larger
		if int64(len(buf)) == room {
			if room == limit {
				// Full: one more byte tells "too large" from "exactly the limit".
				var one [1]byte
				n, err := io.ReadFull(r, one[:])
				switch {
				case n == 1:
					return buf, true, nil
				case err == io.EOF:
					return buf, false, nil
				}
				return buf, false, err
			}
			room = min(int64(max(2*cap(buf), minRead)), limit)
			nb := make([]byte, len(buf), room)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):room])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
}

// bodyBuffers are the buffers upstream bodies are read into, reused once
// decoded: a 100-attempt page is 60-230 KB, read by doubling from 512
// bytes each time before.
var bodyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody bounds the buffers kept for reuse.
const maxPooledBody = 1 << 20

func releaseBodyBuffer(buf *[]byte) {
	if cap(*buf) > maxPooledBody {
		return
	}
	*buf = (*buf)[:0]
	bodyBuffers.Put(buf)
}

// maxErrorBody bounds how much of an error body is read for its message.
const maxErrorBody = 8 << 10

// checkResponse turns a non-2xx response into an *APIError. An upstream that
// echoes the key in its message, in any letter case, gets it replaced: the
// message ends up in logs and GraphQL errors.
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
	e.Message = redact(e.Message, apiKey)
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

// redact replaces every occurrence of key in msg, whatever its letter case.
func redact(msg, key string) string {
	if key == "" {
		return msg
	}
	return regexp.MustCompile("(?i)"+regexp.QuoteMeta(key)).ReplaceAllLiteralString(msg, "[REDACTED]")
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
