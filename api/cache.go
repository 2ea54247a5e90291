package api

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"sync"

	"github.com/valyala/fasthttp"
)

// cachedTile is one encoded answer, kept raw and compressed on first demand per
// encoding, so a cache hit costs no compression and a cache-off server compresses
// only what the client asked for.
type cachedTile struct {
	key       string
	ctype     string
	etag      string
	etagBytes []byte // etag, for the response header without a conversion
	raw       []byte

	mu     sync.Mutex
	gz, br []byte
}

// Brotli is cheap at this quality and ~15% smaller than gzip on GeoJSON tiles.
const brotliLevel = 5

// newCachedTile compresses body once (gzip, brotli) and tags it with a content ETag.
func newCachedTile(key, ctype string, body []byte) *cachedTile {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return &cachedTile{key: key, ctype: ctype, raw: body, etag: etag, etagBytes: []byte(etag)}
}

// encoded returns the body in encoding enc ("gzip" or "br"), compressing it once.
// Bodies of fewer than 64 bytes go out raw (enc == "").
func (t *cachedTile) encoded(enc string) ([]byte, string) {
	if len(t.raw) < 64 {
		return t.raw, ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch enc {
	case "br":
		if t.br == nil {
			t.br = fasthttp.AppendBrotliBytesLevel(nil, t.raw, brotliLevel)
		}
		return t.br, enc
	case "gzip":
		if t.gz == nil {
			t.gz = fasthttp.AppendGzipBytesLevel(nil, t.raw, fasthttp.CompressDefaultCompression)
		}
		return t.gz, enc
	}
	return t.raw, ""
}

// cost counts the raw body three times: room for its gzip and brotli forms,
// which are filled in later without re-accounting.
func (t *cachedTile) cost() int64 {
	return int64(3*len(t.raw)+len(t.key)+len(t.etag)) + 128
}

// byteLRU is an in-process LRU cache bounded by the bytes it holds. Keys carry
// the layer's data version, so entries of an older version are never hit again
// and age out; a zero or negative bound disables the cache. It is split into
// lruShards shards by key, each an exact LRU with its share of the bytes: a cache
// hit locks one shard, so concurrent hits rarely wait for each other (nor for a
// holder the operating system has descheduled on a busy machine).
type byteLRU struct {
	max    int64
	seed   maphash.Seed
	shards [lruShards]lruShard
}

const lruShards = 16

type lruShard struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // front = most recently used
	items map[string]*list.Element
}

func newByteLRU(maxBytes int64) *byteLRU {
	c := &byteLRU{max: maxBytes, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i] = lruShard{max: maxBytes / lruShards, order: list.New(), items: map[string]*list.Element{}}
	}
	return c
}

func (c *byteLRU) shard(key string) *lruShard {
	return &c.shards[maphash.String(c.seed, key)%lruShards]
}

// get looks key up; it takes bytes so that a hit makes no string.
func (c *byteLRU) get(key []byte) (*cachedTile, bool) {
	if c.max <= 0 {
		return nil, false
	}
	sh := &c.shards[maphash.Bytes(c.seed, key)%lruShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.items[string(key)] // no allocation: the compiler looks up with the bytes
	if !ok {
		return nil, false
	}
	sh.order.MoveToFront(e)
	return e.Value.(*cachedTile), true
}

func (c *byteLRU) put(t *cachedTile) {
	cost := t.cost()
	if c.max <= 0 || cost > c.max/(2*lruShards) { // one huge tile must not flush a shard
		return
	}
	sh := c.shard(t.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.items[t.key]; ok {
		sh.size -= e.Value.(*cachedTile).cost()
		e.Value = t
		sh.order.MoveToFront(e)
	} else {
		sh.items[t.key] = sh.order.PushFront(t)
	}
	sh.size += cost
	for sh.size > sh.max {
		last := sh.order.Back()
		old := last.Value.(*cachedTile)
		sh.order.Remove(last)
		delete(sh.items, old.key)
		sh.size -= old.cost()
	}
}

// stats returns the entry count and bytes held.
func (c *byteLRU) stats() (int, int64) {
	var n int
	var b int64
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.items)
		b += sh.size
		sh.mu.Unlock()
	}
	return n, b
}

// tokenCache remembers which user a bearer token belongs to, for tile and OGC
// requests only, so a cached tile costs no token lookup. Migration 006's triggers
// move the auth epoch on every token revocation or user change; every request
// reads the epoch in a query begun after it arrived (the version barrier, or the
// tile query) and a token accepted under an older epoch is checked again, so a
// revoked token fails at the next request. (The listener's sinergi_auth
// notification flushes the cache early too.)
type tokenCache struct {
	mu       sync.RWMutex // hits only read
	gen      uint64       // bumped by every flush; a lookup begun before a flush is not stored
	epoch    int64
	epochBox any              // epoch as an interface value, made once: a hit stores it in the locals without allocating
	users    map[[32]byte]any // geo.User values, boxed once for the same reason
}

// sync drops the cache when the auth epoch moved.
func (t *tokenCache) sync(epoch int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if epoch > t.epoch { // an older request (smaller epoch) must not undo a newer flush
		t.epoch, t.epochBox = epoch, epoch
		t.gen++
		t.users = map[[32]byte]any{}
	}
}

// tokenCacheMax bounds the entries; past it the cache starts over.
const tokenCacheMax = 10000

func newTokenCache() *tokenCache {
	return &tokenCache{users: map[[32]byte]any{}, epochBox: int64(0)}
}

// get returns the cached user of a token (a boxed geo.User), the generation to
// put with, and the auth epoch the cache is at (a boxed int64).
func (t *tokenCache) get(key [32]byte) (any, uint64, any, bool) {
	t.mu.RLock()
	u, ok := t.users[key]
	gen, epoch := t.gen, t.epochBox
	t.mu.RUnlock()
	return u, gen, epoch, ok
}

func (t *tokenCache) put(key [32]byte, u any, gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if gen != t.gen {
		return
	}
	if len(t.users) >= tokenCacheMax {
		t.users = map[[32]byte]any{}
	}
	t.users[key] = u
}

func (t *tokenCache) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	t.users = map[[32]byte]any{}
}
