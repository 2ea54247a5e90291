package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// OGC API Features Part 1 (Core + GeoJSON) over the same layers and role rules
// as the tiles.

const (
	ogcDefaultLimit = 100
	ogcMaxLimit     = 10000
	crs84           = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	geoJSONType     = "application/geo+json"
)

var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}

type ogcLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

func (s *Server) ogcRoutes() {
	o := s.app.Group("/ogc", s.ogcAuthenticate, allow(layerRoles...))
	o.Get("/", s.ogcLanding)
	o.Get("/conformance", s.ogcConformance)
	o.Get("/collections", s.ogcCollections)
	o.Get("/collections/:id", s.ogcCollection)
	o.Get("/collections/:id/items", s.ogcItems)
	o.Get("/collections/:id/items/:fid", s.ogcItem)
}

func ogcBase(c *fiber.Ctx) string { return c.BaseURL() + "/ogc" }

func (s *Server) ogcLanding(c *fiber.Ctx) error {
	b := ogcBase(c)
	return c.JSON(fiber.Map{
		"title":       "Sinergi TJSLP — " + s.cfg.RegencyName,
		"description": "Lapisan peta Sinergi sebagai OGC API Features (Sinergi's map layers as OGC API Features)",
		"links": []ogcLink{
			{Href: b, Rel: "self", Type: "application/json", Title: "this document"},
			{Href: c.BaseURL() + "/api/openapi.json", Rel: "service-desc", Type: "application/vnd.oai.openapi+json;version=3.0", Title: "API definition"},
			{Href: b + "/conformance", Rel: "conformance", Type: "application/json", Title: "conformance classes"},
			{Href: b + "/collections", Rel: "data", Type: "application/json", Title: "collections"},
		},
	})
}

func (s *Server) ogcConformance(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"conformsTo": ogcConformance})
}

func (s *Server) collectionDoc(c *fiber.Ctx, l geo.Layer, v geo.Viewer) (fiber.Map, error) {
	b := ogcBase(c) + "/collections/" + l.Name
	doc := fiber.Map{
		"id": l.Name, "title": l.Title, "description": l.Description, "itemType": "feature", "crs": []string{crs84},
		"links": []ogcLink{
			{Href: b, Rel: "self", Type: "application/json", Title: l.Title},
			{Href: b + "/items", Rel: "items", Type: geoJSONType, Title: l.Title + " (GeoJSON)"},
		},
	}
	ext, ok, err := s.web.LayerExtent(c.UserContext(), l, v)
	if err != nil {
		return nil, err
	}
	if ok {
		doc["extent"] = fiber.Map{"spatial": fiber.Map{"bbox": [][]float64{{ext.Min.X(), ext.Min.Y(), ext.Max.X(), ext.Max.Y()}}, "crs": crs84}}
	}
	return doc, nil
}

func (s *Server) ogcCollections(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	v := geo.ViewerOf(u)
	cols := []fiber.Map{}
	for _, l := range geo.Layers() {
		if !l.Allowed(u.Role) {
			continue // a layer the role may not read is not listed
		}
		doc, err := s.collectionDoc(c, l, v)
		if err != nil {
			return err
		}
		cols = append(cols, doc)
	}
	b := ogcBase(c) + "/collections"
	return c.JSON(fiber.Map{
		"links":       []ogcLink{{Href: b, Rel: "self", Type: "application/json", Title: "collections"}},
		"collections": cols,
	})
}

func ogcLayer(c *fiber.Ctx) (geo.Layer, geo.Viewer, error) {
	id := c.Params("id")
	l, ok := geo.LayerByName(id)
	if !ok {
		return l, geo.Viewer{}, problem(fiber.StatusNotFound, fmt.Sprintf("koleksi %q tidak ada (no collection %q; collections: %s)", id, id, layerNames()))
	}
	v, err := viewerFor(c, l)
	return l, v, err
}

func (s *Server) ogcCollection(c *fiber.Ctx) error {
	l, v, err := ogcLayer(c)
	if err != nil {
		return err
	}
	doc, err := s.collectionDoc(c, l, v)
	if err != nil {
		return err
	}
	return c.JSON(doc)
}

// parseBBox reads bbox=minLon,minLat,maxLon,maxLat (CRS84).
func parseBBox(s string) (*orb.Bound, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, problem(fiber.StatusBadRequest, "bbox harus 4 angka: minLon,minLat,maxLon,maxLat (bbox must be 4 numbers: minLon,minLat,maxLon,maxLat)")
	}
	var f [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		// NaN slips through every range comparison below; Inf is no coordinate.
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, problem(fiber.StatusBadRequest, fmt.Sprintf("bbox: %q bukan angka (%q is not a number)", p, p))
		}
		f[i] = x
	}
	if f[0] > f[2] || f[1] > f[3] || f[0] < -180 || f[2] > 180 || f[1] < -90 || f[3] > 90 {
		return nil, problem(fiber.StatusBadRequest, "bbox di luar jangkauan atau terbalik (bbox out of range or min > max)")
	}
	return &orb.Bound{Min: orb.Point{f[0], f[1]}, Max: orb.Point{f[2], f[3]}}, nil
}

func queryInt(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, problem(fiber.StatusBadRequest, fmt.Sprintf("%s harus bilangan bulat %d–%d (%s must be an integer in %d–%d)", name, lo, hi, name, lo, hi))
	}
	return n, nil
}

func (s *Server) ogcItems(c *fiber.Ctx) error {
	l, v, err := ogcLayer(c)
	if err != nil {
		return err
	}
	q := geo.FeatureQuery{}
	if q.BBox, err = parseBBox(c.Query("bbox")); err != nil {
		return err
	}
	if q.Limit, err = queryInt(c, "limit", ogcDefaultLimit, 1, ogcMaxLimit); err != nil {
		return err
	}
	if q.Offset, err = queryInt(c, "offset", 0, 0, 1<<30); err != nil {
		return err
	}
	if p := c.Query("properties"); p != "" {
		q.Properties = []string{}
		for _, name := range strings.Split(p, ",") {
			if name = strings.TrimSpace(name); name != "" {
				q.Properties = append(q.Properties, name)
			}
		}
	}
	if l.Name == geo.LayerNeed {
		vs, err := s.tiles.versionsOf(c)
		if err != nil {
			return err
		}
		if err := s.tiles.ensureNeed(c.UserContext(), vs.Layers[geo.LayerNeed]); err != nil {
			return err
		}
	}
	page, err := s.web.Features(c.UserContext(), l, q, v)
	if err != nil {
		return errLayer(err)
	}
	self := ogcBase(c) + "/collections/" + l.Name + "/items"
	link := func(offset int) string {
		vals := url.Values{}
		for k, vs := range c.Queries() {
			vals.Set(k, vs)
		}
		vals.Set("limit", strconv.Itoa(q.Limit))
		vals.Set("offset", strconv.Itoa(offset))
		return self + "?" + vals.Encode()
	}
	links := []ogcLink{
		{Href: link(q.Offset), Rel: "self", Type: geoJSONType, Title: "this page"},
		{Href: ogcBase(c) + "/collections/" + l.Name, Rel: "collection", Type: "application/json", Title: l.Title},
	}
	if q.Offset+page.Returned < page.Matched {
		links = append(links, ogcLink{Href: link(q.Offset + q.Limit), Rel: "next", Type: geoJSONType, Title: "next page"})
	}
	if q.Offset > 0 {
		links = append(links, ogcLink{Href: link(max(0, q.Offset-q.Limit)), Rel: "prev", Type: geoJSONType, Title: "previous page"})
	}
	lj, _ := json.Marshal(links)
	var b strings.Builder
	b.Grow(len(page.Body) + 512)
	b.WriteString(`{"type":"FeatureCollection","features":`)
	b.Write(page.Body)
	fmt.Fprintf(&b, `,"numberMatched":%d,"numberReturned":%d,"timeStamp":%q,"links":`, page.Matched, page.Returned,
		time.Now().UTC().Format(time.RFC3339))
	b.Write(lj)
	b.WriteString("}")
	c.Set(fiber.HeaderContentType, geoJSONType)
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return c.SendString(b.String())
}

func (s *Server) ogcItem(c *fiber.Ctx) error {
	l, v, err := ogcLayer(c)
	if err != nil {
		return err
	}
	fid, err := url.PathUnescape(c.Params("fid"))
	if err != nil {
		return problem(fiber.StatusBadRequest, "id fitur tidak valid (bad feature id)")
	}
	if l.Name == geo.LayerNeed {
		vs, err := s.tiles.versionsOf(c)
		if err != nil {
			return err
		}
		if err := s.tiles.ensureNeed(c.UserContext(), vs.Layers[geo.LayerNeed]); err != nil {
			return err
		}
	}
	page, err := s.web.Features(c.UserContext(), l, geo.FeatureQuery{ID: fid, Limit: 1}, v)
	if err != nil {
		return errLayer(err)
	}
	var feats []map[string]any
	if err := json.Unmarshal(page.Body, &feats); err != nil || len(feats) != 1 {
		return fmt.Errorf("feature %s/%s: decode: %v", l.Name, fid, err)
	}
	b := ogcBase(c) + "/collections/" + l.Name
	feats[0]["links"] = []ogcLink{
		{Href: b + "/items/" + url.PathEscape(fid), Rel: "self", Type: geoJSONType},
		{Href: b, Rel: "collection", Type: "application/json"},
	}
	c.Set(fiber.HeaderContentType, geoJSONType)
	out, err := json.Marshal(feats[0])
	if err != nil {
		return err
	}
	return c.Send(out)
}
