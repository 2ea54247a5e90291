// Package api is Sinergi's HTTP face: a Fiber app with JSON/GeoJSON routes, the
// map page, health and metrics. Handlers are thin: parse, authorise, call geo or
// matching, encode.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
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
	a.Use(s.recoverer, s.requestContext, s.securityHeaders, s.observe)
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
	v1.Get("/match/:id", allow(geo.RolePlanner), s.getProposal)
	v1.Post("/match/:id/accept", allow(geo.RolePlanner), s.acceptProposal)
	v1.Post("/households/import", allow(geo.RoleGIS), s.importHouseholds)
	v1.Get("/villages/:code/households", allow(geo.RoleOfficer), s.officerHouseholds)
	v1.Use(func(c *fiber.Ctx) error {
		return problem(fiber.StatusNotFound, "no such API route: "+c.Method()+" "+c.Path())
	})

	s.layerRoutes() // /tiles, /ogc, /api/openapi.json (api/tiles.go)

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

func (s *Server) recoverer(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "request_id", c.Locals(localRequestID), "path", c.Path(), "panic", r)
			err = errors.New("panic in handler")
		}
	}()
	return c.Next()
}

// requestContext gives each request an id and a context with a timeout that every
// query inherits.
func (s *Server) requestContext(c *fiber.Ctx) error {
	id := c.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Locals(localRequestID, id)
	c.Set("X-Request-Id", id)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https: http:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	return c.Next()
}

// observe logs one JSON line per request (no personal data: no query strings, no
// bodies) and records metrics.
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
	if route == "/" && c.Path() != "/" {
		route = "static"
	}
	d := time.Since(start)
	s.reqs.WithLabelValues(route, c.Method(), strconv.Itoa(status)).Inc()
	s.dur.WithLabelValues(route).Observe(d.Seconds())
	attrs := []any{"request_id", c.Locals(localRequestID), "method", c.Method(), "path", c.Path(),
		"status", status, "duration_ms", float64(d.Microseconds()) / 1000, "bytes", len(c.Response().Body())}
	if u, ok := currentUser(c); ok {
		attrs = append(attrs, "user", u.Name, "role", u.Role)
	}
	s.log.Info("request", attrs...)
	return nil
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
