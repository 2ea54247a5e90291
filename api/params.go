package api

import (
	"fmt"
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"
)

// Hostile-input guards shared by handlers (issue 9). Fiber's QueryInt turns a
// malformed number into the default and lets 2^63-1 through; a year that size
// then fails in the database driver as a 500. These refuse it as a 400 instead.

// queryYear reads an optional ?name= year: 0 when absent, else 1900–2200.
func queryYear(c *fiber.Ctx, name string) (int, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1900 || n > 2200 {
		return 0, problem(fiber.StatusBadRequest, fmt.Sprintf("%s harus tahun 1900–2200, bukan %.40q (%s must be a year in 1900–2200)", name, s, name))
	}
	return n, nil
}

// queryID reads an optional ?name= database id: 0 when absent, else 1–2^31-1
// (ids are far smaller; anything larger is a mistake or a probe).
func queryID(c *fiber.Ctx, name string) (int, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > math.MaxInt32 {
		return 0, problem(fiber.StatusBadRequest, fmt.Sprintf("%s harus bilangan bulat positif, bukan %.40q (%s must be a positive whole number)", name, s, name))
	}
	return n, nil
}

// lonLatOK reports whether p is a finite WGS 84 longitude/latitude.
func lonLatOK(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}

// sitesProblem refuses program or company sites that are not WGS 84 points.
func sitesProblem(pts []orb.Point) error {
	for i, p := range pts {
		if !lonLatOK(p) {
			return problem(fiber.StatusBadRequest, fmt.Sprintf("titik lokasi %d (%g, %g) bukan bujur/lintang WGS 84 (site %d is not a WGS 84 longitude/latitude)", i+1, p[0], p[1], i+1))
		}
	}
	return nil
}

// areaProblem refuses an operating area PostGIS cannot take (a ring of fewer than
// four positions is a 500 inside the database) or that is not in WGS 84.
func areaProblem(mp orb.MultiPolygon) error {
	for i, poly := range mp {
		if len(poly) == 0 {
			return problem(fiber.StatusBadRequest, fmt.Sprintf("area: poligon %d kosong (polygon %d is empty)", i+1, i+1))
		}
		for j, ring := range poly {
			if len(ring) < 4 {
				return problem(fiber.StatusBadRequest, fmt.Sprintf("area: cincin %d poligon %d perlu ≥ 4 titik (ring %d of polygon %d needs at least 4 positions, has %d)", j+1, i+1, j+1, i+1, len(ring)))
			}
			for _, p := range ring {
				if !lonLatOK(p) {
					return problem(fiber.StatusBadRequest, fmt.Sprintf("area: titik (%g, %g) bukan bujur/lintang WGS 84 (not a WGS 84 longitude/latitude)", p[0], p[1]))
				}
			}
		}
	}
	return nil
}
