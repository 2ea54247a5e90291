package geo_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// TestNeedCellsDisclosure scatters in-need households (dense clusters and lone
// homes) and checks the need grid: every published cell holds ≥ 10 households;
// a parent minus its published children is 0 or ≥ 10 (no differencing reveals a
// smaller group); the web role reads the grid but not the homes; the grid is
// rebuilt only when the need layer moved.
func TestNeedCellsDisclosure(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	var lons, lats []float64
	for c := 0; c < 12; c++ { // clusters of 5–40 homes within ~500 m
		lon, lat := 107.0+rng.Float64()*0.3, -6.4+rng.Float64()*0.3
		for i, n := 0, 5+rng.IntN(36); i < n; i++ {
			lons, lats = append(lons, lon+rng.NormFloat64()*0.003), append(lats, lat+rng.NormFloat64()*0.003)
		}
	}
	for i := 0; i < 60; i++ { // lone homes
		lons, lats = append(lons, 107.0+rng.Float64()*0.3), append(lats, -6.4+rng.Float64()*0.3)
	}
	_, err := owner.Pool.Exec(ctx, `
		WITH h AS (INSERT INTO household (register, period, external_id, extreme_poor)
			SELECT 'demo', '2026', 'h' || i, true FROM generate_series(1, cardinality($1::float8[])) i RETURNING id, external_id)
		INSERT INTO pii.household_person (household_id, location)
		SELECT h.id, ST_SetSRID(ST_MakePoint(($1::float8[])[substr(h.external_id, 2)::int], ($2::float8[])[substr(h.external_id, 2)::int]), 4326) FROM h`,
		lons, lats)
	if err != nil {
		t.Fatal(err)
	}
	// Not in need: never counted.
	if _, err := owner.Pool.Exec(ctx, `WITH h AS (INSERT INTO household (register, period, external_id)
		SELECT 'demo', '2026', 'ok' || g FROM generate_series(1, 50) g RETURNING id)
		INSERT INTO pii.household_person (household_id, location) SELECT id, ST_SetSRID(ST_MakePoint(107.1, -6.3), 4326) FROM h`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Pool.Exec(ctx, `SELECT bump_layer('need')`); err != nil {
		t.Fatal(err)
	}
	r, err := owner.RefreshNeedCells(ctx)
	if err != nil || !r.Refreshed || r.Cells == 0 {
		t.Fatalf("refresh: %+v %v", r, err)
	}
	if again, err := owner.RefreshNeedCells(ctx); err != nil || again.Refreshed {
		t.Fatalf("a second refresh without a change must do nothing: %+v %v", again, err)
	}
	if _, err := web.RefreshNeedCells(ctx); err == nil {
		t.Fatal("the web role must not be able to read household locations")
	}
	type cell struct{ l, x, y, n int }
	rows, err := web.Pool.Query(ctx, `SELECT level, cx, cy, households FROM need_cell`)
	if err != nil {
		t.Fatal(err)
	}
	cells := map[[3]int]int{}
	for rows.Next() {
		var c cell
		if err := rows.Scan(&c.l, &c.x, &c.y, &c.n); err != nil {
			t.Fatal(err)
		}
		cells[[3]int{c.l, c.x, c.y}] = c.n
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	children := map[[3]int]int{}
	for k, n := range cells {
		if n < geo.NeedCellMin {
			t.Errorf("cell %v holds %d households (< %d)", k, n, geo.NeedCellMin)
		}
		if k[0] > 8 {
			children[[3]int{k[0] - 1, k[1] >> 1, k[2] >> 1}] += n
		}
	}
	for k, n := range cells {
		if k[0] == 17 {
			continue
		}
		if d := n - children[k]; d != 0 && d < geo.NeedCellMin {
			t.Errorf("cell %v (%d) minus its children (%d) reveals a group of %d", k, n, children[k], d)
		}
	}
	// The coarsest level holds every in-need household that could be pooled.
	total := 0
	for k, n := range cells {
		if k[0] == 8 {
			total += n
		}
	}
	if total > len(lons) || total < len(lons)-9 {
		t.Errorf("level 8 holds %d of %d in-need households", total, len(lons))
	}
	var pii bool
	if err := web.Pool.QueryRow(ctx, `SELECT has_table_privilege('pii.household_person', 'SELECT')`).Scan(&pii); err == nil && pii {
		t.Error("web role can read pii.household_person")
	}
}
