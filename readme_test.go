package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// readmeExamples returns the body of every ```graphql block of README.md.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllSubmatch(readme, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// Every GraphQL example of the README answers data, as written, from the
// gateway in front of the default sandbox (what `go run .` serves without a
// key): no error, and every field it selects has a value (not null, not an
// empty list) in at least one place of the answer, so that an example of
// transcripts shows transcripts.
func TestEveryReadmeExampleAnswersDataFromTheSandbox(t *testing.T) {
	t.Parallel()
	examples := readmeExamples(t)
	if len(examples) < 5 {
		t.Fatalf("found %d graphql examples in README.md; the extraction is broken", len(examples))
	}
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(up.Close)
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	// As `go run .` serves the sandbox: writes dial no one, so they are allowed.
	gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quiet(), AllowAnonymousWrites: true}))
	t.Cleanup(gql.Close)

	for _, example := range examples {
		name := strings.Join(strings.Fields(example), " ")
		t.Run(name[:min(len(name), 60)], func(t *testing.T) {
			t.Parallel()
			body, _ := json.Marshal(map[string]any{"query": example})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, gql.URL+"/query", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			subscription := strings.HasPrefix(strings.TrimSpace(example), "subscription")
			if subscription {
				// Over graphql-sse: the first event's answer.
				req.Header.Set("Accept", "text/event-stream")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer io.Reader = resp.Body
			if subscription {
				answer = firstEventData(t, resp.Body)
			}
			var r struct {
				Data   map[string]any   `json:"data"`
				Errors []map[string]any `json:"errors"`
			}
			if err := json.NewDecoder(answer).Decode(&r); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || len(r.Errors) > 0 || r.Data == nil {
				t.Fatalf("status %d, errors %v", resp.StatusCode, r.Errors)
			}
			filled := map[string]bool{}
			fieldsWithValues("", r.Data, filled)
			var empty []string
			for path, ok := range filled {
				if !ok {
					empty = append(empty, path)
				}
			}
			slices.Sort(empty)
			if len(empty) > 0 {
				t.Fatalf("no value anywhere in the answer for %v", empty)
			}
		})
	}
}

// fieldsWithValues records, for every field path of v (list indices left
// out), whether some occurrence has a value: not null, not an empty list.
func fieldsWithValues(path string, v any, filled map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := path + "." + k
			filled[p] = filled[p] || hasValue(child)
			fieldsWithValues(p, child, filled)
		}
	case []any:
		for _, child := range v {
			fieldsWithValues(path, child, filled)
		}
	}
}

func hasValue(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case []any:
		return len(v) > 0
	}
	return true
}

// firstEventData is the data of the first event of an event stream.
func firstEventData(t *testing.T, stream io.Reader) io.Reader {
	t.Helper()
	sc := bufio.NewScanner(stream)
	sc.Buffer(make([]byte, 64<<10), 1<<22)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return strings.NewReader(data)
		}
	}
	t.Fatalf("the event stream ended without an event: %v", sc.Err())
	return nil
}
