package geo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// dbtx is what both a pool and a transaction offer.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Diff thresholds.
const (
	// A feature keeping its code is "changed" when its intersection-over-union with
	// the old one is below this.
	diffSameIoU = 0.99
	// A piece counts in a split or merge when at least this share of it lies in
	// the other side's feature…
	diffMostlyInside = 0.5
	// …and it covers at least this share of that feature (slivers don't count).
	diffSignificant = 0.05
)

// BoundaryDiff is what changes from set From (usually the active one) to set To.
type BoundaryDiff struct {
	From      int64         `json:"from"`
	To        int64         `json:"to"`
	Level     string        `json:"level"`
	FromCount int           `json:"from_count"`
	ToCount   int           `json:"to_count"`
	Unchanged int           `json:"unchanged"`
	Added     []DiffFeature `json:"added"`
	Removed   []DiffFeature `json:"removed"`
	Renamed   []DiffChange  `json:"renamed"`
	Changed   []DiffChange  `json:"changed"`
	Splits    []DiffSplit   `json:"splits"`
	Merges    []DiffSplit   `json:"merges"`
	Crosswalk []Crosswalk   `json:"crosswalk"`
	// Households whose village would change (counts only, never who).
	MovesComputed    bool            `json:"moves_computed"`
	HouseholdsMoving int64           `json:"households_moving"`
	Moves            []HouseholdMove `json:"moves"`
	TimingMS         float64         `json:"timing_ms"`
}

// DiffFeature is a feature only one side has.
type DiffFeature struct {
	Code    string  `json:"code"`
	Name    string  `json:"name"`
	AreaKm2 float64 `json:"area_km2"`
}

// DiffChange is a feature that keeps its code but changes name or shape.
type DiffChange struct {
	Code          string  `json:"code"`
	OldName       string  `json:"old_name"`
	NewName       string  `json:"new_name"`
	OldAreaKm2    float64 `json:"old_area_km2"`
	NewAreaKm2    float64 `json:"new_area_km2"`
	AreaChangeKm2 float64 `json:"area_change_km2"`
	AreaChangePct float64 `json:"area_change_pct"`
	IoU           float64 `json:"iou"`
}

// DiffSplit is one feature becoming several (pemekaran), or several becoming one.
type DiffSplit struct {
	From       []string `json:"from"`
	To         []string `json:"to"`
	Households int64    `json:"households_moving"`
}

// Crosswalk is one old→new code mapping (table code_crosswalk).
type Crosswalk struct {
	OldCode  string  `json:"old_code"`
	NewCode  string  `json:"new_code"`
	Relation string  `json:"relation"` // same | renamed | changed | split | merged
	Share    float64 `json:"share"`    // share of the old feature's area in the new one
}

// HouseholdMove counts households whose village changes from one code to another.
type HouseholdMove struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Households int64  `json:"households"`
}

type diffFeat struct {
	name    string
	areaKm2 float64
	planar  float64
}

// DiffBoundarySets compares set a (old) with set b (new) of the same level. With
// an owner store (and level desa) it also counts the households whose village
// would change; a web store cannot read their locations and leaves that out.
func (s *Store) DiffBoundarySets(ctx context.Context, a, b int64) (*BoundaryDiff, error) {
	var d *BoundaryDiff
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := noJIT(ctx, tx); err != nil {
			return err
		}
		var err error
		d, err = diffTx(ctx, tx, a, b, !s.web)
		if err != nil {
			return err
		}
		return errRollback // read-only: drop the temp tables
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return d, err
}

func diffTx(ctx context.Context, tx pgx.Tx, a, b int64, withMoves bool) (*BoundaryDiff, error) {
	start := time.Now()
	var la, lb string
	if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT level FROM boundary_set WHERE id = $1), ''),
		coalesce((SELECT level FROM boundary_set WHERE id = $2), '')`, a, b).Scan(&la, &lb); err != nil {
		return nil, err
	}
	if la == "" {
		return nil, fmt.Errorf("boundary set %d does not exist", a)
	}
	if lb == "" {
		return nil, fmt.Errorf("boundary set %d does not exist", b)
	}
	if la != lb {
		return nil, fmt.Errorf("boundary sets %d (%s) and %d (%s) are of different levels", a, la, b, lb)
	}
	d := &BoundaryDiff{From: a, To: b, Level: la, Added: []DiffFeature{}, Removed: []DiffFeature{}, Renamed: []DiffChange{},
		Changed: []DiffChange{}, Splits: []DiffSplit{}, Merges: []DiffSplit{}, Crosswalk: []Crosswalk{}, Moves: []HouseholdMove{}}
	table := "village"
	if la == LevelKecamatan {
		table = "kecamatan"
	}
	load := func(id int64) (map[string]diffFeat, error) {
		rows, err := tx.Query(ctx, `SELECT code, name, area_km2, ST_Area(geom) FROM `+table+` WHERE set_id = $1`, id)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		m := map[string]diffFeat{}
		for rows.Next() {
			var code string
			var f diffFeat
			if err := rows.Scan(&code, &f.name, &f.areaKm2, &f.planar); err != nil {
				return nil, err
			}
			m[code] = f
		}
		return m, rows.Err()
	}
	A, err := load(a)
	if err != nil {
		return nil, err
	}
	B, err := load(b)
	if err != nil {
		return nil, err
	}
	d.FromCount, d.ToCount = len(A), len(B)
	// Intersection areas of every pair that shares area (planar: only ratios are
	// used). Identical geometries under the same code skip the intersection.
	type pair struct{ a, b string }
	inter := map[pair]float64{}
	rows, err := tx.Query(ctx, `
		SELECT x.code, y.code,
			CASE WHEN x.code = y.code AND ST_OrderingEquals(x.geom, y.geom) THEN ST_Area(x.geom)
				ELSE ST_Area(ST_Intersection(x.geom, y.geom)) END AS area
		FROM `+table+` x JOIN `+table+` y ON y.set_id + 0 = $2 AND x.geom && y.geom -- + 0: join through the GiST index
		WHERE x.set_id = $1`, a, b)
	if err != nil {
		return nil, fmt.Errorf("diff %d→%d: %w", a, b, err)
	}
	aParts := map[string][]string{}
	bParts := map[string][]string{}
	for rows.Next() {
		var p pair
		var area float64
		if err := rows.Scan(&p.a, &p.b, &area); err != nil {
			rows.Close()
			return nil, err
		}
		if area <= 0 {
			continue
		}
		inter[p] = area
		aParts[p.a] = append(aParts[p.a], p.b)
		bParts[p.b] = append(bParts[p.b], p.a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	shareA := func(p pair) float64 { return ratio(inter[p], A[p.a].planar) } // of the old feature
	shareB := func(p pair) float64 { return ratio(inter[p], B[p.b].planar) } // of the new feature

	// Splits: an old feature holding ≥2 significant new features that lie mostly inside it.
	splitOf := map[string][]string{}
	for ac, bs := range aParts {
		var kids []string
		for _, bc := range bs {
			p := pair{ac, bc}
			if shareB(p) >= diffMostlyInside && shareA(p) >= diffSignificant {
				kids = append(kids, bc)
			}
		}
		if len(kids) >= 2 {
			sort.Strings(kids)
			splitOf[ac] = kids
		}
	}
	mergeInto := map[string]string{}
	for bc, as := range bParts {
		var olds []string
		for _, ac := range as {
			p := pair{ac, bc}
			if shareA(p) >= diffMostlyInside && shareB(p) >= diffSignificant {
				olds = append(olds, ac)
			}
		}
		if len(olds) >= 2 {
			sort.Strings(olds)
			d.Merges = append(d.Merges, DiffSplit{From: olds, To: []string{bc}})
			for _, ac := range olds {
				mergeInto[ac] = bc
			}
		}
	}
	for _, ac := range sortedKeys(splitOf) {
		d.Splits = append(d.Splits, DiffSplit{From: []string{ac}, To: splitOf[ac]})
	}
	sort.Slice(d.Merges, func(i, j int) bool { return d.Merges[i].To[0] < d.Merges[j].To[0] })

	for _, ac := range sortedKeys(A) {
		fa := A[ac]
		fb, kept := B[ac]
		if kept {
			p := pair{ac, ac}
			iou := ratio(inter[p], fa.planar+fb.planar-inter[p])
			ch := DiffChange{Code: ac, OldName: fa.name, NewName: fb.name, OldAreaKm2: round3(fa.areaKm2), NewAreaKm2: round3(fb.areaKm2),
				AreaChangeKm2: round3(fb.areaKm2 - fa.areaKm2), AreaChangePct: math.Round(ratio(fb.areaKm2-fa.areaKm2, fa.areaKm2)*1000) / 10,
				IoU: math.Round(iou*10000) / 10000}
			renamed := strings.TrimSpace(fa.name) != strings.TrimSpace(fb.name)
			changed := iou < diffSameIoU
			if renamed {
				d.Renamed = append(d.Renamed, ch)
			}
			if changed {
				d.Changed = append(d.Changed, ch)
			}
			if !renamed && !changed {
				d.Unchanged++
			}
		} else {
			d.Removed = append(d.Removed, DiffFeature{Code: ac, Name: fa.name, AreaKm2: round3(fa.areaKm2)})
		}
		// The crosswalk row(s) of this old code.
		switch {
		case splitOf[ac] != nil:
			for _, bc := range splitOf[ac] {
				d.Crosswalk = append(d.Crosswalk, Crosswalk{ac, bc, "split", round3(shareA(pair{ac, bc}))})
			}
		case mergeInto[ac] != "":
			bc := mergeInto[ac]
			d.Crosswalk = append(d.Crosswalk, Crosswalk{ac, bc, "merged", round3(shareA(pair{ac, bc}))})
		case kept:
			rel := "same"
			p := pair{ac, ac}
			if ratio(inter[p], fa.planar+fb.planar-inter[p]) < diffSameIoU {
				rel = "changed"
			} else if strings.TrimSpace(fa.name) != strings.TrimSpace(fb.name) {
				rel = "renamed"
			}
			d.Crosswalk = append(d.Crosswalk, Crosswalk{ac, ac, rel, round3(shareA(p))})
		default:
			// A new code for (most of) the same land: a recode.
			best, bestShare := "", 0.0
			for _, bc := range aParts[ac] {
				if sh := shareA(pair{ac, bc}); sh > bestShare {
					best, bestShare = bc, sh
				}
			}
			if bestShare >= diffMostlyInside {
				d.Crosswalk = append(d.Crosswalk, Crosswalk{ac, best, "changed", round3(bestShare)})
			}
		}
	}
	for _, bc := range sortedKeys(B) {
		if _, ok := A[bc]; !ok {
			d.Added = append(d.Added, DiffFeature{Code: bc, Name: B[bc].name, AreaKm2: round3(B[bc].areaKm2)})
		}
	}
	if withMoves && la == LevelDesa {
		if err := householdMoves(ctx, tx, d); err != nil {
			return nil, err
		}
	}
	d.TimingMS = math.Round(float64(time.Since(start).Microseconds())/10) / 100
	return d, nil
}

// householdMoves assigns the live households under both sets with the same rules
// as activation and counts those whose village differs. Only households near a
// village whose geometry differs between the sets can differ (nearChangedSQL), so
// only those are assigned: the rest would get the same village under both.
func householdMoves(ctx context.Context, tx pgx.Tx, d *BoundaryDiff) error {
	if _, err := prepareChangedVillages(ctx, tx, d.From, d.To); err != nil {
		return err
	}
	cand := `SELECT h.id AS key, h.reported_village, p.location
		FROM (` + nearChangedSQL(activationGap) + `) x JOIN household h ON h.id = x.id
		JOIN pii.household_person p ON p.household_id = h.id
		WHERE h.retired_at IS NULL`
	if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.hh_assign;
		CREATE TEMP TABLE hh_assign (key bigint, code text, method text) ON COMMIT DROP`); err != nil {
		return err
	}
	for _, side := range []struct {
		table string
		set   int64
	}{{"diff_assign_from", d.From}, {"diff_assign_to", d.To}} {
		if err := assignPoints(ctx, tx, side.set, activationGap, cand); err != nil {
			return fmt.Errorf("households under set %d: %w", side.set, err)
		}
		// side.table is one of two fixed names.
		if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.`+side.table+`;
			CREATE TEMP TABLE `+side.table+` ON COMMIT DROP AS SELECT key, code FROM hh_assign;
			TRUNCATE hh_assign`); err != nil {
			return fmt.Errorf("households under set %d: %w", side.set, err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT coalesce(f.code, ''), coalesce(t.code, ''), count(*)
		FROM diff_assign_from f JOIN diff_assign_to t USING (key)
		WHERE f.code IS DISTINCT FROM t.code GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m HouseholdMove
		if err := rows.Scan(&m.From, &m.To, &m.Households); err != nil {
			return err
		}
		d.Moves = append(d.Moves, m)
		d.HouseholdsMoving += m.Households
	}
	if err := rows.Err(); err != nil {
		return err
	}
	d.MovesComputed = true
	for i := range d.Splits {
		d.Splits[i].Households = movesBetween(d.Moves, d.Splits[i].From, d.Splits[i].To)
	}
	for i := range d.Merges {
		d.Merges[i].Households = movesBetween(d.Moves, d.Merges[i].From, d.Merges[i].To)
	}
	return nil
}

func movesBetween(ms []HouseholdMove, from, to []string) int64 {
	in := func(s string, l []string) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	var n int64
	for _, m := range ms {
		if in(m.From, from) && in(m.To, to) {
			n += m.Households
		}
	}
	return n
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// applyCrosswalk records the crosswalk of an activation (from → to) and carries
// plans and the newest version of every priority list over to the new codes:
// an item naming a code that no longer exists moves to the new code with the
// largest share of its land; an item naming a village that was split or merged
// keeps or gets its code and is flagged for a planner's review either way.
func applyCrosswalk(ctx context.Context, tx pgx.Tx, d *BoundaryDiff) (plans, items int64, err error) {
	if _, err := tx.Exec(ctx, `DELETE FROM code_crosswalk WHERE from_set = $1 AND to_set = $2`, d.From, d.To); err != nil {
		return 0, 0, err
	}
	if len(d.Crosswalk) == 0 {
		return 0, 0, nil
	}
	var olds, news, rels []string
	var shares []float64
	for _, c := range d.Crosswalk {
		olds, news, rels, shares = append(olds, c.OldCode), append(news, c.NewCode), append(rels, c.Relation), append(shares, c.Share)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO code_crosswalk (from_set, to_set, old_code, new_code, relation, share)
		SELECT $1, $2, o, n, r, s FROM unnest($3::text[], $4::text[], $5::text[], $6::float8[]) AS x(o, n, r, s)`,
		d.From, d.To, olds, news, rels, shares); err != nil {
		return 0, 0, fmt.Errorf("record crosswalk: %w", err)
	}
	if d.Level != LevelDesa {
		return 0, 0, nil
	}
	const moves = `
		WITH x AS (
			SELECT DISTINCT ON (c.old_code) c.old_code, c.new_code, c.relation,
				NOT EXISTS (SELECT 1 FROM village v WHERE v.set_id = c.to_set AND v.code = c.old_code) AS gone
			FROM code_crosswalk c WHERE c.from_set = $1 AND c.to_set = $2
			ORDER BY c.old_code, c.share DESC, c.new_code)
		SELECT old_code, CASE WHEN gone THEN new_code ELSE old_code END AS new_code FROM x
		WHERE gone OR relation IN ('split', 'merged')`
	tag, err := tx.Exec(ctx, `UPDATE plan p SET village_code = m.new_code, needs_review = true, updated_at = now()
		FROM (`+moves+`) m WHERE p.village_code = m.old_code`, d.From, d.To)
	if err != nil {
		return 0, 0, fmt.Errorf("carry plans over: %w", err)
	}
	plans = tag.RowsAffected()
	tag, err = tx.Exec(ctx, `UPDATE priority_item i SET village_code = m.new_code, needs_review = true,
			note = trim(i.note || CASE WHEN m.new_code <> m.old_code THEN ' [kode lama / old code ' || m.old_code || ']' ELSE ' [batas berubah / boundary changed]' END)
		FROM (`+moves+`) m
		WHERE i.village_code = m.old_code
			AND i.version = (SELECT max(version) FROM priority_list_version pv WHERE pv.list_id = i.list_id)`, d.From, d.To)
	if err != nil {
		return 0, 0, fmt.Errorf("carry priority lists over: %w", err)
	}
	return plans, tag.RowsAffected(), nil
}
