// Package playground serves the GraphiQL playground with every script, style
// sheet, font and web worker embedded in the binary, so the page works with
// no internet access and asks nothing of any host but the gateway.
//
// assets/ is generated from the npm packages pinned in build/package-lock.json
// by refresh.sh; index.html is the page template.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/revox-graphql/gateway/internal/vary"
)

// AssetPath is the URL path under which Handler serves the playground's
// assets; mount the handler there as well as at the page's path.
const AssetPath = "/playground/assets/"

var (
	//go:embed assets
	embedded embed.FS
	//go:embed index.html
	pageSource string
	page       = template.Must(template.New("index.html").Parse(pageSource))
)

// contentTypes covers every file refresh.sh produces; an asset with another
// extension is served as bytes a browser will not interpret.
var contentTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
	".ttf":  "font/ttf",
	".woff": "font/woff",
	".svg":  "image/svg+xml",
	".map":  "application/json; charset=utf-8",
}

// pageCSP lets the page load scripts, style sheets, fonts and workers from
// the gateway only and talk to nothing else. Monaco creates <style> elements
// at run time; they carry the per-response nonce (see build/src/nonce.js).
// Monaco also renders its lines as HTML with style attributes, which no
// nonce covers: style-src-attr allows those, and only those; they can load
// nothing (img-src and font-src still apply). Fonts bundled inside
// GraphiQL's style sheet are data: URLs.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"style-src-elem 'self' 'nonce-%s'; style-src-attr 'unsafe-inline'; " +
	"connect-src 'self'; worker-src 'self'; font-src 'self' data:; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// assetCSP governs the web workers, whose policy is the one their own
// response carries; other assets ignore it.
const assetCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

type asset struct {
	contentType string
	body        []byte
	gzipOnce    sync.Once
	gzipped     []byte // nil when gzip does not make it smaller
}

func (a *asset) gzipBody() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		if buf.Len() < len(a.body) {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

// bundle is the embedded asset set and the version segment of its URLs: a
// digest of all the files, so a new build gets new URLs and the old ones can
// be cached forever.
type bundle struct {
	version string
	files   map[string]*asset
}

var loadBundle = sync.OnceValue(func() *bundle {
	files := map[string]*asset{}
	sum := sha256.New()
	err := fs.WalkDir(embedded, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = "application/octet-stream"
		}
		files[name] = &asset{contentType: ct, body: body}
		sum.Write([]byte(name))
		sum.Write([]byte{0})
		sum.Write(body)
		return nil
	})
	if err != nil {
		panic("playground: reading embedded assets: " + err.Error())
	}
	return &bundle{version: hex.EncodeToString(sum.Sum(nil))[:16], files: files}
})

// Handler serves the playground page, titled title and sending its queries
// to endpoint, at any path outside AssetPath, and the page's assets under
// AssetPath. Mount it at the page's path and at AssetPath.
func Handler(title, endpoint string) http.Handler {
	b := loadBundle()
	assetBase := AssetPath + b.version + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if strings.HasPrefix(r.URL.Path, AssetPath) {
			b.serveAsset(w, r, strings.TrimPrefix(r.URL.Path, assetBase), strings.HasPrefix(r.URL.Path, assetBase))
			return
		}
		servePage(w, r, title, endpoint, assetBase)
	})
}

func servePage(w http.ResponseWriter, r *http.Request, title, endpoint, assetBase string) {
	nonce := newNonce()
	var buf bytes.Buffer
	err := page.Execute(&buf, struct{ Title, Endpoint, Assets, Nonce string }{title, endpoint, assetBase, nonce})
	if err != nil {
		http.Error(w, "rendering the playground failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store") // the nonce is new on every response
	h.Set("Content-Security-Policy", fmt.Sprintf(pageCSP, nonce))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(buf.Bytes())
}

func (b *bundle) serveAsset(w http.ResponseWriter, r *http.Request, name string, current bool) {
	a, ok := b.files[name]
	if !current || !ok {
		// An asset of another build, or none: never cache a substitute
		// under an immutable URL.
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", assetCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	vary.Add(h, "Accept-Encoding") // unless the gateway's compressor said it

	body := a.body
	if gz := a.gzipBody(); gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
			if strings.EqualFold(k, "q") {
				q, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
		return q > 0
	}
	return false
}

func newNonce() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
