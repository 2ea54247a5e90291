// Package api is Sinergi's HTTP face: a Fiber app with JSON/GeoJSON routes, the
// map page, health and metrics. Handlers are thin: parse, authorise, call geo or
// matching, encode.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/static"
)

// Config holds the server's settings (from flags and environment).
type Config struct {
	// BasemapURL is a Leaflet tile URL template; empty means no basemap.
	BasemapURL         string
	BasemapAttribution string
	RegencyName        string
	// CookieSecure is "auto" (Secure when the request came over HTTPS), "always" or "never".
	CookieSecure string
	// RequestTimeout bounds every request's database work.
	RequestTimeout time.Duration
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int
	// TileCacheBytes bounds the tile cache: 0 = SINERGI_TILE_CACHE_MB or 256 MB, < 0 = off.
	TileCacheBytes int64
	// TileFreshness is "strict" or "notify" (see tileService.trustNotify); empty
	// means SINERGI_TILE_FRESHNESS or strict.
	TileFreshness string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		BasemapURL:         "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
		BasemapAttribution: "© OpenStreetMap contributors",
		RegencyName:        "Kabupaten Bekasi",
		CookieSecure:       "auto",
		RequestTimeout:     15 * time.Second,
		BodyLimit:          200 << 20,
	}
}

// Server is the HTTP service.
type Server struct {
	cfg     Config
	web     *geo.Store // role sinergi_web: cannot read personal data
	owner   *geo.Store // imports only
	log     *slog.Logger
	app     *fiber.App
	limiter *loginLimiter
	reg     *prometheus.Registry
	reqs    *prometheus.CounterVec
	dur     *prometheus.HistogramVec
	tiles   *tileService // tile cache and layer versions (api/tiles.go)
	// metricsByRoute caches each route's metric children (observe).
	metricsByRoute sync.Map // route -> *routeMetrics
}

// New builds the server and its routes.
func New(cfg Config, web, owner *geo.Store, log *slog.Logger) *Server {
	s := &Server{cfg: cfg, web: web, owner: owner, log: log, limiter: newLoginLimiter(10, 5*time.Minute)}
	s.reg = prometheus.NewRegistry()
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sinergi_http_requests_total",
		Help: "HTTP requests by route, method and status."}, []string{"route", "method", "status"})
	s.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sinergi_http_request_duration_seconds",
		Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"})
	s.reg.MustRegister(s.reqs, s.dur)
	s.tiles = newTileService(s, cfg.TileCacheBytes)

	s.app = fiber.New(fiber.Config{
		AppName:               "sinergi",
		ErrorHandler:          s.errorHandler,
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
	})
	s.routes()
	return s
}

// App exposes the Fiber app (tests call App().Test).
func (s *Server) App() *fiber.App { return s.app }

func (s *Server) routes() {
	a := s.app
	// Three middlewares, not seven: each Fiber hop scans the route stack again,
	// and a cached tile costs only a few microseconds in all.
	a.Use(s.frame, s.observe, s.guard)
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))

	// JSON and GeoJSON compress well (the villages layer ~6×); tiles negotiate their own encoding.
	v1 := a.Group("/api/v1", compress.New(compress.Config{Level: compress.LevelBestSpeed}), s.authenticate)
	v1.Get("/config", s.config)
	v1.Post("/login", s.login)
	v1.Post("/logout", allow(anyRole...), s.logout)
	v1.Get("/me", allow(anyRole...), s.me)
	v1.Get("/users", allow(geo.RoleAdmin), s.listUsers)
	v1.Post("/users", allow(geo.RoleAdmin), s.addUser)
	v1.Get("/audit", allow(geo.RoleAdmin), s.audit)
	v1.Get("/villages", allow(geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleGIS), s.villages)
	v1.Get("/boundaries", allow(geo.RolePlanner, geo.RoleGIS), s.boundarySets)
	v1.Post("/boundaries", allow(geo.RoleGIS), s.importBoundaries)
	v1.Get("/boundaries/active", allow(geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleGIS), s.activeBoundaries)
	v1.Get("/boundaries/:id/diff", allow(geo.RolePlanner, geo.RoleGIS), s.boundaryDiff)
	v1.Post("/boundaries/:id/activate", allow(geo.RoleGIS), s.activateBoundaries)
	v1.Get("/villages/:code", allow(geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleGIS), s.villageDetail)
	v1.Get("/weights", allow(geo.RolePlanner), s.getWeights)
	v1.Put("/weights", allow(geo.RolePlanner), s.putWeights)
	v1.Get("/priorities", allow(geo.RolePlanner), s.getPriorities)
	v1.Post("/priorities", allow(geo.RolePlanner), s.postPriorities)
	v1.Get("/companies", allow(geo.RolePlanner, geo.RoleCompany, geo.RoleGIS), s.listCompanies)
	v1.Post("/companies", allow(geo.RolePlanner), s.createCompany)
	v1.Get("/companies/:id", allow(geo.RolePlanner, geo.RoleCompany, geo.RoleGIS), s.getCompany)
	v1.Put("/companies/:id", allow(geo.RolePlanner, geo.RoleCompany), s.updateCompany)
	v1.Delete("/companies/:id", allow(geo.RolePlanner), s.deleteCompany)
	v1.Get("/companies/:id/rings", allow(geo.RolePlanner, geo.RoleCompany), s.companyRings)
	v1.Get("/companies/:id/neighbours", allow(geo.RolePlanner, geo.RoleCompany), s.companyNeighbours)
	v1.Get("/companies/:id/suggestions", allow(geo.RolePlanner, geo.RoleCompany), s.companySuggestions)
	v1.Get("/plans", allow(geo.RolePlanner, geo.RoleCompany, geo.RoleGIS), s.listPlans)
	v1.Post("/plans", allow(geo.RolePlanner, geo.RoleCompany), s.createPlan)
	v1.Post("/plans/:id/approve", allow(geo.RolePlanner), s.approvePlan)
	v1.Post("/plans/:id/status", allow(geo.RolePlanner, geo.RoleCompany), s.planStatus)
	v1.Get("/coverage", allow(geo.RolePlanner), s.coverage)
	v1.Get("/match/rules", allow(geo.RolePlanner), s.listMatchRules)
	v1.Post("/match/rules", allow(geo.RolePlanner), s.addMatchRule)
	v1.Post("/match", allow(geo.RolePlanner), s.match)
	v1.Get("/match/costs", allow(geo.RolePlanner), s.getUnitCosts)
	v1.Put("/match/costs", allow(geo.RolePlanner), s.putUnitCosts)
	v1.Get("/match/:id", allow(geo.RolePlanner), s.getProposal)
	v1.Post("/match/:id/accept", allow(geo.RolePlanner), s.acceptProposal)
	v1.Post("/households/import", allow(geo.RoleGIS), s.importHouseholds)
	v1.Get("/villages/:code/households", allow(geo.RoleOfficer), s.officerHouseholds)
	v1.Post("/villages/select", allow(geo.RolePlanner, geo.RoleGIS), s.selectVillages)
	v1.Get("/jobs/:id", allow(geo.RoleGIS, geo.RoleAdmin), s.getJob)
	v1.Delete("/jobs/:id", allow(geo.RoleGIS, geo.RoleAdmin), s.cancelJob)
	v1.Get("/jobs/:id/rejects.csv", allow(geo.RoleGIS, geo.RoleAdmin), s.jobRejects)
	v1.Get("/boot", s.boot) // config + session in one round trip (api/boot.go)
	v1.Use(func(c *fiber.Ctx) error {
		return problem(fiber.StatusNotFound, "no such API route: "+c.Method()+" "+c.Path())
	})

	s.layerRoutes() // /tiles, /ogc, /api/openapi.json (api/tiles.go)

	s.staticRoutes() // built front-end, precompressed and cache-friendly (api/boot.go)
	if static.Built() {
		// index.html, app.js and app.css keep their names across builds: make browsers revalidate.
		a.Use("/", func(c *fiber.Ctx) error {
			if err := c.Next(); err != nil {
				return err
			}
			if c.Response().StatusCode() == fiber.StatusOK && c.Response().Header.Peek(fiber.HeaderCacheControl) == nil {
				c.Set(fiber.HeaderCacheControl, "no-cache")
			}
			return nil
		}, compress.New(compress.Config{Level: compress.LevelBestSpeed}),
			filesystem.New(filesystem.Config{Root: http.FS(static.FS()), Index: "index.html"}))
	} else {
		a.Get("/", func(c *fiber.Ctx) error {
			c.Type("html")
			return c.SendString(`<!doctype html><meta charset="utf-8"><title>Sinergi</title>` +
				`<p>Halaman peta belum dibangun. Jalankan <code>scripts/demo.sh</code> atau ` +
				`<code>cd static &amp;&amp; npm ci &amp;&amp; npm run build</code>, lalu bangun ulang binari.</p>` +
				`<p>The map page is not built: run <code>scripts/demo.sh</code> or <code>cd static &amp;&amp; npm ci &amp;&amp; npm run build</code> and rebuild the binary.</p>`)
		})
	}
	a.Use(func(c *fiber.Ctx) error { return problem(fiber.StatusNotFound, "not found: "+c.Path()) })
}

// Listen serves on addr until ctx is cancelled, then shuts down gracefully.
func (s *Server) Listen(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { _ = s.ListenLayers(ctx) }() // tile cache invalidation (api/tiles.go)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		s.log.Info("shutting down")
		if err := s.app.ShutdownWithTimeout(20 * time.Second); err != nil {
			return err
		}
		return nil
	}
}

// frame is the outermost middleware: panic recovery, the request id and
// deadline (requestContext), and the security headers.
func (s *Server) frame(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "request_id", requestIDOf(c), "path", c.Path(), "panic", r)
			err = errors.New("panic in handler")
		}
	}()
	return s.requestContext(c)
}

// guard is the innermost common middleware: per-route body limits
// (api/limits.go), the freshness-lease wait after writes (api/refresh.go), and
// database down → 503 (api/dbdown.go).
func (s *Server) guard(c *fiber.Ctx) error {
	if err := s.bodyTooLarge(c); err != nil {
		return err
	}
	err := c.Next()
	s.settleAfterWrite(c)
	return dbUnavailable(c, err)
}

// requestIDs makes request ids: a random per-process prefix and a counter, so an
// id costs no system call and ids of different processes do not collide.
var requestIDs = func() *requestIDSource {
	r := &requestIDSource{}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	r.prefix = hex.EncodeToString(b)
	return r
}()

type requestIDSource struct {
	prefix string
	n      atomic.Uint64
}

func (r *requestIDSource) next() string {
	b := make([]byte, 0, 26)
	b = append(b, r.prefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, r.n.Add(1), 36)
	return string(b)
}

// requestContext gives each request an id and a context with a timeout that every
// query inherits.
func (s *Server) requestContext(c *fiber.Ctx) error {
	ctx := &lazyDeadline{deadline: time.Now().Add(s.cfg.RequestTimeout)}
	id := c.Request().Header.PeekBytes(hdrRequestIDKey)
	if len(id) == 0 || len(id) > 64 {
		ctx.id = requestIDs.next()
	} else {
		ctx.id = string(id)
	}
	// The context is a pointer: storing it in the locals costs no allocation.
	c.Locals(localRequestID, ctx)
	c.Response().Header.SetCanonical(hdrRequestIDKey, []byte(ctx.id))
	defer ctx.release()
	c.SetUserContext(ctx)
	securityHeaders(c)
	return c.Next()
}

var hdrRequestIDKey = []byte("X-Request-Id")

// LogValue makes a log attribute holding the request's context (its locals
// entry) log the request id.
func (l *lazyDeadline) LogValue() slog.Value { return slog.StringValue(l.id) }

// requestIDOf returns the request's id (empty outside requestContext).
func requestIDOf(c *fiber.Ctx) string {
	if l, ok := c.Locals(localRequestID).(*lazyDeadline); ok {
		return l.id
	}
	return ""
}

// lazyDeadline is a request's context: it ends at deadline, or when the request
// is done, like context.WithTimeout, but makes its timer only once something
// waits on it (Done, Err, AfterFunc): an answer from a cache never does.
type lazyDeadline struct {
	id       string // the request id, kept here to save an allocation per request
	deadline time.Time
	once     sync.Once
	ctx      context.Context
	cancel   context.CancelFunc
}

// requestDone is the context of a request that has ended.
var requestDone = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

func (l *lazyDeadline) init() {
	l.once.Do(func() { l.ctx, l.cancel = context.WithDeadline(context.Background(), l.deadline) })
}

func (l *lazyDeadline) Deadline() (time.Time, bool) { return l.deadline, true }
func (l *lazyDeadline) Done() <-chan struct{}       { l.init(); return l.ctx.Done() }
func (l *lazyDeadline) Err() error                  { l.init(); return l.ctx.Err() }
func (l *lazyDeadline) Value(any) any               { return nil }

// AfterFunc lets contexts derived from this one cancel without a goroutine each
// (the context package looks for this method).
func (l *lazyDeadline) AfterFunc(f func()) func() bool {
	l.init()
	return context.AfterFunc(l.ctx, f)
}

// release ends the context when the request is done.
func (l *lazyDeadline) release() {
	l.once.Do(func() { l.ctx = requestDone })
	if l.cancel != nil {
		l.cancel()
	}
}

func securityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	// Canonical names set as is: no per-request normalisation.
	h.SetCanonical(hdrNosniffKey, hdrNosniffVal)
	h.SetCanonical(hdrFrameKey, hdrFrameVal)
	h.SetCanonical(hdrReferrerKey, hdrReferrerVal)
	h.SetCanonical(hdrCSPKey, hdrCSPVal)
}

var (
	hdrNosniffKey, hdrNosniffVal   = []byte("X-Content-Type-Options"), []byte("nosniff")
	hdrFrameKey, hdrFrameVal       = []byte("X-Frame-Options"), []byte("DENY")
	hdrReferrerKey, hdrReferrerVal = []byte("Referrer-Policy"), []byte("same-origin")
	hdrCSPKey, hdrCSPVal           = []byte("Content-Security-Policy"),
		[]byte("default-src 'self'; img-src 'self' data: https: http:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
)

// routeMetrics are a route's metric children, resolved once: a request then
// costs two atomic adds instead of label hashing and lookups.
type routeMetrics struct {
	dur    prometheus.Observer
	counts sync.Map // methodStatus -> prometheus.Counter
}

type methodStatus struct {
	method string
	status int
}

func (s *Server) routeMetrics(route string) *routeMetrics {
	if m, ok := s.metricsByRoute.Load(route); ok {
		return m.(*routeMetrics)
	}
	m, _ := s.metricsByRoute.LoadOrStore(route, &routeMetrics{dur: s.dur.WithLabelValues(route)})
	return m.(*routeMetrics)
}

func (m *routeMetrics) count(s *Server, route, method string, status int) prometheus.Counter {
	k := methodStatus{method, status}
	if c, ok := m.counts.Load(k); ok {
		return c.(prometheus.Counter)
	}
	// c.Method() aliases fasthttp's reused buffer: a key kept in the map must own its bytes.
	k.method = strings.Clone(method)
	c, _ := m.counts.LoadOrStore(k, s.reqs.WithLabelValues(route, k.method, strconv.Itoa(status)))
	return c.(prometheus.Counter)
}

// observe logs one JSON line per request (no personal data: no query strings, no
// bodies) and records metrics. The attributes are typed (no reflection) and the
// metric children cached per route; with a LogHandler (cmd/sinergi serve) the line
// is written without a slog.Record.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	route := c.Route().Path
	path := c.Path()
	if route == "/" && path != "/" {
		route = "static"
	}
	now := time.Now()
	d := now.Sub(start)
	m := s.routeMetrics(route)
	method := c.Method()
	m.count(s, route, method, status).Inc()
	m.dur.Observe(d.Seconds())
	h := s.log.Handler()
	if !h.Enabled(context.Background(), slog.LevelInfo) {
		return nil
	}
	line := requestLine{id: requestIDOf(c), method: method, path: path, status: status,
		durationUS: d.Microseconds(), bytes: len(c.Response().Body())}
	u, signedIn := currentUser(c)
	if signedIn {
		line.user, line.role = u.Name, string(u.Role)
	}
	if lh, ok := h.(*LogHandler); ok && lh.request(now, &line, signedIn) {
		return nil
	}
	attrs := [8]slog.Attr{slog.String("request_id", line.id), slog.String("method", method), slog.String("path", path),
		slog.Int("status", status), slog.Int64("duration_us", line.durationUS), slog.Int("bytes", line.bytes)}
	n := 6
	if signedIn {
		attrs[6], attrs[7] = slog.String("user", line.user), slog.String("role", line.role)
		n = 8
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs[:n]...)
	return nil
}

// requestLine is observe's log line.
type requestLine struct {
	id, method, path, user, role string
	status, bytes                int
	durationUS                   int64
}

// LogHandler is slog's JSON handler plus a fast path for observe's per-request
// line: the same JSON, appended directly into a pooled buffer and written in one
// Write, without a slog.Record (whose stack walk for the source position and
// per-attribute handling cost more than the rest of a cached tile answer).
type LogHandler struct {
	*slog.JSONHandler
	w     io.Writer
	level slog.Leveler
}

// NewLogHandler returns a LogHandler writing JSON lines to w (one Write per
// line, as slog's JSONHandler does).
func NewLogHandler(w io.Writer, opts *slog.HandlerOptions) *LogHandler {
	var level slog.Leveler = slog.LevelInfo
	if opts != nil && opts.Level != nil {
		level = opts.Level
	}
	if opts != nil && (opts.AddSource || opts.ReplaceAttr != nil) {
		// The fast path cannot honour these: leave everything to slog.
		return &LogHandler{JSONHandler: slog.NewJSONHandler(w, opts)}
	}
	return &LogHandler{JSONHandler: slog.NewJSONHandler(w, opts), w: w, level: level}
}

var logLinePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// request writes line as slog's JSONHandler would, or reports false (the caller
// then logs through slog) when a string needs JSON escaping or the options ask
// for more than the fast path does.
func (h *LogHandler) request(now time.Time, line *requestLine, user bool) bool {
	if h.w == nil || !plainJSON(line.id) || !plainJSON(line.method) || !plainJSON(line.path) ||
		(user && (!plainJSON(line.user) || !plainJSON(line.role))) {
		return false
	}
	if y := now.Year(); y < 0 || y >= 10000 {
		return false
	}
	bp := logLinePool.Get().(*[]byte)
	b := append((*bp)[:0], `{"time":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","request_id":"`...)
	b = append(b, line.id...)
	b = append(b, `","method":"`...)
	b = append(b, line.method...)
	b = append(b, `","path":"`...)
	b = append(b, line.path...)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(line.status), 10)
	b = append(b, `,"duration_us":`...)
	b = strconv.AppendInt(b, line.durationUS, 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(line.bytes), 10)
	if user {
		b = append(b, `,"user":"`...)
		b = append(b, line.user...)
		b = append(b, `","role":"`...)
		b = append(b, line.role...)
		b = append(b, '"')
	}
	b = append(b, "}\n"...)
	_, _ = h.w.Write(b)
	*bp = b
	logLinePool.Put(bp)
	return true
}

// plainJSON reports whether s goes into a JSON string as is (printable ASCII,
// no quote or backslash).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	if err := s.web.Ready(ctx); err != nil {
		detail := "database unreachable"
		if errors.Is(err, geo.ErrNotMigrated) {
			detail = err.Error()
		}
		s.log.Warn("not ready", "err", err)
		return problem(fiber.StatusServiceUnavailable, detail)
	}
	return c.JSON(fiber.Map{"status": "ready", "schema_version": geo.LatestVersion()})
}

func (s *Server) config(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{
		"basemap_url":         s.cfg.BasemapURL,
		"basemap_attribution": s.cfg.BasemapAttribution,
		"regency_name":        s.regencyName(c),
	})
}

// regencyName is the regency the database describes (set by the demo), else the
// configured one.
func (s *Server) regencyName(c *fiber.Ctx) string {
	if n, err := s.web.Meta(c.UserContext(), geo.MetaRegencyName); err == nil && n != "" {
		return n
	}
	return s.cfg.RegencyName
}
