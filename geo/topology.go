package geo

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Topology is what lies between neighbouring features: overlaps (area claimed by
// two features) and gaps (holes in their union that no feature covers). Both are
// findings for a person to judge, not errors: independently simplified layers
// always have some.
type Topology struct {
	ToleranceM2   float64   `json:"tolerance_m2"`
	OverlapCount  int       `json:"overlap_count"`
	OverlapAreaM2 float64   `json:"overlap_area_m2"`
	GapCount      int       `json:"gap_count"`
	GapAreaM2     float64   `json:"gap_area_m2"`
	Overlaps      []Overlap `json:"overlaps"`
	Gaps          []Gap     `json:"gaps"`
	Listed        int       `json:"listed_max"` // each list keeps at most this many, largest first
}

// Overlap is area shared by two features.
type Overlap struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	AreaM2 float64 `json:"area_m2"`
}

// Gap is a hole in the union of the features, with the features around it and a
// point inside it.
type Gap struct {
	AreaM2   float64   `json:"area_m2"`
	Point    []float64 `json:"point"`
	Features []string  `json:"features"`
}

// topologyListMax bounds the lists kept in a report (the counts stay exact).
const topologyListMax = 2000

// topology finds overlaps and gaps larger than tolM2 square metres among the rows
// of table that satisfy where ($1… are args). table must have columns code and
// geom with a GiST index on geom; table and where are fixed strings of this
// package. Set-based: one self-join through the index for overlaps, one union for
// gaps.
func topology(ctx context.Context, q dbtx, table, where string, args []any, tolM2 float64) (*Topology, error) {
	t := &Topology{ToleranceM2: tolM2, Overlaps: []Overlap{}, Gaps: []Gap{}, Listed: topologyListMax}
	n := len(args)
	tolArg := fmt.Sprintf("$%d", n+1)
	args = append(args, tolM2)
	// '2********' = the interiors share an area; cheaper than computing every
	// neighbour's intersection, most of which are lines. Each pair once by ctid —
	// not by code, which would invite a quadratic range scan of the primary key.
	rows, err := q.Query(ctx, `
		SELECT a.code, b.code, ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS area
		FROM `+table+` a JOIN `+table+` b ON a.geom && b.geom AND a.ctid < b.ctid
		WHERE `+aliased(where, "a")+` AND `+inner(where, "b")+` AND ST_Relate(a.geom, b.geom, '2********')`, args[:n]...)
	if err != nil {
		return nil, fmt.Errorf("overlaps: %w", err)
	}
	for rows.Next() {
		var o Overlap
		if err := rows.Scan(&o.A, &o.B, &o.AreaM2); err != nil {
			rows.Close()
			return nil, err
		}
		if o.AreaM2 <= tolM2 {
			continue
		}
		t.OverlapCount++
		t.OverlapAreaM2 += o.AreaM2
		t.Overlaps = append(t.Overlaps, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overlaps: %w", err)
	}
	rows, err = q.Query(ctx, `
		WITH u AS (SELECT ST_Union(geom) AS g FROM `+table+` WHERE `+where+`),
		parts AS (SELECT (ST_Dump(g)).geom AS p FROM u),
		holes AS (SELECT ST_MakePolygon(ST_InteriorRingN(p, i)) AS h
			FROM parts, generate_series(1, ST_NumInteriorRings(p)) AS i),
		sized AS (SELECT h, ST_Area(h::geography) AS area FROM holes)
		SELECT area, ST_X(ST_PointOnSurface(h)), ST_Y(ST_PointOnSurface(h)),
			ARRAY(SELECT v.code FROM `+table+` v WHERE `+inner(where, "v")+` AND v.geom && ST_Expand(h, 1e-6)
				AND ST_DWithin(v.geom, h, 1e-6) ORDER BY v.code)
		FROM sized WHERE area > `+tolArg, args...)
	if err != nil {
		return nil, fmt.Errorf("gaps: %w", err)
	}
	for rows.Next() {
		var g Gap
		var x, y float64
		if err := rows.Scan(&g.AreaM2, &x, &y, &g.Features); err != nil {
			rows.Close()
			return nil, err
		}
		g.Point = []float64{math.Round(x*1e6) / 1e6, math.Round(y*1e6) / 1e6}
		t.GapCount++
		t.GapAreaM2 += g.AreaM2
		t.Gaps = append(t.Gaps, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gaps: %w", err)
	}
	sort.Slice(t.Overlaps, func(i, j int) bool { return t.Overlaps[i].AreaM2 > t.Overlaps[j].AreaM2 })
	sort.Slice(t.Gaps, func(i, j int) bool { return t.Gaps[i].AreaM2 > t.Gaps[j].AreaM2 })
	if len(t.Overlaps) > topologyListMax {
		t.Overlaps = t.Overlaps[:topologyListMax]
	}
	if len(t.Gaps) > topologyListMax {
		t.Gaps = t.Gaps[:topologyListMax]
	}
	for i := range t.Overlaps {
		t.Overlaps[i].AreaM2 = math.Round(t.Overlaps[i].AreaM2*10) / 10
	}
	for i := range t.Gaps {
		t.Gaps[i].AreaM2 = math.Round(t.Gaps[i].AreaM2*10) / 10
	}
	t.OverlapAreaM2 = math.Round(t.OverlapAreaM2)
	t.GapAreaM2 = math.Round(t.GapAreaM2)
	return t, nil
}

// aliased qualifies the fixed predicates used with topology ("true" or
// "set_id = $1") with a table alias.
func aliased(where, alias string) string {
	if where == "true" {
		return where
	}
	return alias + "." + where
}

// inner is aliased for the inner side of a spatial join: "set_id + 0" keeps the
// planner off the set_id btree (a set loaded in this very transaction has no
// statistics, and a nested loop over the btree is quadratic), so the GiST index
// on geom drives the join.
func inner(where, alias string) string {
	if where == "true" {
		return where
	}
	return alias + "." + strings.Replace(where, "set_id", "set_id + 0", 1)
}

// SetTopology computes overlaps and gaps of a stored set.
func (s *Store) SetTopology(ctx context.Context, id int64, tolM2 float64) (*Topology, error) {
	var level string
	if err := s.Pool.QueryRow(ctx, `SELECT level FROM boundary_set WHERE id = $1`, id).Scan(&level); err != nil {
		return nil, fmt.Errorf("boundary set %d: %w", id, err)
	}
	table := "village"
	if level == LevelKecamatan {
		table = "kecamatan"
	}
	return topology(ctx, s.Pool, table, "set_id = $1", []any{id}, tolM2)
}
