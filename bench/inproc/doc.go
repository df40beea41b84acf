// Package inproc holds the in-process benchmarks of the load scenarios: each
// contender (the sandbox upstream, the bare reverse proxy, the gateway) is
// served by httptest over loopback in the benchmark's process and asked by
// an HTTP client there, so allocs/op and B/op count the same client and
// upstream work for every contender and can be compared as ratios. The
// harness (go run ./bench) runs them; see BENCHMARKS.md.
package inproc
