package api

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb/geojson"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// maxSelectBody bounds the body of POST /api/v1/villages/select (the geometry body
// class, 2 MB): a drawn area is a few kilobytes; geo.MaxSelectVertices positions
// fit well within it.
const maxSelectBody = 2 << 20

// selectVillages serves POST /api/v1/villages/select: the body is a GeoJSON
// Polygon or MultiPolygon (or a Feature carrying one) drawn on the map; the answer
// lists the villages of the active boundary set overlapping it, in rank order of
// the newest scores (?period= picks a period), with names and ranks. PostGIS
// decides the overlap against the real boundaries, so a village the drawing only
// grazes is selected exactly when it is on the map.
func (s *Server) selectVillages(c *fiber.Ctx) error {
	body := c.Body()
	if len(body) > maxSelectBody {
		return problem(fiber.StatusRequestEntityTooLarge, "area terlalu besar: maksimum "+strconv.Itoa(maxSelectBody>>10)+
			" KB (area too large: at most "+strconv.Itoa(maxSelectBody>>10)+" KB of GeoJSON)")
	}
	var probe struct {
		Type     string          `json:"type"`
		Geometry json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return problem(fiber.StatusBadRequest, "badan permintaan bukan GeoJSON (the body is not GeoJSON): "+err.Error())
	}
	raw := body
	if probe.Type == "Feature" {
		raw = probe.Geometry
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil || g == nil || g.Coordinates == nil {
		detail := "geometri GeoJSON tidak terbaca (unreadable GeoJSON geometry; send a Polygon or MultiPolygon)"
		if err != nil {
			detail += ": " + err.Error()
		}
		return problem(fiber.StatusBadRequest, detail)
	}
	vs, err := s.web.SelectVillages(c.UserContext(), g.Geometry(), c.Query("period"))
	if errors.Is(err, geo.ErrBadArea) {
		return problem(fiber.StatusUnprocessableEntity, err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"count": len(vs), "villages": vs})
}
