// Command load sends closed-loop HTTP load to one loopback URL and prints
// what it measured as one JSON object (see bench/load.Result). It stops by
// itself after -n requests or -d, whichever comes first.
//
//	load -url http://127.0.0.1:8081/call?page=0&page_size=20 \
//	     -H 'Authorization: Bearer sk_sandbox_demo' -c 16 -n 1000000 -d 5s
//	load -url http://127.0.0.1:8080/query -body '{"query":"{ calls { nodes { id } } }"}' \
//	     -H 'Content-Type: application/json' -reject '"errors"' -c 16 -d 5s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/revox-graphql/gateway/bench/load"
)

type headers http.Header

func (h headers) String() string { return fmt.Sprint(http.Header(h)) }

func (h headers) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("header %q: want Name: value", v)
	}
	http.Header(h).Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}

func main() {
	cfg := load.Config{Header: http.Header{}}
	var body, reject string
	flag.StringVar(&cfg.URL, "url", "", "target URL (loopback only)")
	flag.StringVar(&cfg.Method, "X", "", "method (default GET, or POST with -body)")
	flag.StringVar(&body, "body", "", "request body")
	flag.Var(headers(cfg.Header), "H", "request header `Name: value` (repeatable)")
	flag.IntVar(&cfg.Concurrency, "c", 1, "concurrent clients")
	flag.IntVar(&cfg.Requests, "n", 1_000_000, "at most this many requests")
	flag.DurationVar(&cfg.Duration, "d", 5*time.Second, "at most this long")
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "timeout of one request")
	flag.StringVar(&reject, "reject", "", "count a 2xx response whose body contains this as an error")
	flag.Parse()
	if body != "" {
		cfg.Body = []byte(body)
	}
	if reject != "" {
		cfg.Reject = []byte(reject)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := load.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}
