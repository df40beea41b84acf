// Command upstream serves the sandbox upstream with its request counter at
// GET /_sandbox/stats. The harness uses it only while the gateway binary's
// `sandbox` command does not serve that route itself: the handler is the
// same sandbox.New, so the numbers are the same.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	sb := sandbox.New(sandbox.Options{})
	srv := &http.Server{Addr: *listen, Handler: sb.StatsHandler(), ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}
