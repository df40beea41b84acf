package revox

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// ListCallsFresh is ListCalls read from the upstream itself: neither from
// the cache nor joined to a request in flight, for subscription pollers
// that must see changes as they happen. It goes through the same retries,
// breaker and concurrency bound as every read.
func (c *Client) ListCallsFresh(ctx context.Context, opts ListCallsOptions) ([]CallAttempt, error) {
	if opts.Page < 0 || opts.PageSize < 1 {
		return nil, fmt.Errorf("revox: ListCallsFresh: page %d, page size %d out of range", opts.Page, opts.PageSize)
	}
	q := make(url.Values, 3)
	q.Set("page", strconv.Itoa(opts.Page+c.firstPage))
	q.Set("page_size", strconv.Itoa(opts.PageSize))
	for _, s := range opts.Statuses {
		q.Add("statuses", string(s))
	}
	fields := opts.Fields.normal()
	v, err := c.layers.fresh.Do(ctx, &request{
		Endpoint:   "list_calls",
		Path:       "/call",
		URL:        c.base + "/call?" + q.Encode(),
		Credential: c.credential(opts.Credential),
		Decode:     func(data []byte) (any, error) { return decodeListPage(data, fields, opts.PageSize) },
	})
	if err != nil {
		return nil, err
	}
	return v.([]CallAttempt), nil
}
