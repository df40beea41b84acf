package gateway

import (
	"bytes"
	"hash/maphash"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Bounds of the answer cache: answers up to maxCachedAnswer bytes are held
// whole to be compressed at once and remembered, answerCacheEntries of
// them, so at most about 10 MiB. The keys of the last answerSeenEntries
// answers tell which are seen twice; no more than twice the entries, so
// that answers repeating in a cycle longer than the cache holds (a client
// walking many pages) are not remembered only to be evicted unused: with
// 1,024 keys, 64 pages asked in turn with gzip cost 29% more CPU per
// request than identity instead of 12% (go run ./bench/wire).
const (
	maxCachedAnswer    = 512 << 10
	answerCacheEntries = 16
	answerSeenEntries  = 2 * answerCacheEntries
)

// answerCache remembers the last answers compressed in each coding, so
// that identical answers are compressed once: many clients polling one
// query, requests sharing one upstream page (coalescing, CACHE_TTL) get the
// same bytes, and compressing a full 100-attempt page costs about as much
// CPU as producing it. An answer is remembered the second time it is seen,
// so that answers that never repeat (distinct pages) cost no memory kept.
// It is served from the cache only when its bytes equal the remembered
// ones, never on a hash alone, so no answer can go to a request that did
// not produce the same bytes itself.
type answerCache struct {
	seed    maphash.Seed
	entries *lru.Cache[answerKey, cachedAnswer]
	seen    *lru.Cache[answerKey, struct{}]
}

type answerKey struct {
	coding contentCoding
	size   int
	hash   uint64
}

type cachedAnswer struct {
	identity, encoded []byte
}

func newAnswerCache() *answerCache {
	entries, err := lru.New[answerKey, cachedAnswer](answerCacheEntries)
	if err != nil {
		panic("gateway: answer cache: " + err.Error()) // only for a size < 1
	}
	seen, err := lru.New[answerKey, struct{}](answerSeenEntries)
	if err != nil {
		panic("gateway: answer cache: " + err.Error())
	}
	return &answerCache{seed: maphash.MakeSeed(), entries: entries, seen: seen}
}

// lookup returns the encoded form of identity when remembered, else
// whether an answer with its key was seen before (and notes this one).
func (c *answerCache) lookup(coding contentCoding, identity []byte) (key answerKey, encoded []byte, hit, seenBefore bool) {
	key = answerKey{coding: coding, size: len(identity), hash: maphash.Bytes(c.seed, identity)}
	if a, ok := c.entries.Get(key); ok && bytes.Equal(a.identity, identity) {
		return key, a.encoded, true, true
	}
	seenBefore, _ = c.seen.ContainsOrAdd(key, struct{}{})
	return key, nil, false, seenBefore
}

// add remembers encoded as the form of identity; both are kept as they
// are, never written to again.
func (c *answerCache) add(key answerKey, identity, encoded []byte) {
	c.entries.Add(key, cachedAnswer{identity: identity, encoded: encoded})
}
