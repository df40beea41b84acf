package gateway

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// CodeForbiddenOrigin refuses a WebSocket upgrade from an origin that
// CORS_ALLOWED_ORIGINS does not list.
const CodeForbiddenOrigin = "FORBIDDEN_ORIGIN"

// originAllowed says whether a WebSocket upgrade from r's Origin may be
// accepted, by the rule the WebSocket library applies (coder/websocket's
// AcceptOptions.OriginPatterns): no Origin (not a browser), the request's
// own host, or a pattern of allowed (path.Match, case-insensitive, against
// the origin's host, or scheme://host when the pattern has a scheme). The
// gateway refuses before the library does, so that the refusal is a coded,
// counted 403 and not a line of the standard logger.
func originAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(r.Host, u.Host) {
		return true
	}
	for _, pattern := range allowed {
		target := u.Host
		if strings.Contains(pattern, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}
