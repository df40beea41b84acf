package sandbox

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/revox-graphql/gateway/internal/revox"
)

// filterStatuses are the order statuses GET /call accepts in "statuses", in
// the order of their bit in a filter mask. The other three order statuses
// exist on orders but the documented filter does not list them, so asking
// for them is a 400 rather than a silently empty page.
var filterStatuses = [...]revox.OrderStatus{
	revox.OrderInitializing,
	revox.OrderQueuedForCalling,
	revox.OrderCalling,
	revox.OrderScheduled,
	revox.OrderCompleted,
	revox.OrderCancelled,
	revox.OrderErrored,
}

// filterMasks is the number of distinct status filters, mask 0 meaning none.
const filterMasks = 1 << len(filterStatuses)

// statusBit returns the filter bit of an order status, 0 for statuses the
// filter cannot select.
func statusBit(s revox.OrderStatus) uint8 {
	for i, f := range filterStatuses {
		if f == s {
			return 1 << i
		}
	}
	return 0
}

// listQuery is a validated GET /call query.
type listQuery struct {
	page     int // as sent, FirstPage-based
	pageSize int
	mask     uint8 // 0: no status filter
}

// parseListQuery reads the raw query without building a url.Values, because
// this runs on every request of a load benchmark. It returns a non-empty
// message when the query must be refused with 400. "statuses" may be repeated
// (what the client sends), comma-separated, or spelled "statuses[]"; the
// documentation leaves the array encoding open.
func parseListQuery(raw string, firstPage int) (listQuery, string) {
	var q listQuery
	var havePage, haveSize bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		key, val, _ := strings.Cut(pair, "=")
		key, ok := unescape(key)
		if !ok {
			return q, "malformed query string"
		}
		switch key {
		case "page", "page_size", "statuses", "statuses[]":
		default:
			continue // unknown parameters are ignored, as most APIs do
		}
		val, ok = unescape(val)
		if !ok {
			return q, "malformed query string"
		}
		switch key {
		case "page":
			if havePage {
				continue // the first value wins, as with url.Values.Get
			}
			havePage = true
			n, err := strconv.Atoi(val)
			if err != nil || n < firstPage {
				return q, "page must be an integer >= " + strconv.Itoa(firstPage) + ", got " + strconv.Quote(val)
			}
			q.page = n
		case "page_size":
			if haveSize {
				continue
			}
			haveSize = true
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > MaxPageSize {
				return q, "page_size must be an integer between 1 and " + strconv.Itoa(MaxPageSize) + ", got " + strconv.Quote(val)
			}
			q.pageSize = n
		default:
			for val != "" {
				var one string
				one, val, _ = strings.Cut(val, ",")
				one = strings.TrimSpace(one)
				if one == "" {
					continue // "statuses=" and "a,,b" are read as no value, not as an unknown one
				}
				bit := statusBit(revox.OrderStatus(one))
				if bit == 0 {
					return q, "unknown value in statuses: " + strconv.Quote(one) + " (accepted: " + filterList + ")"
				}
				q.mask |= bit
			}
		}
	}
	switch {
	case !havePage:
		return q, "page is required"
	case !haveSize:
		return q, "page_size is required"
	}
	return q, ""
}

// filterList is the accepted filter values, for error messages.
var filterList = func() string {
	names := make([]string, len(filterStatuses))
	for i, s := range filterStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}()

// unescape decodes a query component, allocating only when it is escaped.
func unescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}
