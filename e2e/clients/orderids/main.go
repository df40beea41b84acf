// Command orderids prints the ids of the newest call orders of the embedded
// sandbox's default dataset, one a line. GET /call items (and so the GraphQL
// `calls` list) carry no order id, so the client tests get real ids for
// `call(id:)` and for the federation entity this way; the dataset is
// deterministic, so they are the ids the sandbox-mode gateway serves.
package main

import (
	"flag"
	"fmt"

	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

func main() {
	n := flag.Int("n", 20, "number of ids to print")
	flag.Parse()
	ids := sandbox.New(sandbox.Options{}).OrderIDs()
	for _, id := range ids[:min(*n, len(ids))] {
		fmt.Println(id)
	}
}
