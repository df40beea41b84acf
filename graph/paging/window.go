package paging

import "github.com/revox-graphql/gateway/graph/model"

// Window rebuilds the connection Resolve answered for the first len(nodes)
// attempts under f, from its nodes and page information: a subscription
// value polled by another replica.
func Window(nodes []*model.CallAttempt, f Filter, info model.PageInfo) *model.CallAttemptConnection {
	conn := model.NewCallAttemptConnection(nodes, 0, f.fingerprint)
	conn.PageInfo = info
	return conn
}
