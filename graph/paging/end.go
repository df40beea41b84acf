package paging

import (
	"errors"
	"fmt"
)

// ErrListTooLong is returned when the end of the list cannot be found
// within MaxOffset (the upstream keeps returning full pages).
var ErrListTooLong = errors.New("paging: upstream list has no end within reach")

// errEndMoving is returned when the end of the list moves on every round of
// its search (the list changes faster than it can be read, or the upstream
// answers inconsistently): it is out of reach too.
var errEndMoving = fmt.Errorf("%w: it kept moving while it was searched", ErrListTooLong)

// searchProbes is how many single-attempt probes a search round sends at
// once: the loaders run 8 upstream requests of a GraphQL request at a time
// by default (UPSTREAM_CONCURRENCY), so 8 cost one round trip.
const searchProbes = 8

// maxSearchRounds bounds the rounds of one search for the end: a list of
// MaxOffset attempts is found in under 20 by the steps below (117 requests).
const maxSearchRounds = 40

// findEnd returns the length of the list and leaves the attempts of the
// last n of it loaded in f. The upstream reports no total, so the end is
// found by probes:
//
//   - with a remembered length L (Lengths), the first round loads the window
//     before L, the attempt at L and the one at L+n: if the one before L
//     exists and the one at L does not, L is the length and the window is
//     loaded, in one round trip; if the list shrank, or grew, by less than n,
//     the round brackets the end within n and a second loads it with the
//     window;
//   - otherwise (nothing remembered, or the list changed more), rounds of
//     searchProbes single-attempt probes sent in parallel: first at
//     geometrically growing offsets until one is past the end (n-1, 4n-1,
//     16n-1, ... 16,384n-1 in the first round), then evenly inside the
//     bracket (a k-ary search, each round dividing it by 9), until it is at
//     most n wide; a last round loads the bracket with the n attempts
//     before it, which holds the end and the window whichever attempt of the
//     bracket is the last. A list of about 1,000 attempts takes 4 round
//     trips and 24 probes, 10,000 takes 5.
func findEnd(f *fetcher, n, maxSize int, remembered int, ok bool) (int, error) {
	if ok {
		for _, r := range cover(max(0, remembered-n), remembered+1, maxSize, maxWindowPages) {
			f.start(r)
		}
		// The list grows at its head, so the length grows: one attempt n
		// past L brackets a growth of less than n, which the next round
		// then loads with the window.
		f.start(pageRef{remembered + max(n, 1), 1})
		if err := f.round(); err != nil {
			return 0, err
		}
	}
	gallops := 0
	for range maxSearchRounds {
		if t, ok := f.total(); ok {
			if !f.covered(max(0, t-n), t) {
				for _, r := range cover(max(0, t-n), t, maxSize, maxWindowPages) {
					f.start(r)
				}
				if err := f.round(); err != nil {
					return 0, err
				}
			}
			return t, nil
		}
		lo, hi := f.present, f.absent
		switch {
		case hi >= 0 && hi-lo-1 <= n:
			// The bracket is small: load it and the window before it.
			for _, r := range cover(max(0, lo+1-n), hi, maxSize, maxWindowPages) {
				f.start(r)
			}
		case hi >= 0:
			prev := lo
			for i := 1; i <= searchProbes; i++ {
				if off := lo + (hi-lo)*i/(searchProbes+1); off > prev && off < hi {
					f.start(pageRef{off, 1})
					prev = off
				}
			}
		default:
			// Past what is known to exist by n, 4n, 16n, ...: a list that
			// grew a little since its length was remembered is bracketed
			// as fast as one never seen; a gallop that found no end goes
			// on where it stopped (4^8·n, 4^9·n, ...).
			if lo+1 > MaxOffset {
				return 0, ErrListTooLong
			}
			for i := range searchProbes {
				off := MaxOffset + 1
				if e := 2 * (gallops*searchProbes + i); e <= 40 {
					off = min(lo+max(n, 1)<<e, MaxOffset+1)
				}
				f.start(pageRef{off, 1})
				if off > MaxOffset {
					break
				}
			}
			gallops++
		}
		if err := f.round(); err != nil {
			return 0, err
		}
	}
	return 0, errEndMoving
}
