package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/static"
)

// The map page's boot path (issue 8: first view within 3 s on "Fast 3G").
//
// index.html carries the app's JavaScript and CSS inline and starts GET
// /api/v1/boot and the village layer from a small inline script in its head, so
// the dependent round trips HTML → JS → session → villages become
// HTML+JS ‖ (session, villages). The built files are sent precompressed (brotli
// 11 / gzip 9, written by static/build.mjs) with an ETag, so a revisit of an
// unchanged page costs a 304.

// staticRoutes serves the built front-end (before the generic filesystem
// handler in routes(), which still answers for source maps).
func (s *Server) staticRoutes() {
	if !static.Built() {
		return
	}
	s.app.Get("/", s.staticAsset)
	s.app.Get("/*", s.staticAsset)
}

// bootResponse is what the page needs before it can show anything: the
// /config document and the signed-in user (null when signed out), in one
// round trip instead of two.
type bootResponse struct {
	Config fiber.Map `json:"config"`
	User   *geo.User `json:"user"`
}

// boot answers GET /api/v1/boot. It is public: signed out, user is null (the
// page then shows the sign-in form) instead of a 401.
func (s *Server) boot(c *fiber.Ctx) error {
	resp := bootResponse{Config: fiber.Map{
		"basemap_url":         s.cfg.BasemapURL,
		"basemap_attribution": s.cfg.BasemapAttribution,
		"regency_name":        s.regencyName(c),
	}}
	if u, ok := currentUser(c); ok {
		resp.User = &u
	}
	// A session answer must never come from a shared cache.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(resp)
}

// staticAsset serves a built front-end file (static.Assets) in the best
// encoding the client accepts, with an ETag and:
//   - index.html: Cache-Control no-cache and a Content-Security-Policy that
//     admits its inline scripts by hash;
//   - esbuild's hashed image names, and name?v=<version> with the file's
//     current version: cached for a year, immutable;
//   - anything else (area-editor.js, geoman.css, favicon.svg): no-cache,
//     revalidated with the ETag.
//
// Other paths (source maps, unknown files) go on to the next handler.
func (s *Server) staticAsset(c *fiber.Ctx) error {
	name := strings.TrimPrefix(c.Path(), "/")
	if name == "" {
		name = "index.html"
	}
	a := static.Assets()[name]
	if a == nil {
		return c.Next()
	}
	h := &c.Response().Header
	switch {
	case a.Immutable || (a.Version == c.Query("v") && name != "index.html"):
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	default:
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	if len(a.ScriptHashes) > 0 {
		// securityHeaders already set the site-wide policy; add what this page's
		// inline script needs (script-src otherwise falls back to default-src 'self').
		csp := string(h.Peek("Content-Security-Policy"))
		c.Set("Content-Security-Policy", csp+"; script-src 'self' "+strings.Join(a.ScriptHashes, " "))
	}
	c.Set(fiber.HeaderETag, a.ETag)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderContentType, a.ContentType)
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && strings.Contains(inm, a.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	body := a.Body
	switch accept := c.Get(fiber.HeaderAcceptEncoding); {
	case a.Brotli != nil && acceptsEncoding(accept, "br"):
		body = a.Brotli
		c.Set(fiber.HeaderContentEncoding, "br")
	case a.Gzip != nil && acceptsEncoding(accept, "gzip"):
		body = a.Gzip
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	return c.Send(body) // fasthttp drops the body of a HEAD answer itself
}

// acceptsEncoding reports whether an Accept-Encoding value admits enc (a
// listed coding without q=0).
func acceptsEncoding(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), enc) {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return !(strings.HasPrefix(q, "q=0") && strings.Trim(strings.TrimPrefix(q, "q="), "0.") == "")
	}
	return false
}
