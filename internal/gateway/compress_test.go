package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// rawClient sends Accept-Encoding as the test sets it and never decodes.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// postRaw posts a GraphQL request and returns the response with its body
// as it came over the wire.
func postRaw(t *testing.T, url string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// decode undoes a response's Content-Encoding.
func decode(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	return gateway.DecodeAs(t, coding, b)
}

func TestCompressedAndIdentityAnswersDecodeToTheSameJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body, _ := json.Marshal(map[string]string{"query": fullPageQuery})
	_, identity := postRaw(t, e.gql.URL+"/query", body, "Accept-Encoding", "identity")
	if !bytes.Contains(identity, []byte(`"transcript"`)) || bytes.Contains(identity, []byte(`"errors"`)) {
		t.Fatalf("identity answer is not a full page: %.300s", identity)
	}
	for _, tc := range []struct {
		acceptEncoding, want string
	}{
		{"gzip", "gzip"},
		{"br", "br"},
		{"zstd", "zstd"},
		{"gzip, deflate, br, zstd", "zstd"}, // Chromium's, Firefox's
		{"gzip, deflate, br", "gzip"},       // Node's fetch, Safari
		{"br, zstd", "zstd"},
		{"identity", ""},
	} {
		t.Run(fmt.Sprintf("Accept-Encoding %q is answered in %q", tc.acceptEncoding, tc.want), func(t *testing.T) {
			t.Parallel()
			resp, raw := postRaw(t, e.gql.URL+"/query", body, "Accept-Encoding", tc.acceptEncoding)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.want)
			}
			if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", resp.Header.Values("Vary"))
			}
			if !jsonEqual(decode(t, tc.want, raw), identity) {
				t.Fatal("the decoded answer differs from the identity answer")
			}
			if tc.want != "" && len(raw)*4 > len(identity) {
				t.Errorf("%s sends %d bytes for %d: less than a 4× cut", tc.want, len(raw), len(identity))
			}
		})
	}
}

func TestQueryAnswersUnderTheThresholdAreSentAsTheyAre(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, raw := postRaw(t, e.gql.URL+"/query", []byte(`{"query":"{ __typename }"}`), "Accept-Encoding", "gzip, br, zstd")
	if ce := resp.Header.Get("Content-Encoding"); ce != "" || string(raw) != `{"data":{"__typename":"Query"}}` {
		t.Fatalf("Content-Encoding %q, body %q", ce, raw)
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Errorf("Vary %q lacks Accept-Encoding", resp.Header.Values("Vary"))
	}
}

func TestALargeErrorAnswerKeepsItsStatusWhenCompressed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var q strings.Builder
	q.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&q, " unknownField%d", i)
	}
	q.WriteString(" }")
	body, _ := json.Marshal(map[string]string{"query": q.String()})
	resp, raw := postRaw(t, e.gql.URL+"/query", body,
		"Accept", "application/graphql-response+json", "Accept-Encoding", "gzip")
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q; want 400 gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	var r response
	if err := json.Unmarshal(decode(t, "gzip", raw), &r); err != nil || len(r.Errors) != 40 || r.codes()[0] != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("decoded answer: %v, %d errors %v", err, len(r.Errors), r.codes())
	}
}

func TestMetricsAndHealthAreNeverCompressedByTheGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/metrics", "/healthz"} {
		t.Run(path+" is answered as it is to a client accepting zstd and br", func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, e.gql.URL+path, nil)
			req.Header.Set("Accept-Encoding", "zstd, br")
			resp, err := rawClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if ce := resp.Header.Get("Content-Encoding"); ce != "" || resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, Content-Encoding %q", resp.StatusCode, ce)
			}
			if path == "/metrics" && !bytes.HasPrefix(raw, []byte("# HELP")) {
				t.Fatalf("not the exposition format: %.100q", raw)
			}
		})
	}
}

func TestPlaygroundAnswersAreCompressedAndTheirHEADIsNot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fetch := func(method, path, acceptEncoding string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, e.gql.URL+path, nil)
		req.Header.Set("Accept-Encoding", acceptEncoding)
		resp, err := rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp, raw
	}
	page, raw := fetch(http.MethodGet, "/", "br")
	if page.Header.Get("Content-Encoding") != "" || !strings.Contains(strings.Join(page.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("GET / (under the threshold): Content-Encoding %q, Vary %q", page.Header.Get("Content-Encoding"), page.Header.Values("Vary"))
	}
	css := regexp.MustCompile(`/playground/assets/[0-9a-f]+/graphiql\.css`).Find(raw)
	if css == nil {
		t.Fatalf("no style sheet link in the page: %s", raw)
	}
	plain, identity := fetch(http.MethodGet, string(css), "identity")
	if vary := plain.Header.Values("Vary"); len(vary) != 1 || plain.Header.Get("Content-Encoding") != "" {
		t.Errorf("style sheet asked in identity: Vary %q (want Accept-Encoding once), Content-Encoding %q", vary, plain.Header.Get("Content-Encoding"))
	}
	for _, tc := range []struct{ name, acceptEncoding, want string }{
		{"a style sheet asked in gzip is the embedded gzip", "gzip", "gzip"},
		{"a style sheet asked in br only is compressed by the gateway", "br", "br"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := fetch(http.MethodGet, string(css), tc.acceptEncoding)
			if resp.Header.Get("Content-Encoding") != tc.want || !bytes.Equal(decode(t, tc.want, raw), identity) {
				t.Fatalf("Content-Encoding %q, %d bytes decoded differ from identity's %d", resp.Header.Get("Content-Encoding"), len(raw), len(identity))
			}
			if vary := resp.Header.Values("Vary"); len(vary) != 1 {
				t.Errorf("Vary %q: Accept-Encoding said more than once", vary)
			}
		})
	}
	head, raw := fetch(http.MethodHead, string(css), "br")
	if head.StatusCode != http.StatusOK || head.Header.Get("Content-Encoding") != "" || len(raw) != 0 || head.ContentLength != int64(len(identity)) {
		t.Fatalf("HEAD: status %d, Content-Encoding %q, Content-Length %d (identity %d), %d body bytes",
			head.StatusCode, head.Header.Get("Content-Encoding"), head.ContentLength, len(identity), len(raw))
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// paddedQuery is a request body of exactly n bytes: a query padded with
// spaces.
func paddedQuery(n int) []byte {
	const head, tail = `{"query":"{ __typename `, `}"}`
	return []byte(head + strings.Repeat(" ", n-len(head)-len(tail)) + tail)
}

func TestGzippedRequestBodiesAreReadWithinTheBodyLimit(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), MaxBodyBytes: limit}))
	t.Cleanup(gql.Close)

	// 64 MiB of zeros in about 64 KiB: a thousand times the limit once inflated.
	bomb := gzipped(t, make([]byte, 1000*limit))
	for _, tc := range []struct {
		name     string
		body     []byte
		encoding string
		status   int
		code     string
	}{
		{"a gzipped query is answered", gzipped(t, paddedQuery(200)), "gzip", 200, ""},
		{"a gzipped body inflating to exactly the limit is answered", gzipped(t, paddedQuery(limit)), "gzip", 200, ""},
		{"a gzipped body inflating one byte past the limit is refused", gzipped(t, paddedQuery(limit+1)), "gzip", 413, "REQUEST_TOO_LARGE"},
		{"a gzip bomb is refused at the limit", bomb[:min(len(bomb), limit)], "gzip", 413, "REQUEST_TOO_LARGE"},
		{"a gzipped body itself larger than the limit is refused", bomb, "gzip", 413, "REQUEST_TOO_LARGE"},
		{"a body that is not gzip is refused", []byte(`{"query":"{ __typename }"}`), "gzip", 400, "BAD_REQUEST"},
		{"a truncated gzip body is refused", gzipped(t, paddedQuery(200))[:40], "gzip", 400, "BAD_REQUEST"},
		{"an unsupported request coding is refused", gzipped(t, paddedQuery(200)), "br", 415, "BAD_REQUEST"},
		{"a stacked coding is refused", gzipped(t, gzipped(t, paddedQuery(200))), "gzip, gzip", 415, "BAD_REQUEST"},
		{"identity is read as it is", paddedQuery(200), "identity", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, raw := postRaw(t, gql.URL+"/query", tc.body, "Content-Encoding", tc.encoding)
			var r response
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("status %d, not JSON: %.200q", resp.StatusCode, raw)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			if tc.code == "" {
				if len(r.Errors) > 0 || string(r.Data) != `{"__typename":"Query"}` {
					t.Fatalf("answer %s", raw)
				}
				return
			}
			if got := r.codes(); len(got) != 1 || got[0] != tc.code {
				t.Fatalf("codes %v, want [%s]", got, tc.code)
			}
			if tc.status == http.StatusUnsupportedMediaType && resp.Header.Get("Accept-Encoding") != "gzip" {
				t.Errorf("415 without Accept-Encoding: gzip")
			}
		})
	}
}
