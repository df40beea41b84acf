// Package workload holds what the benchmark clients send: the upstream
// request and the GraphQL queries of the gateway scenarios.
package workload

import (
	"encoding/json"
	"fmt"
)

// fullSelection selects every CallAttempt field and the full transcript,
// as internal/gateway's fullPageQuery does.
const fullSelection = `edges { cursor node {
  id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw
  startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw
  structuredOutput transcriptLength
  transcript { role roleRaw content toolName toolArguments toolIsError } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`

// UpstreamPath is the upstream request for the first page of n attempts.
func UpstreamPath(n int) string { return fmt.Sprintf("/call?page=0&page_size=%d", n) }

// FullQuery selects every field of the first page of n attempts, in page mode.
func FullQuery(n int) string {
	return fmt.Sprintf("{ calls(page: 0, pageSize: %d) { %s } }", n, fullSelection)
}

// IDsQuery selects only the ids of the first page of n attempts, in page mode.
func IDsQuery(n int) string {
	return fmt.Sprintf("{ calls(page: 0, pageSize: %d) { nodes { id } } }", n)
}

// Body is the POST body of a GraphQL query.
func Body(query string) []byte {
	b, _ := json.Marshal(map[string]string{"query": query})
	return b
}
