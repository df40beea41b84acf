package revox

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// ListCallsFresh is ListCalls read from the upstream itself with cred (the
// client's own key when empty): neither from the cache nor joined to a
// request in flight, for pollers that must see changes as they happen.
func (c *Client) ListCallsFresh(ctx context.Context, cred string, opts ListCallsOptions) ([]CallAttempt, error) {
	if opts.Page < 0 || opts.PageSize < 1 {
		return nil, fmt.Errorf("revox: ListCallsFresh: page %d, page size %d out of range", opts.Page, opts.PageSize)
	}
	if cred == "" {
		cred = c.apiKey
	}
	q := make(url.Values, 3)
	q.Set("page", strconv.Itoa(opts.Page+c.firstPage))
	q.Set("page_size", strconv.Itoa(opts.PageSize))
	for _, s := range opts.Statuses {
		q.Add("statuses", string(s))
	}
	v, err := c.withRetries(ctx, "list_calls", "/call", c.base+"/call?"+q.Encode(), cred, func(data []byte) (any, error) {
		return decodeListPage(data)
	})
	if err != nil {
		return nil, err
	}
	return v.([]CallAttempt), nil
}
