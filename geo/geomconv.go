package geo

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
)

// The in-memory geometry model is orb. go-geom is used only at the database edge,
// where pgx-geom's codecs move geometries as binary EWKB without text round trips.

// toGeomMultiPolygon converts an orb MultiPolygon to a go-geom one in SRID 4326.
func toGeomMultiPolygon(mp orb.MultiPolygon) *geom.MultiPolygon {
	coords := make([][][]geom.Coord, len(mp))
	for i, p := range mp {
		coords[i] = make([][]geom.Coord, len(p))
		for j, r := range p {
			ring := make([]geom.Coord, len(r))
			for k, pt := range r {
				ring[k] = geom.Coord{pt[0], pt[1]}
			}
			coords[i][j] = ring
		}
	}
	return geom.NewMultiPolygon(geom.XY).MustSetCoords(coords).SetSRID(4326)
}

// toGeomMultiPoint converts orb points to a go-geom MultiPoint in SRID 4326 (nil for none).
func toGeomMultiPoint(pts []orb.Point) *geom.MultiPoint {
	if len(pts) == 0 {
		return nil
	}
	coords := make([]geom.Coord, len(pts))
	for i, p := range pts {
		coords[i] = geom.Coord{p[0], p[1]}
	}
	return geom.NewMultiPoint(geom.XY).MustSetCoords(coords).SetSRID(4326)
}

// toGeomPoint converts an orb point to a go-geom Point in SRID 4326.
func toGeomPoint(p orb.Point) *geom.Point {
	return geom.NewPoint(geom.XY).MustSetCoords(geom.Coord{p[0], p[1]}).SetSRID(4326)
}

// toOrb converts a go-geom geometry read from PostGIS to orb.
func toOrb(g geom.T) (orb.Geometry, error) {
	switch t := g.(type) {
	case nil:
		return nil, nil
	case *geom.Point:
		if t.Empty() {
			return nil, nil
		}
		return orb.Point{t.X(), t.Y()}, nil
	case *geom.MultiPoint:
		mp := make(orb.MultiPoint, t.NumPoints())
		for i := range mp {
			c := t.Point(i).Coords()
			mp[i] = orb.Point{c[0], c[1]}
		}
		return mp, nil
	case *geom.Polygon:
		return polygonToOrb(t), nil
	case *geom.MultiPolygon:
		mp := make(orb.MultiPolygon, t.NumPolygons())
		for i := range mp {
			mp[i] = polygonToOrb(t.Polygon(i))
		}
		return mp, nil
	default:
		return nil, fmt.Errorf("unsupported geometry type %T", g)
	}
}

func polygonToOrb(p *geom.Polygon) orb.Polygon {
	out := make(orb.Polygon, p.NumLinearRings())
	for i := range out {
		cs := p.LinearRing(i).Coords()
		r := make(orb.Ring, len(cs))
		for j, c := range cs {
			r[j] = orb.Point{c[0], c[1]}
		}
		out[i] = r
	}
	return out
}
