package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

const fullPageQuery = `{ calls(first: 100) { edges { cursor node {
  id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw
  startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw
  structuredOutput transcriptLength
  transcript { role roleRaw content toolName toolArguments toolIsError } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`

// BenchmarkCallsFirst100FullTranscripts executes one GraphQL request for a
// full 100-attempt window with every field and transcript, through the
// whole handler, against the sandbox over loopback HTTP. The look-ahead for
// hasNextPage makes it two upstream requests.
func BenchmarkCallsFirst100FullTranscripts(b *testing.B) {
	benchmarkQuery(b, fullPageQuery)
}

// BenchmarkCallsFirst100IDsOnly is the same window selecting only ids: the
// difference is what unselected fields cost.
func BenchmarkCallsFirst100IDsOnly(b *testing.B) {
	benchmarkQuery(b, `{ calls(first: 100) { nodes { id } } }`)
}

func benchmarkQuery(b *testing.B, query string) {
	up := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer up.Close()
	client, err := revox.New(up.URL, sandbox.DefaultAPIKey)
	if err != nil {
		b.Fatal(err)
	}
	h := gateway.New(gateway.Config{Upstream: client, Logger: quietLogger()})
	body, _ := json.Marshal(map[string]string{"query": query})
	run := func() int {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body.Bytes())
		}
		n, _ := io.Copy(io.Discard, rec.Body)
		return int(n)
	}
	b.SetBytes(int64(run()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		run()
	}
}
