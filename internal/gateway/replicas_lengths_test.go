package gateway_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/gateway"
	"github.com/revox-graphql/gateway/internal/redisstore"
	"github.com/revox-graphql/gateway/internal/redisstore/redistest"
	"github.com/revox-graphql/gateway/internal/revox"
	"github.com/revox-graphql/gateway/internal/revox/sandbox"
)

// TestReplicasShareListLengths: behind a load balancer the next `last: n`
// of a client may reach another replica; the end the first replica searched
// for is found there in one round trip, through Redis. The replicas cache
// nothing, so every upstream request shows.
func TestReplicasShareListLengths(t *testing.T) {
	t.Parallel()
	rds := redistest.Start(t)
	sb := sandbox.New(sandbox.Options{})
	up := httptest.NewServer(sb)
	t.Cleanup(up.Close)
	replica := func(share bool) string {
		conn, err := redisstore.Open(redisstore.Options{URL: rds.URL(), Prefix: "lengths:", Timeout: time.Second, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		client, err := revox.New(up.URL, sandbox.DefaultAPIKey, revox.WithTimeout(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		lengths := paging.NewLengths(time.Minute, 16)
		if share {
			lengths.Share(redisstore.NewLengths(conn))
		}
		gql := httptest.NewServer(gateway.New(gateway.Config{Upstream: client, Logger: quietLogger(), Lengths: lengths, Redis: conn}))
		t.Cleanup(gql.Close)
		return gql.URL
	}
	const lastPage = `{ calls(last: 20) { nodes { id } pageInfo { hasPreviousPage } } }`
	requests := func(base string) (int64, string) {
		before := sb.Requests()
		r := post(t, base, lastPage, nil)
		var page map[string]any
		r.ok(t, &page)
		return sb.Requests() - before, string(r.raw)
	}

	first, answer := requests(replica(true))
	if first < 10 {
		t.Fatalf("the first replica's search took %d upstream requests; the test needs a list long enough to search", first)
	}
	second, again := requests(replica(true))
	if second > 3 || again != answer {
		t.Fatalf("the second replica made %d upstream requests (the first %d), want at most 3 (the window and the attempt after it); answers\n%s\n%s", second, first, again, answer)
	}
	if alone, _ := requests(replica(false)); alone < 10 {
		t.Fatalf("a replica that does not share searched in %d requests: the comparison shows nothing", alone)
	}
}
