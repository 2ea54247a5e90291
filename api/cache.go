package api

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// cachedTile is one encoded answer, kept raw and compressed on first demand per
// encoding, so a cache hit costs no compression and a cache-off server compresses
// only what the client asked for.
type cachedTile struct {
	key   string
	ctype string
	etag  string
	raw   []byte

	mu     sync.Mutex
	gz, br []byte
}

// Brotli is cheap at this quality and ~15% smaller than gzip on GeoJSON tiles.
const brotliLevel = 5

// newCachedTile compresses body once (gzip, brotli) and tags it with a content ETag.
func newCachedTile(key, ctype string, body []byte) *cachedTile {
	sum := sha256.Sum256(body)
	return &cachedTile{key: key, ctype: ctype, raw: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
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
// and age out; a zero or negative bound disables the cache.
type byteLRU struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // front = most recently used
	items map[string]*list.Element
}

func newByteLRU(maxBytes int64) *byteLRU {
	return &byteLRU{max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *byteLRU) get(key string) (*cachedTile, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedTile), true
}

func (c *byteLRU) put(t *cachedTile) {
	cost := t.cost()
	if c.max <= 0 || cost > c.max/8 { // one huge tile must not flush the cache
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[t.key]; ok {
		c.size -= e.Value.(*cachedTile).cost()
		e.Value = t
		c.order.MoveToFront(e)
	} else {
		c.items[t.key] = c.order.PushFront(t)
	}
	c.size += cost
	for c.size > c.max {
		last := c.order.Back()
		old := last.Value.(*cachedTile)
		c.order.Remove(last)
		delete(c.items, old.key)
		c.size -= old.cost()
	}
}

// stats returns the entry count and bytes held.
func (c *byteLRU) stats() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.size
}

// tokenCache remembers which user a bearer token belongs to, for tile and OGC
// requests only, so a cached tile costs no token lookup. Migration 006's triggers
// move the auth epoch on every token revocation or user change; every request
// reads the epoch in a query begun after it arrived (the version barrier, or the
// tile query) and a token accepted under an older epoch is checked again, so a
// revoked token fails at the next request. (The listener's sinergi_auth
// notification flushes the cache early too.)
type tokenCache struct {
	mu    sync.Mutex
	gen   uint64 // bumped by every flush; a lookup begun before a flush is not stored
	epoch int64
	users map[[32]byte]geo.User
}

// sync drops the cache when the auth epoch moved.
func (t *tokenCache) sync(epoch int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if epoch > t.epoch { // an older request (smaller epoch) must not undo a newer flush
		t.epoch = epoch
		t.gen++
		t.users = map[[32]byte]geo.User{}
	}
}

// tokenCacheMax bounds the entries; past it the cache starts over.
const tokenCacheMax = 10000

func newTokenCache() *tokenCache { return &tokenCache{users: map[[32]byte]geo.User{}} }

// get returns the cached user of a token, the generation to put with, and the
// auth epoch the cache is at.
func (t *tokenCache) get(key [32]byte) (geo.User, uint64, int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.users[key]
	return u, t.gen, t.epoch, ok
}

func (t *tokenCache) put(key [32]byte, u geo.User, gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if gen != t.gen {
		return
	}
	if len(t.users) >= tokenCacheMax {
		t.users = map[[32]byte]geo.User{}
	}
	t.users[key] = u
}

func (t *tokenCache) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	t.users = map[[32]byte]geo.User{}
}
