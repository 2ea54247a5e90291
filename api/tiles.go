package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// defaultTileCacheBytes bounds the tile cache when neither Config nor the
// environment says otherwise.
const defaultTileCacheBytes = 256 << 20

// layerRoles may read at least one layer; each layer narrows it further.
var layerRoles = []geo.Role{geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleGIS}

// tileService holds the tile cache and the layers' data versions, which the
// LISTEN/NOTIFY listener keeps current (it implements geo.LayerListener).
type tileService struct {
	srv   *Server
	cache *byteLRU

	mu       sync.RWMutex
	versions map[string]int64
	live     bool // the listener is connected: versions lag commits only by NOTIFY delivery

	tokens  *tokenCache
	barrier *versionBarrier

	needMu   sync.Mutex
	needDone int64 // need layer version the need grid was last refreshed to

	// trustNotify skips the version barrier on cache hits while the listener is
	// connected (SINERGI_TILE_FRESHNESS=notify): a change is seen once its NOTIFY
	// arrived — typically well under a millisecond after commit, yet a request in
	// that window gets the old tile. The default, strict, never does: it trusts
	// the barrier's freshness lease, which costs a hit no more than notify does
	// (one version read per geo.FreshnessLease/2 while tiles are asked for).
	trustNotify bool

	hits, misses prometheus.Counter
}

// newTileService sizes the cache from SINERGI_TILE_CACHE_MB (0 disables it, for
// the cold benchmark) unless cacheBytes says otherwise (> 0: bytes, < 0: off).
func newTileService(s *Server, cacheBytes int64) *tileService {
	if cacheBytes == 0 {
		cacheBytes = defaultTileCacheBytes
		if v := os.Getenv("SINERGI_TILE_CACHE_MB"); v != "" {
			if mb, err := strconv.ParseInt(v, 10, 64); err == nil {
				cacheBytes = mb << 20
			} else {
				s.log.Warn("SINERGI_TILE_CACHE_MB is not a number; using the default", "value", v)
			}
		}
	}
	t := &tileService{srv: s, cache: newByteLRU(cacheBytes), versions: map[string]int64{}, tokens: newTokenCache(),
		barrier: &versionBarrier{store: s.web}}
	f := s.cfg.TileFreshness
	if f == "" {
		f = os.Getenv("SINERGI_TILE_FRESHNESS")
	}
	switch f {
	case "", "strict":
	case "notify":
		t.trustNotify = true
	default:
		s.log.Warn("SINERGI_TILE_FRESHNESS must be strict or notify; using strict", "value", f)
	}
	t.hits = prometheus.NewCounter(prometheus.CounterOpts{Name: "sinergi_tile_cache_hits_total", Help: "Tile cache hits."})
	t.misses = prometheus.NewCounter(prometheus.CounterOpts{Name: "sinergi_tile_cache_misses_total", Help: "Tile cache misses."})
	s.reg.MustRegister(t.hits, t.misses, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sinergi_tile_cache_bytes", Help: "Bytes held by the tile cache."},
		func() float64 { _, b := t.cache.stats(); return float64(b) }))
	return t
}

// ListenLayers keeps the tile cache in step with layer changes made by any
// process (LISTEN sinergi_layers) until ctx ends. Serve runs it; tests call it
// directly. Until it is connected, every tile request reads the version from
// the database instead.
func (s *Server) ListenLayers(ctx context.Context) error {
	go s.RefreshLease(ctx)
	return s.web.ListenLayers(ctx, s.tiles)
}

// RefreshLease keeps the freshness lease of layer versions current while
// requests use it (geo.FreshnessLease), until ctx ends. ListenLayers runs it.
func (s *Server) RefreshLease(ctx context.Context) { s.tiles.barrier.refreshLease(ctx) }

// LayersLive reports whether the layer listener is connected.
func (s *Server) LayersLive() bool {
	s.tiles.mu.RLock()
	defer s.tiles.mu.RUnlock()
	return s.tiles.live
}

// LayersConnected implements geo.LayerListener.
func (t *tileService) LayersConnected(v map[string]int64) {
	t.tokens.flush()
	t.mu.Lock()
	t.versions, t.live = v, true
	t.mu.Unlock()
	t.srv.web.ForgetLayerSources()
	t.srv.log.Info("layer listener connected", "versions", v)
	go t.refreshNeed(context.Background())
}

// LayerChanged implements geo.LayerListener.
func (t *tileService) LayerChanged(layer string, version int64) {
	t.mu.Lock()
	if version > t.versions[layer] {
		t.versions[layer] = version
	}
	t.mu.Unlock()
	if layer == geo.LayerDesa {
		t.srv.web.ForgetLayerSources() // a score run or migration may add score columns
	}
	if layer == geo.LayerNeed {
		go t.refreshNeed(context.Background())
	}
}

// LayersDisconnected implements geo.LayerListener.
func (t *tileService) LayersDisconnected(err error) {
	t.mu.Lock()
	t.live = false
	t.mu.Unlock()
	t.tokens.flush()
	t.srv.log.Warn("layer listener disconnected; reading layer versions per request", "err", err)
}

// AuthChanged implements geo.LayerListener: a token was revoked or a user changed.
func (t *tileService) AuthChanged() { t.tokens.flush() }

func bearer(c *fiber.Ctx) (string, bool) {
	tok, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	return strings.TrimSpace(tok), ok
}

// ogcAuthenticate authenticates OGC requests: bearer tokens come from the token
// cache after the version barrier confirmed the auth epoch (see tokenCache);
// session cookies go to authenticate, since sessions expire.
func (s *Server) ogcAuthenticate(c *fiber.Ctx) error {
	tok, ok := bearer(c)
	if !ok {
		return s.authenticate(c)
	}
	v, err := s.tiles.barrier.read(c.UserContext())
	if err != nil {
		return err
	}
	c.Locals(localVersions, v)
	s.tiles.tokens.sync(v.AuthEpoch)
	return s.tokenAuth(c, tok)
}

// tileGate authenticates tile requests and lets layer roles through (allow, in
// one hop: a cached tile costs a few microseconds, each middleware hop a route
// scan). Bearer tokens come from the token cache as of the newest auth epoch
// this process knows, and the tile handler confirms that epoch with a read
// vouched for after the request arrived (the version barrier on a cache hit,
// the tile query itself on a miss) — so a cache miss costs one query, like a
// bare tile server, and a revoked token never gets a tile.
func (s *Server) tileGate(c *fiber.Ctx) error {
	var err error
	if tok, ok := bearer(c); ok {
		err = s.tokenUser(c, tok)
	} else {
		err = s.authUser(c)
	}
	if err == nil {
		err = checkRole(c, layerRoles)
	}
	if err != nil {
		return err
	}
	return c.Next()
}

func (s *Server) tokenAuth(c *fiber.Ctx, tok string) error {
	if err := s.tokenUser(c, tok); err != nil {
		return err
	}
	return c.Next()
}

// tokenUser signs the request in with a bearer token, from the token cache
// when it holds the token.
func (s *Server) tokenUser(c *fiber.Ctx, tok string) error {
	key := sha256.Sum256([]byte(tok))
	boxed, gen, epoch, ok := s.tiles.tokens.get(key)
	if ok {
		c.Locals(localAuthEpoch, epoch)
	} else {
		u, err := s.web.UserByToken(c.UserContext(), tok)
		if errors.Is(err, geo.ErrUnauthenticated) {
			return problem(fiber.StatusUnauthorized, "token tidak valid atau sudah dicabut (invalid or revoked token)")
		}
		if err != nil {
			return err
		}
		boxed = u // boxed once here, then stored as is by every hit
		s.tiles.tokens.put(key, boxed, gen)
	}
	c.Locals(localUser, boxed)
	return nil
}

// confirmAuth checks a token accepted from the cache again, in the database,
// when a read begun after the request arrived shows the auth epoch moved since.
// It reports whether the user's role or company changed (the caller then starts
// over with the new viewer).
func (s *Server) confirmAuth(c *fiber.Ctx, fresh int64) (bool, error) {
	e, ok := c.Locals(localAuthEpoch).(int64)
	if !ok || fresh <= e {
		return false, nil
	}
	s.tiles.tokens.sync(fresh)
	c.Locals(localAuthEpoch, nil)
	tok, _ := bearer(c)
	u, err := s.web.UserByToken(c.UserContext(), tok)
	if errors.Is(err, geo.ErrUnauthenticated) {
		return false, problem(fiber.StatusUnauthorized, "token tidak valid atau sudah dicabut (invalid or revoked token)")
	}
	if err != nil {
		return false, err
	}
	old, _ := currentUser(c)
	c.Locals(localUser, u)
	return geo.ViewerOf(old) != geo.ViewerOf(u), nil
}

// authEpochOfLocal returns the auth epoch the request already read through the
// barrier (0 when it did not).
func (t *tileService) authEpochOfLocal(c *fiber.Ctx) int64 {
	if v, _ := c.Locals(localVersions).(*geo.Versions); v != nil {
		return v.AuthEpoch
	}
	return 0
}

// versionsOf returns the versions the request read through the barrier (reading
// them now if it did not yet). They are shared: read only.
func (t *tileService) versionsOf(c *fiber.Ctx) (*geo.Versions, error) {
	if v, ok := c.Locals(localVersions).(*geo.Versions); ok {
		return v, nil
	}
	v, err := t.barrier.read(c.UserContext())
	if err == nil {
		c.Locals(localVersions, v)
	}
	return v, err
}

// refreshNeed rebuilds the need grid with the owner store when the need layer
// moved past the last build. The web role cannot read household locations, so a
// server without an owner store serves whatever grid the CLI built.
func (t *tileService) refreshNeed(ctx context.Context) {
	if t.srv.owner == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	t.mu.RLock()
	want := t.versions[geo.LayerNeed]
	t.mu.RUnlock()
	if err := t.ensureNeed(ctx, want); err != nil {
		t.srv.log.Error("need grid refresh failed", "err", err)
	}
}

// ensureNeed rebuilds the need grid unless it was already built from version want.
func (t *tileService) ensureNeed(ctx context.Context, want int64) error {
	if t.srv.owner == nil {
		return nil
	}
	t.needMu.Lock()
	defer t.needMu.Unlock()
	if want <= t.needDone {
		return nil
	}
	r, err := t.srv.owner.RefreshNeedCells(ctx)
	if err != nil {
		return err
	}
	t.needDone = r.Version
	if r.Refreshed {
		t.srv.log.Info("need grid refreshed", "version", r.Version, "cells", r.Cells)
	}
	return nil
}

// tileRequest is a parsed /tiles/{layer}/{z}/{x}/{y}.{ext}.
type tileRequest struct {
	layer  geo.Layer
	coord  geo.TileCoord
	format geo.TileFormat
}

func parseTileRequest(layer, z, x, yext string) (tileRequest, error) {
	var r tileRequest
	l, ok := geo.LayerByName(layer)
	if !ok {
		return r, problem(fiber.StatusNotFound, fmt.Sprintf("lapisan %q tidak ada (unknown layer %q; layers: %s)", layer, layer, layerNames()))
	}
	y, ext, ok := strings.Cut(yext, ".")
	if !ok {
		return r, problem(fiber.StatusBadRequest, "alamat petak perlu ekstensi .geojson atau .mvt (tile URL needs a .geojson or .mvt extension)")
	}
	switch ext {
	case "geojson", "json":
		r.format = geo.FormatGeoJSON
	case "mvt", "pbf":
		r.format = geo.FormatMVT
	default:
		return r, problem(fiber.StatusBadRequest, fmt.Sprintf("format petak %q tidak didukung; pakai .geojson atau .mvt (tile format %q unsupported; use .geojson or .mvt)", ext, ext))
	}
	nums := [3]int{}
	for i, s := range []string{z, x, y} {
		n, err := strconv.Atoi(s)
		if err != nil || len(s) > 8 {
			return r, problem(fiber.StatusBadRequest, fmt.Sprintf("z/x/y harus bilangan bulat, bukan %q (z/x/y must be integers, not %q)", s, s))
		}
		nums[i] = n
	}
	r.layer, r.coord = l, geo.TileCoord{Z: nums[0], X: nums[1], Y: nums[2]}
	if err := r.coord.Valid(); err != nil {
		return r, problem(fiber.StatusBadRequest, "petak di luar jangkauan ("+err.Error()+")")
	}
	if r.coord.Z < l.MinZoom || r.coord.Z > l.MaxZoom {
		return r, problem(fiber.StatusBadRequest, fmt.Sprintf("lapisan %s tersedia pada zoom %d–%d (layer %s is served at zoom %d–%d, not %d)",
			l.Name, l.MinZoom, l.MaxZoom, l.Name, l.MinZoom, l.MaxZoom, r.coord.Z))
	}
	return r, nil
}

func layerNames() string {
	var names []string
	for _, l := range geo.Layers() {
		names = append(names, l.Name)
	}
	return strings.Join(names, ", ")
}

// viewerFor returns the signed-in viewer, or 403 when the role may not read l.
func viewerFor(c *fiber.Ctx, l geo.Layer) (geo.Viewer, error) {
	u, _ := currentUser(c)
	if !l.Allowed(u.Role) {
		return geo.Viewer{}, problem(fiber.StatusForbidden, fmt.Sprintf("peran %s tidak boleh membaca lapisan %s (role %s may not read layer %s)", u.Role, l.Name, u.Role, l.Name))
	}
	return geo.ViewerOf(u), nil
}

// tile serves GET /tiles/{layer}/{z}/{x}/{y}.geojson|.mvt from the cache, or
// renders it in PostGIS and caches it under the data version it was read at.
//
// Freshness: a cached tile is served only under versions the version barrier
// vouches for — its freshness lease (a read sent less than geo.FreshnessLease
// ago; every writer waits that long after committing before it reports success)
// or else a read begun after the request arrived — so a change reported to any
// client by any process is always seen. A tile that is not cached under the
// version this process knows is rendered at once: its query reads the data and
// the version in one snapshot, which is fresh by construction.
func (s *Server) tile(c *fiber.Ctx) error {
	return s.serveTile(c, true)
}

func (s *Server) serveTile(c *fiber.Ctx, retry bool) error {
	req, err := parseTileRequest(c.Params("layer"), c.Params("z"), c.Params("x"), c.Params("y"))
	if err != nil {
		return err
	}
	viewer, err := viewerFor(c, req.layer)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	t := s.tiles
	vis := viewer.Visibility()
	// The key is built on the stack; a hit looks it up without making a string.
	var kb [96]byte
	keyOf := func(v int64) []byte {
		b := append(kb[:0], req.layer.Name...)
		b = append(append(b, '/'), req.format...)
		b = append(strconv.AppendInt(append(b, '/'), int64(req.coord.Z), 10), '/')
		b = append(strconv.AppendInt(b, int64(req.coord.X), 10), '/')
		b = append(strconv.AppendInt(b, int64(req.coord.Y), 10), '/')
		b = append(strconv.AppendInt(b, v, 10), '/')
		return append(b, vis...)
	}
	// restart re-runs the request once when the user's role or company changed.
	restart := func(changed bool, err error) (bool, error) {
		if err != nil || !changed {
			return false, err
		}
		if !retry {
			return false, problem(fiber.StatusConflict, "hak akses berubah; ulangi permintaan (access changed; retry)")
		}
		return true, s.serveTile(c, false)
	}

	t.mu.RLock()
	version, fresh, live := req.layer.DataVersion(t.versions), false, t.live
	t.mu.RUnlock()
	confirm := func() error {
		vs, err := t.versionsOf(c)
		if err != nil {
			return err
		}
		version, fresh = req.layer.DataVersion(vs.Layers), true
		if req.layer.Name == geo.LayerNeed {
			return t.ensureNeed(ctx, vs.Layers[geo.LayerNeed])
		}
		return nil
	}
	if req.layer.Name == geo.LayerNeed || !live {
		if err := confirm(); err != nil {
			return err
		}
	}
	ct, ok := t.cache.get(keyOf(version))
	if ok && !fresh && !t.trustNotify {
		known := version
		if err := confirm(); err != nil {
			return err
		}
		if version != known {
			ct, ok = t.cache.get(keyOf(version))
		}
	}
	if ok {
		if again, err := restart(s.confirmAuth(c, t.authEpochOfLocal(c))); again || err != nil {
			return err
		}
		t.hits.Inc()
		return sendCached(c, ct)
	}
	t.misses.Inc()
	tile, err := s.web.Tile(ctx, req.layer, req.coord, req.format, viewer)
	if err != nil {
		return err
	}
	if again, err := restart(s.confirmAuth(c, tile.AuthEpoch)); again || err != nil {
		return err
	}
	ctype := "application/geo+json"
	if req.format == geo.FormatMVT {
		ctype = "application/vnd.mapbox-vector-tile"
	}
	// Cache under the version the features were read at: if a change landed
	// between the version check and the query, this entry is simply never hit.
	ct = newCachedTile(string(keyOf(tile.Version)), ctype, tile.Body)
	t.cache.put(ct)
	return sendCached(c, ct)
}

// sendCached answers with an ETag (304 when it matches), no shared caching and
// the best encoding the client accepts. Header names are set in canonical form
// as is (no per-request normalisation).
func sendCached(c *fiber.Ctx, ct *cachedTile) error {
	rh := &c.Response().Header
	rh.SetCanonical(hdrETag, ct.etagBytes)
	// Answers depend on who asks and change whenever the data does: browsers may
	// keep them but must revalidate (cheap: 304).
	rh.SetCanonical(hdrCacheControl, hdrCacheControlVal)
	rh.SetCanonical(hdrVary, hdrVaryVal)
	h := &c.Request().Header
	if inm := h.PeekBytes(hdrIfNoneMatch); len(inm) != 0 && etagMatches(string(inm), ct.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	rh.SetContentType(ct.ctype)
	want := ""
	switch {
	case h.HasAcceptEncoding("br"):
		want = "br"
	case h.HasAcceptEncoding("gzip"):
		want = "gzip"
	}
	body, enc := ct.encoded(want)
	if enc != "" {
		rh.SetContentEncoding(enc)
	}
	return c.Send(body)
}

var (
	hdrETag, hdrIfNoneMatch             = []byte(fiber.HeaderETag), []byte(fiber.HeaderIfNoneMatch)
	hdrCacheControl, hdrCacheControlVal = []byte(fiber.HeaderCacheControl), []byte("private, no-cache")
	hdrVary, hdrVaryVal                 = []byte(fiber.HeaderVary), []byte("Authorization, Cookie, Accept-Encoding")
)

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		if p == "*" || strings.TrimPrefix(p, "W/") == etag {
			return true
		}
	}
	return false
}

// tileJSON serves GET /tiles/{layer}.json (TileJSON 3.0.0).
func (s *Server) tileJSON(c *fiber.Ctx) error {
	name, ok := strings.CutSuffix(c.Params("file"), ".json")
	if !ok {
		return problem(fiber.StatusNotFound, "not found: "+c.Path()+" (TileJSON is /tiles/{layer}.json)")
	}
	l, ok := geo.LayerByName(name)
	if !ok {
		return problem(fiber.StatusNotFound, fmt.Sprintf("lapisan %q tidak ada (unknown layer %q; layers: %s)", name, name, layerNames()))
	}
	viewer, err := viewerFor(c, l)
	if err != nil {
		return err
	}
	b, ok, err := s.web.LayerExtent(c.UserContext(), l, viewer)
	if err != nil {
		return err
	}
	bounds := []float64{-180, -85.0511, 180, 85.0511}
	center := []float64{0, 0, float64(l.MinZoom)}
	if ok {
		bounds = []float64{b.Min.X(), b.Min.Y(), b.Max.X(), b.Max.Y()}
		c := b.Center()
		center = []float64{c.X(), c.Y(), float64(max(l.MinZoom, min(10, l.MaxZoom)))}
	}
	fields := map[string]string{}
	for k, v := range l.Fields {
		fields[k] = v
	}
	if l.Name == geo.LayerDesa {
		for _, f := range s.web.ScoreFields() {
			fields[f] = "skor kebutuhan (need score)"
		}
	}
	base := c.BaseURL() + "/tiles/" + l.Name + "/{z}/{x}/{y}"
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return c.JSON(fiber.Map{
		"tilejson":    "3.0.0",
		"name":        l.Title,
		"description": l.Description,
		"version":     "1.0.0",
		"attribution": "Bapeda Kabupaten Bekasi (Sinergi)",
		"scheme":      "xyz",
		"tiles":       []string{base + ".mvt"},
		"minzoom":     l.MinZoom,
		"maxzoom":     l.MaxZoom,
		"bounds":      bounds,
		"center":      center,
		"vector_layers": []fiber.Map{{
			"id": l.Name, "description": l.Description, "minzoom": l.MinZoom, "maxzoom": l.MaxZoom, "fields": fields,
		}},
		// Not in TileJSON: the same tiles as GeoJSON, for Leaflet.
		"geojson_tiles": []string{base + ".geojson"},
	})
}

// layerRoutes adds the tile, OGC API Features and OpenAPI routes (called from routes()).
func (s *Server) layerRoutes() {
	a := s.app
	t := a.Group("/tiles", s.tileGate)
	t.Get("/:file", s.tileJSON)
	t.Get("/:layer/:z/:x/:y", s.tile)
	s.ogcRoutes()
	a.Get("/api/openapi.json", s.openAPI)
}

// errLayer maps geo's layer errors to problems.
func errLayer(err error) error {
	switch {
	case errors.Is(err, geo.ErrLayerForbidden):
		return problem(fiber.StatusForbidden, "peran ini tidak boleh membaca lapisan ini (this role may not read this layer)")
	case errors.Is(err, geo.ErrNoFeature):
		return problem(fiber.StatusNotFound, "fitur tidak ditemukan (no such feature)")
	}
	return err
}
