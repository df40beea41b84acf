// Command revproxy serves a bare httputil.ReverseProxy in front of -target:
// the baseline of the gateway's load benchmarks. It also serves expvar at
// /debug/vars, so the harness can read its allocation count.
package main

import (
	"expvar"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/revox-graphql/gateway/bench/internal/revproxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8082", "address to listen on")
	target := flag.String("target", "http://127.0.0.1:8081", "upstream URL")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		fmt.Fprintf(os.Stderr, "revproxy: bad -target %q\n", *target)
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /debug/vars", expvar.Handler())
	mux.Handle("/", revproxy.New(u))
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "revproxy:", err)
		os.Exit(1)
	}
}
