package playground_test

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/internal/playground"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	h := playground.Handler("Revox <GraphQL>", "/query")
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+playground.AssetPath, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// A transport of its own, so Go does not add and undo gzip itself.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

var assetRef = regexp.MustCompile(`(?:href|src)="(/playground/assets/[0-9a-f]{16}/[^"]+)"`)

func TestPageLoadsOnlyItsOwnAssetsUnderAStrictPolicy(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	resp, body := get(t, srv.URL+"/")
	page := string(body)

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	nonce := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(page)
	if nonce == nil {
		t.Fatalf("no nonce on the page's script:\n%s", page)
	}
	for _, directive := range []string{
		"default-src 'none'", "script-src 'self'", "style-src 'self'",
		"style-src-elem 'self' 'nonce-" + nonce[1] + "'", "connect-src 'self'", "worker-src 'self'",
		"frame-ancestors 'none'",
	} {
		if !strings.Contains(csp, directive+";") && !strings.HasSuffix(csp, directive) {
			t.Errorf("Content-Security-Policy lacks %q: %s", directive, csp)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
		t.Errorf("Content-Security-Policy allows more than the gateway: %s", csp)
	}
	if strings.Contains(page, "http:") || strings.Contains(page, "https:") || strings.Contains(page, "//") {
		t.Errorf("the page names another host:\n%s", page)
	}
	if !strings.Contains(page, `data-endpoint="/query"`) || !strings.Contains(page, "<title>Revox &lt;GraphQL&gt;</title>") {
		t.Errorf("endpoint or escaped title missing:\n%s", page)
	}
	if _, again := get(t, srv.URL+"/"); strings.Contains(string(again), nonce[1]) {
		t.Error("two responses share a nonce")
	}

	refs := assetRef.FindAllStringSubmatch(page, -1)
	if len(refs) != 2 {
		t.Fatalf("want the page to load one script and one style sheet, found %q", refs)
	}
	for _, ref := range refs {
		resp, body := get(t, srv.URL+ref[1])
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("%s: status %d, %d bytes", ref[1], resp.StatusCode, len(body))
		}
	}
}

func TestAssetsAreTypedCachedAndCompressed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, page := get(t, srv.URL+"/")
	script := assetRef.FindStringSubmatch(string(page))[1] // the script comes first
	base := script[:strings.LastIndex(script, "/")+1]

	cases := []struct{ file, contentType string }{
		{"graphiql.js", "text/javascript; charset=utf-8"},
		{"graphiql.css", "text/css; charset=utf-8"},
		{"editor.worker.js", "text/javascript; charset=utf-8"},
		{"graphql.worker.js", "text/javascript; charset=utf-8"},
		{"json.worker.js", "text/javascript; charset=utf-8"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(filepath.Join("assets", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			resp, body := get(t, srv.URL+base+tc.file)
			if resp.StatusCode != http.StatusOK || !equalBytes(body, want) {
				t.Fatalf("status %d, %d bytes, want the %d embedded bytes", resp.StatusCode, len(body), len(want))
			}
			if got := resp.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control %q", got)
			}

			resp, body = get(t, srv.URL+base+tc.file, "Accept-Encoding", "br, gzip;q=0.8")
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("not gzipped for a client that accepts gzip: %v", resp.Header)
			}
			zr, err := gzip.NewReader(strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || !equalBytes(plain, want) {
				t.Fatalf("gzipped body does not inflate to the asset (%v)", err)
			}

			resp, _ = get(t, srv.URL+base+tc.file, "Accept-Encoding", "gzip;q=0")
			if resp.Header.Get("Content-Encoding") != "" {
				t.Error("gzipped for a client that refuses gzip")
			}
		})
	}

	t.Run("an asset of another build or no asset is 404", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{
			playground.AssetPath + "0000000000000000/graphiql.js",
			base + "nope.js",
			playground.AssetPath,
		} {
			if resp, _ := get(t, srv.URL+p); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Cache-Control") != "" {
				t.Errorf("%s: status %d, Cache-Control %q", p, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
		}
	})
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }

// offHost matches what would make a browser fetch from another host when it
// appears in a style sheet or in the page: an absolute or protocol-relative
// URL in url(...), @import or a src/href attribute.
var offHost = regexp.MustCompile(`(?i)(url\(\s*['"]?\s*(https?:)?//|@import|(src|href)\s*=\s*['"]?\s*(https?:)?//)`)

// TestEmbeddedAssetsNameNoOtherHostToLoad keeps refresh.sh honest: the style
// sheets load nothing from elsewhere and no script imports from a CDN. (The
// browser test in e2e/http checks what the page really requests.)
func TestEmbeddedAssetsNameNoOtherHostToLoad(t *testing.T) {
	t.Parallel()
	// Literal searches: a regular expression over megabytes of script is
	// slow under the race detector.
	cdn := []string{
		"esm.sh", "unpkg.com", "jsdelivr.net", "cdnjs.cloudflare", "fonts.googleapis", "fonts.gstatic",
		`import("http`, `import('http`, "import(`http", `from"http`, `from "http`, `from'http`, `from 'http`,
	}
	err := fs.WalkDir(os.DirFS("assets"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join("assets", p))
		if err != nil {
			return err
		}
		s := string(b)
		if strings.HasSuffix(p, ".css") {
			if m := offHost.FindString(s); m != "" {
				t.Errorf("%s loads from another host: %q", p, m)
			}
		}
		if strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".css") {
			lower := strings.ToLower(s)
			for _, c := range cdn {
				if strings.Contains(lower, c) {
					t.Errorf("%s loads from another host: contains %q", p, c)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOnlyGetAndHeadAreServed(t *testing.T) {
	t.Parallel()
	h := playground.Handler("t", "/query")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d body bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}
