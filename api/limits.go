package api

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Request body limits per route class. The server-wide Config.BodyLimit (200 MB
// by default) stays the ceiling and is what register and boundary uploads get;
// every other route gets a limit sized to what it can legitimately receive, so a
// handler never parses megabytes of JSON it has no use for.
const (
	// SmallBodyLimit: sign-in, users, weights, status changes, rules — a few fields.
	SmallBodyLimit = 64 << 10
	// ListBodyLimit: requests that carry lists of village codes or plan sites
	// (match runs, priority lists, plans): 187 villages are a few KB.
	ListBodyLimit = 256 << 10
	// GeometryBodyLimit: a company's operating area or a selection polygon drawn
	// or uploaded in the page (tens of thousands of vertices).
	GeometryBodyLimit = 2 << 20
	// DefaultBodyLimit applies to routes not classed below (and GETs).
	DefaultBodyLimit = 1 << 20
)

// bodyClass names a route's body class; "upload" means Config.BodyLimit.
type bodyRoute struct {
	method, pattern, class string
}

var bodyRoutes = []bodyRoute{
	{"POST", "/api/v1/boundaries", "upload"},
	{"POST", "/api/v1/households/import", "upload"},
	{"POST", "/api/v1/companies", "geometry"},
	{"PUT", "/api/v1/companies/:id", "geometry"},
	{"POST", "/api/v1/villages/select", "geometry"},
	{"POST", "/api/v1/match", "list"},
	{"POST", "/api/v1/priorities", "list"},
	{"POST", "/api/v1/plans", "list"},
	{"PUT", "/api/v1/match/costs", "list"},
	{"POST", "/api/v1/login", "small"},
	{"POST", "/api/v1/logout", "small"},
	{"POST", "/api/v1/users", "small"},
	{"PUT", "/api/v1/weights", "small"},
	{"POST", "/api/v1/boundaries/:id/activate", "small"},
	{"POST", "/api/v1/plans/:id/approve", "small"},
	{"POST", "/api/v1/plans/:id/status", "small"},
	{"POST", "/api/v1/match/rules", "small"},
	{"POST", "/api/v1/match/:id/accept", "small"},
}

// BodyLimitFor returns the body limit of a request (method and path), given the
// server-wide upload limit.
func BodyLimitFor(method, path string, upload int) int {
	for _, r := range bodyRoutes {
		if r.method == method && matchPattern(r.pattern, path) {
			switch r.class {
			case "upload":
				return upload
			case "geometry":
				return min(GeometryBodyLimit, upload)
			case "list":
				return min(ListBodyLimit, upload)
			case "small":
				return min(SmallBodyLimit, upload)
			}
		}
	}
	return min(DefaultBodyLimit, upload)
}

// matchPattern matches a Fiber route pattern with :params against a path.
func matchPattern(pattern, path string) bool {
	path = strings.TrimSuffix(path, "/")
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		// Fiber routes are case-insensitive by default: so is the match.
		if !strings.HasPrefix(p, ":") && !strings.EqualFold(p, xs[i]) {
			return false
		}
	}
	return true
}

func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// bodyTooLarge refuses a body over its route's limit with 413 before any handler
// parses it. (fasthttp has read it already, up to Config.BodyLimit.)
func (s *Server) bodyTooLarge(c *fiber.Ctx) error {
	n := c.Request().Header.ContentLength()
	if b := len(c.Request().Body()); b > n {
		n = b // chunked bodies have no Content-Length
	}
	if n <= 0 {
		return nil
	}
	upload := s.cfg.BodyLimit
	if upload <= 0 {
		upload = fiber.DefaultBodyLimit
	}
	if limit := BodyLimitFor(c.Method(), c.Path(), upload); n > limit {
		return problem(fiber.StatusRequestEntityTooLarge, fmt.Sprintf(
			"badan permintaan %s melebihi batas %s untuk %s %s (request body of %s exceeds this route's limit of %s)",
			sizeText(n), sizeText(limit), c.Method(), c.Path(), sizeText(n), sizeText(limit)))
	}
	return nil
}
