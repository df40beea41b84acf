// Package revproxy is the bare reverse proxy the gateway is compared with:
// what any gateway in front of the upstream costs at the very least.
package revproxy

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// New returns an httputil.ReverseProxy to target whose transport keeps as
// many idle upstream connections as it has clients, so that it never pays
// for reconnecting under load.
func New(target *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
