// Command fieldcost is issue 9's "Must show" experiment: what a field a
// maintainer adds to CallAttempt costs a full page. In a throwaway copy of
// the repository it adds `dialledNumber: String!` bound to PhoneNumber
// (gqlgen.yml fields: fieldName), runs go generate ./..., builds, starts
// the gateway on its sandbox, checks the field answers each attempt's
// number, and measures the req/s of a full 100-attempt page (every field,
// transcripts) with and without the new field, side by side in alternating
// rounds. It prints the ratio and fails below 0.8. Then it adds a field
// the fast path cannot write (a method taking a context): regeneration
// must name it, and the copy's differential test must pass, the fast path
// still writing every object. Last, two such fields whose method fails for
// some attempts (one non-null, one nullable): the fast path's answers,
// errors and nulls included, must be gqlgen's.
//
//	go run ./bench/fieldcost [-d 3s] [-rounds 6] [-c 8]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/revox-graphql/gateway/bench/internal/workload"
	"github.com/revox-graphql/gateway/bench/load"
)

// minRatio is the bar: the page with the new field serves at least
// 1/1.25 of the req/s of the page without it.
const minRatio = 0.8

func main() {
	d := flag.Duration("d", 3*time.Second, "duration of one measurement")
	rounds := flag.Int("rounds", 6, "measurements of each page, alternating")
	clients := flag.Int("c", 8, "concurrent clients")
	keep := flag.Bool("keep", false, "keep the temporary copy")
	flag.Parse()
	if err := run(*d, *rounds, *clients, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "fieldcost:", err)
		os.Exit(1)
	}
}

func run(d time.Duration, rounds, clients int, keep bool) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "gqlgen.yml")); err != nil {
		return errors.New("run from the repository root")
	}
	dir, err := os.MkdirTemp("", "fieldcost-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("copy:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fmt.Println("== copying the repository to", dir)
	if err := copyTree(root, dir); err != nil {
		return err
	}
	fmt.Println("== adding dialledNumber: String! to CallAttempt, bound to PhoneNumber")
	if err := edit(filepath.Join(dir, "graph/schema.graphqls"),
		"type CallAttempt {\n",
		"type CallAttempt {\n  \"The number dialled (fieldcost experiment).\"\n  dialledNumber: String!\n"); err != nil {
		return err
	}
	if err := edit(filepath.Join(dir, "gqlgen.yml"),
		"  CallAttempt:\n    model: github.com/revox-graphql/gateway/graph/model.CallAttempt\n    fields:\n",
		"  CallAttempt:\n    model: github.com/revox-graphql/gateway/graph/model.CallAttempt\n    fields:\n      dialledNumber:\n        fieldName: PhoneNumber\n"); err != nil {
		return err
	}
	fmt.Println("== go generate ./...")
	out, err := command(dir, "go", "generate", "./...")
	fmt.Print(out)
	if err != nil {
		return fmt.Errorf("go generate: %w", err)
	}
	if strings.Contains(out, "dialledNumber") {
		return errors.New("regeneration warns about dialledNumber: the fast path does not write it")
	}
	bin := filepath.Join(dir, "gateway.bin")
	fmt.Println("== go build")
	if out, err := command(dir, "go", "build", "-o", bin, "."); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	url, stop, err := start(bin)
	if err != nil {
		return err
	}
	defer stop()
	if err := checkField(url); err != nil {
		return err
	}
	without := workload.FullQuery(100)
	with := strings.Replace(without, "id phoneNumber", "id phoneNumber dialledNumber", 1)
	if with == without {
		return errors.New("cannot place dialledNumber in the workload's query")
	}
	fmt.Printf("== %d rounds of %s each, %d clients, full 100-attempt page\n", rounds, d, clients)
	var total [2]float64
	for r := range rounds {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0} // neither page always runs second
		}
		for _, i := range order {
			q := []string{without, with}[i]
			res, err := load.Run(context.Background(), load.Config{
				URL: url + "/query", Body: workload.Body(q), Header: http.Header{"Content-Type": {"application/json"}},
				Concurrency: clients, Requests: 1 << 30, Duration: d, Reject: []byte(`"errors"`),
			})
			if err != nil {
				return err
			}
			if res.Errors > 0 {
				return fmt.Errorf("%d errors, first: %s", res.Errors, res.FirstError)
			}
			total[i] += res.PerSecond
			fmt.Printf("round %d %-22s %8.0f req/s  p50 %v\n", r+1, []string{"without dialledNumber", "with dialledNumber"}[i], res.PerSecond, res.P50)
		}
	}
	ratio := total[1] / total[0]
	fmt.Printf("mean req/s: without %.0f, with %.0f; ratio %.3f (target >= %.2f)\n",
		total[0]/float64(rounds), total[1]/float64(rounds), ratio, minRatio)
	if ratio < minRatio {
		return fmt.Errorf("ratio %.3f below %.2f", ratio, minRatio)
	}
	stop()
	return fallback(dir)
}

// fallback adds a field the fast path cannot write (bound to a method
// taking a context), regenerates, requires the regeneration to name it,
// and runs the differential test of the copy: the fast path must still
// write every object, that field answered by gqlgen's field function.
func fallback(dir string) error {
	fmt.Println("== adding dialledVia: String!, bound to a method taking a context")
	if err := edit(filepath.Join(dir, "graph/schema.graphqls"),
		"type CallAttempt {\n",
		"type CallAttempt {\n  \"The number dialled, through a method taking a context (fieldcost experiment).\"\n  dialledVia: String!\n"); err != nil {
		return err
	}
	method := "package model\n\nimport \"context\"\n\n// DialledVia is PhoneNumber, read with a context.\nfunc (a *CallAttempt) DialledVia(_ context.Context) string { return a.PhoneNumber }\n"
	if err := os.WriteFile(filepath.Join(dir, "graph/model/fieldcost.go"), []byte(method), 0o644); err != nil {
		return err
	}
	out, err := command(dir, "go", "generate", "./...")
	fmt.Print(out)
	if err != nil {
		return fmt.Errorf("go generate: %w", err)
	}
	if !strings.Contains(out, "CallAttempt.dialledVia") {
		return errors.New("regeneration does not name CallAttempt.dialledVia as a field the fast path leaves to gqlgen")
	}
	fmt.Println("== go test ./internal/gateway -run TestFastPathAnswersExactlyWhatTheExecutorDoes")
	out, err = command(dir, "go", "test", "-count=1", "-run", "TestFastPathAnswersExactlyWhatTheExecutorDoes", "./internal/gateway")
	fmt.Print(out)
	if err != nil {
		return fmt.Errorf("differential test with a fallback field: %w", err)
	}
	return nulls(dir)
}

// nulls adds two fallback fields whose method fails for some attempts, one
// non-null and one nullable, and compares the fast path with gqlgen's
// executor on them: errors and nulls must propagate the same way (a
// non-null field's null makes its object null, which makes a list of
// non-null elements null).
func nulls(dir string) error {
	fmt.Println("== adding dialledOrFails: String! and dialledOrNull: String, failing for some attempts")
	if err := edit(filepath.Join(dir, "graph/schema.graphqls"),
		"type CallAttempt {\n",
		"type CallAttempt {\n  \"Fails for numbers ending in 1 (fieldcost experiment).\"\n  dialledOrFails: String!\n  \"Fails for numbers ending in 1 (fieldcost experiment).\"\n  dialledOrNull: String\n"); err != nil {
		return err
	}
	method := `package model

import (
	"context"
	"errors"
	"strings"
)

// DialledOrFails is PhoneNumber, or an error for numbers ending in 1.
func (a *CallAttempt) DialledOrFails(_ context.Context) (string, error) {
	if strings.HasSuffix(a.PhoneNumber, "1") {
		return "", errors.New("fieldcost: number ends in 1")
	}
	return a.PhoneNumber, nil
}

// DialledOrNull is DialledOrFails, nullable.
func (a *CallAttempt) DialledOrNull(ctx context.Context) (*string, error) {
	s, err := a.DialledOrFails(ctx)
	if err != nil {
		return nil, err
	}
	return &s, nil
}
`
	if err := os.WriteFile(filepath.Join(dir, "graph/model/fieldcost_nulls.go"), []byte(method), 0o644); err != nil {
		return err
	}
	test := `package gateway_test

import (
	"bytes"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func TestFieldcostFallbackNullsPropagateAsInGqlgen(t *testing.T) {
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(up.Close)
	newGateway := func(disable bool) string {
		client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), DisableFastPath: disable}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	fast, slow := newGateway(false), newGateway(true)
	for _, q := range []string{
		"{ calls(pageSize: 100) { nodes { id dialledOrNull } } }",
		"{ calls(pageSize: 100) { edges { cursor node { id dialledOrNull } } } }",
		"{ calls(pageSize: 100) { nodes { id dialledOrFails } } }",
		"{ calls(pageSize: 100) { edges { cursor node { id dialledOrFails } } } }",
		"{ calls(pageSize: 100) { nodes { id transcript { content } dialledOrFails } } }",
	} {
		f, s := post(t, fast, q, nil), post(t, slow, q, nil)
		if !bytes.Equal(f.Data, s.Data) || !reflect.DeepEqual(byPath(f.Errors), byPath(s.Errors)) {
			t.Fatalf("%s\nfast: %.600s\nslow: %.600s", q, f.raw, s.raw)
		}
		if len(f.Errors) == 0 {
			t.Fatalf("%s: no error: no number ends in 1?", q)
		}
		t.Logf("%s: %d errors, data %.120s", q, len(f.Errors), f.Data)
	}
}
`
	if err := os.WriteFile(filepath.Join(dir, "internal/gateway/fieldcost_nulls_test.go"), []byte(test), 0o644); err != nil {
		return err
	}
	out, err := command(dir, "go", "generate", "./...")
	fmt.Print(out)
	if err != nil {
		return fmt.Errorf("go generate: %w", err)
	}
	fmt.Println("== go test ./internal/gateway -run TestFieldcostFallbackNullsPropagateAsInGqlgen")
	out, err = command(dir, "go", "test", "-count=1", "-v", "-run", "TestFieldcostFallbackNullsPropagateAsInGqlgen", "./internal/gateway")
	fmt.Print(out)
	if err != nil {
		return fmt.Errorf("fallback nulls: %w", err)
	}
	return nil
}

// copyTree copies the repository's files to dst, without .git and
// node_modules.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if e.IsDir() && (e.Name() == ".git" || e.Name() == "node_modules") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// edit replaces the one occurrence of old in the file.
func edit(path, old, new string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if n := bytes.Count(b, []byte(old)); n != 1 {
		return fmt.Errorf("%s: %d occurrences of %q, want 1", path, n, old)
	}
	return os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644)
}

func command(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start runs the gateway on a free loopback port, in sandbox mode, and
// waits for it to be live.
func start(bin string) (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "REVOX_API_KEY=", "LOG_LEVEL=error")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	url = fmt.Sprintf("http://127.0.0.1:%d", port)
	for range 100 {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			return url, stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return "", nil, errors.New("the gateway did not start")
}

// checkField requires dialledNumber to answer each attempt's number.
func checkField(url string) error {
	body := workload.Body(`{ calls(pageSize: 100) { nodes { phoneNumber dialledNumber } edges { node { phoneNumber dialledNumber } } } }`)
	resp, err := http.Post(url+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Calls struct {
				Nodes []struct{ PhoneNumber, DialledNumber string }
				Edges []struct {
					Node struct{ PhoneNumber, DialledNumber string }
				}
			}
		}
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<24)).Decode(&r); err != nil {
		return err
	}
	if len(r.Errors) > 0 || len(r.Data.Calls.Nodes) == 0 || len(r.Data.Calls.Nodes) != len(r.Data.Calls.Edges) {
		return fmt.Errorf("dialledNumber query: %d errors, %d nodes, %d edges", len(r.Errors), len(r.Data.Calls.Nodes), len(r.Data.Calls.Edges))
	}
	for i, n := range r.Data.Calls.Nodes {
		e := r.Data.Calls.Edges[i].Node
		if n.DialledNumber == "" || n.DialledNumber != n.PhoneNumber || e.DialledNumber != e.PhoneNumber {
			return fmt.Errorf("attempt %d: dialledNumber %q, phoneNumber %q", i, n.DialledNumber, n.PhoneNumber)
		}
	}
	fmt.Printf("dialledNumber answers the phone number of all %d attempts (nodes and edges)\n", len(r.Data.Calls.Nodes))
	return nil
}
