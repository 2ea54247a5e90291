package geo

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// reachSQL lists, for every company (or only $1 when not 0), the villages of the
// active desa set in ring 1 (touching the operating area or holding a site) and
// ring 2 (within reach_km of the area or a site), with the distance in km (0 in
// ring 1). Distances are planar in UTM zone 48S (EPSG:32748), Bekasi's zone, as
// DESIGN.md allows for areas: within a few tenths of a percent of geodesic there,
// and about three times faster than geography. The bounding-box test on the
// geometry index comes first: reach_km/100 degrees exceeds reach_km anywhere in Indonesia.
const reachSQL = `
WITH active AS (SELECT id FROM boundary_set WHERE level = 'desa' AND status = 'active'),
co AS (SELECT id, area, sites, reach_km, ST_Transform(area, 32748) AS area_m, ST_Transform(sites, 32748) AS sites_m
       FROM company WHERE ($1::bigint = 0 OR id = $1) AND (area IS NOT NULL OR sites IS NOT NULL)),
cand AS (
  SELECT co.id, co.reach_km, co.area_m, co.sites_m, v.code, v.name, ST_Transform(v.geom, 32748) AS geom_m,
    COALESCE(ST_Intersects(co.area, v.geom), false) OR COALESCE(ST_Intersects(co.sites, v.geom), false) AS ring1
  FROM co JOIN village v ON v.set_id = (SELECT id FROM active)
   AND v.geom && ST_Expand(COALESCE(co.area, co.sites::geometry), co.reach_km / 100.0 + 0.01)
)
SELECT cand.id AS company_id, cand.code, cand.name, CASE WHEN ring1 THEN 1 ELSE 2 END AS ring,
  CASE WHEN ring1 THEN 0 ELSE LEAST(ST_Distance(area_m, geom_m), ST_Distance(sites_m, geom_m)) / 1000 END AS dist_km
FROM cand
WHERE ring1 OR COALESCE(ST_DWithin(area_m, geom_m, reach_km * 1000), false)
   OR COALESCE(ST_DWithin(sites_m, geom_m, reach_km * 1000), false)`

// RingVillage is a village in a company's ring 1 or ring 2.
type RingVillage struct {
	CompanyID int64   `json:"-"`
	Code      string  `json:"code"`
	Name      string  `json:"name"`
	Ring      int     `json:"ring"`
	DistKm    float64 `json:"dist_km"`
}

// CompanyRings lists the villages in company id's rings (companyID 0: every company's).
func (s *Store) CompanyRings(ctx context.Context, companyID int64) ([]RingVillage, error) {
	rows, err := s.Pool.Query(ctx, reachSQL+` ORDER BY company_id, ring, dist_km, code`, companyID)
	if err != nil {
		return nil, fmt.Errorf("rings of company %d: %w", companyID, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[RingVillage])
}

// Neighbour is another company near one company: overlap, distance, villages both reach.
type Neighbour struct {
	ID             int64    `json:"id"`
	Name           string   `json:"name"`
	Sectors        []string `json:"sectors"`
	OverlapKm2     float64  `json:"overlap_km2"`
	DistKm         float64  `json:"dist_km"`
	SharedVillages []string `json:"shared_villages"`
	SameCluster    bool     `json:"same_cluster"`
}

// NeighbourReport answers GET /companies/{id}/neighbours. It carries no budgets.
type NeighbourReport struct {
	CompanyID  int64       `json:"company_id"`
	WithinKm   float64     `json:"within_km"`
	Neighbours []Neighbour `json:"neighbours"`
	// Cluster lists the companies of this company's ST_ClusterDBSCAN cluster: a candidate team.
	Cluster []string `json:"cluster"`
}

// CompanyNeighbours lists companies whose operating areas or sites overlap or lie
// within withinKm of company id's, with the overlap area, the distance and the
// villages both can reach, and the company's DBSCAN cluster (eps withinKm, at
// least 2 companies) computed in UTM zone 48S, Bekasi's projection.
func (s *Store) CompanyNeighbours(ctx context.Context, id int64, withinKm float64) (NeighbourReport, error) {
	rep := NeighbourReport{CompanyID: id, WithinKm: withinKm, Neighbours: []Neighbour{}, Cluster: []string{}}
	var exists bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM company WHERE id = $1)`, id).Scan(&exists); err != nil {
		return rep, err
	}
	if !exists {
		return rep, fmt.Errorf("perusahaan %d: %w", id, ErrNotFound)
	}
	rows, err := s.Pool.Query(ctx, neighboursSQL, id, withinKm)
	if err != nil {
		return rep, fmt.Errorf("neighbours of company %d: %w", id, err)
	}
	rep.Neighbours, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Neighbour, error) {
		var n Neighbour
		err := r.Scan(&n.ID, &n.Name, &n.Sectors, &n.OverlapKm2, &n.DistKm, &n.SharedVillages)
		return n, err
	})
	if err != nil {
		return rep, err
	}
	crows, err := s.Pool.Query(ctx, `
WITH cl AS (
  SELECT id, name, ST_ClusterDBSCAN(ST_Transform(COALESCE(area, sites::geometry), 32748), eps => $2 * 1000, minpoints => 2)
         OVER () AS cluster
  FROM company WHERE area IS NOT NULL OR sites IS NOT NULL
)
SELECT o.id, o.name FROM cl me JOIN cl o ON o.cluster = me.cluster
WHERE me.id = $1 AND me.cluster IS NOT NULL ORDER BY o.name, o.id`, id, withinKm)
	if err != nil {
		return rep, fmt.Errorf("clusters: %w", err)
	}
	inCluster := map[int64]bool{}
	for crows.Next() {
		var cid int64
		var name string
		if err := crows.Scan(&cid, &name); err != nil {
			crows.Close()
			return rep, err
		}
		inCluster[cid] = true
		rep.Cluster = append(rep.Cluster, name)
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return rep, err
	}
	for k := range rep.Neighbours {
		rep.Neighbours[k].SameCluster = inCluster[rep.Neighbours[k].ID]
	}
	return rep, nil
}

// neighboursSQL: $1 the company, $2 the distance in km.
var neighboursSQL = `
WITH reach AS (` + reachSQLAll + `),
me AS (SELECT id, area, sites FROM company WHERE id = $1),
near AS (
  SELECT o.id, o.name, o.sectors,
    COALESCE(ST_Area(ST_Intersection(me.area, o.area)::geography) / 1e6, 0) AS overlap_km2,
    LEAST(ST_Distance(me.area::geography, o.area::geography), ST_Distance(me.area::geography, o.sites::geography),
          ST_Distance(me.sites::geography, o.area::geography), ST_Distance(me.sites::geography, o.sites::geography)) / 1000 AS dist_km
  FROM me, company o
  WHERE o.id <> me.id AND (o.area IS NOT NULL OR o.sites IS NOT NULL)
)
SELECT near.id, near.name, near.sectors, near.overlap_km2, COALESCE(near.dist_km, 0),
  COALESCE((SELECT array_agg(a.code ORDER BY a.code) FROM reach a JOIN reach b ON a.code = b.code
            WHERE a.company_id = $1 AND b.company_id = near.id), '{}') AS shared
FROM near WHERE near.dist_km <= $2 OR near.overlap_km2 > 0
ORDER BY near.overlap_km2 DESC, near.dist_km, near.id`

// reachSQLAll is reachSQL for every company, without its parameter.
var reachSQLAll = strings.Replace(reachSQL, `($1::bigint = 0 OR id = $1)`, `true`, 1)
