package paging

// The upstream pages by number: page i of size s holds the attempts at
// offsets [i·s, (i+1)·s). Any size is accepted, so a window at offset o of
// n attempts need not be cut from fixed pages of the largest size: pages
// whose size aligns with o and n fetch it with little or nothing around it.

// pageRef is one upstream page: index and size.
type pageRef struct{ index, size int }

func (r pageRef) start() int { return r.index * r.size }
func (r pageRef) end() int   { return (r.index + 1) * r.size }

// requestCost is what one more upstream request is worth in attempts
// fetched, when plans are compared: an extra request costs a round trip's
// overhead and a unit of the upstream's rate limit, an extra attempt its
// bytes (up to a few KB with its transcript). It is small so that plans
// fetch little (the goal is at most 1.1 attempts fetched per attempt
// served), and not zero so that of two plans fetching as much the one with
// fewer requests wins. Measured over backward walks of 1,010 attempts with
// last: 20 and hasNextPage, 2 fetches 1.105 attempts per attempt served in
// 86 requests, 1 fetches 1.077 in 101 and 0 fetches 1.050 in 132.
const requestCost = 1

// maxWindowPages bounds the pages of one window, the look-ahead included.
const maxWindowPages = 3

// cover returns at most maxPages pages of at most maxSize attempts each
// that hold the offsets [a, b) with the fewest attempts fetched, each
// request counting requestCost more. The pages are contiguous: the first
// holds a, each next one starts where the previous ends (so its size
// divides that offset), the last reaches b. The best such chain is a
// shortest path over the offsets between a and b, layer by layer, pruned by
// the best chain found so far: a few microseconds at these sizes. A range
// too long for maxPages pages is cut from pages of maxSize. The choice
// depends on a, b, maxSize and maxPages alone, so identical windows make
// identical requests and share them (loader, coalescing, cache).
func cover(a, b, maxSize, maxPages int) []pageRef {
	n := b - a
	switch {
	case n <= 0:
		return nil
	case n > maxPages*maxSize:
		return grid(a, b, maxSize)
	case n <= maxSize && a%n == 0:
		return []pageRef{{a / n, n}} // exactly the range: nothing is cheaper
	}
	// cost[k*n+x] is the fewest attempts of k+1 contiguous pages from the
	// one holding a to offset a+x (0 < x < n); via is the size of the last.
	var buf [2 * maxWindowPages * 128]int
	var cost, via []int
	if 2*maxPages*n <= len(buf) {
		cost, via = buf[:maxPages*n], buf[maxPages*n:2*maxPages*n]
	} else {
		cost, via = make([]int, maxPages*n), make([]int, maxPages*n)
	}
	best := int(^uint(0) >> 1)
	bestK, bestFrom, bestSize := -1, 0, 0
	// reach records a chain of k+1 pages whose last, of size s, starts at
	// a+from and brings the cost to c.
	reach := func(k, from, s, c int) {
		x := from + s
		if x >= n {
			if total := c + requestCost*(k+1); total < best {
				best, bestK, bestFrom, bestSize = total, k, from, s
			}
			return
		}
		if i := k*n + x; cost[i] == 0 || c < cost[i] {
			cost[i], via[i] = c, s
		}
	}
	for s := 1; s <= maxSize; s++ {
		reach(0, a/s*s-a, s, s)
	}
	for k := 0; k+1 < maxPages; k++ {
		for x := 1; x < n; x++ {
			c := cost[k*n+x]
			// The rest costs at least its attempts and one request.
			if c == 0 || c+(n-x)+requestCost*(k+2) >= best {
				continue
			}
			// The next page starts at m: its size divides m. Divisors come
			// in pairs around √m, so at most min(√m, hi) trial divisions.
			m, hi := a+x, min(maxSize, best-c-requestCost*(k+2)-1)
			for d := 1; d <= hi && d*d <= m; d++ {
				if m%d != 0 {
					continue
				}
				reach(k+1, x, d, c+d)
				if e := m / d; e != d && e <= hi {
					reach(k+1, x, e, c+e)
				}
			}
		}
	}
	if bestK < 0 {
		return grid(a, b, maxSize)
	}
	pages := make([]pageRef, bestK+1)
	pages[bestK] = pageRef{(a + bestFrom) / bestSize, bestSize}
	for k, x := bestK-1, bestFrom; k >= 0; k-- {
		s := via[k*n+x]
		pages[k] = pageRef{(a + x - s) / s, s}
		x -= s
	}
	return pages
}

// grid cuts [a, b) from pages of size.
func grid(a, b, size int) []pageRef {
	var out []pageRef
	for i := a / size; i <= (b-1)/size; i++ {
		out = append(out, pageRef{i, size})
	}
	return out
}

// fetched is the number of attempts pages ask for.
func fetched(pages []pageRef) int {
	n := 0
	for _, p := range pages {
		n += p.size
	}
	return n
}

// planWindow returns the pages that load the window [a, e) and, when next
// is set, tell whether an attempt exists at offset e (hasNextPage): either
// pages covering [a, e+1), or those covering [a, e) and a page of one
// attempt at e, whichever fetches less. probe is that page of one, or nil.
// Every page is started at once: the look-ahead costs no round trip.
func planWindow(a, e int, next bool, maxSize int) (pages []pageRef, probe *pageRef) {
	if !next {
		return cover(a, e, maxSize, maxWindowPages), nil
	}
	one := pageRef{e, 1}
	if e <= a {
		return nil, &one
	}
	window := cover(a, e, maxSize, maxWindowPages-1)
	merged := cover(a, e+1, maxSize, maxWindowPages)
	// On a tie, fewer requests; then the page of one, decoded without
	// transcripts (a probe).
	cm, cw := fetched(merged)+requestCost*len(merged), fetched(window)+1+requestCost*(len(window)+1)
	if cm < cw || cm == cw && len(merged) < len(window)+1 {
		return merged, nil
	}
	return window, &one
}

// planPage returns the pages that load page index of size (page mode) and,
// when next is set, tell whether an attempt follows it: the page itself,
// so that it is the same upstream request (loader, coalescing, cache)
// whether hasNextPage is selected or not, and a page of one attempt after
// it; page 0 is instead one page of one attempt more, when that fits.
func planPage(index, size int, next bool, maxSize int) (pages []pageRef, probe *pageRef) {
	switch {
	case !next:
		return []pageRef{{index, size}}, nil
	case index == 0 && size+1 <= maxSize:
		return []pageRef{{0, size + 1}}, nil
	}
	return []pageRef{{index, size}}, &pageRef{(index + 1) * size, 1}
}
