package geo

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// NeedCellMin is the fewest households a published need cell holds.
const NeedCellMin = 10

// needCoarsestLevel is the coarsest need grid kept (tiles of zoom 4).
const needCoarsestLevel = 4 + needLevelOffset

// inNeedSQL selects one location per in-need household. A household counts as in
// need when it has a stunted child, is extremely poor or has an unemployed adult
// (until the scores engineer's Alkire–Foster k-cut is available as a table). One
// family listed by several registers (same linkage key) or periods counts once.
const inNeedSQL = `
	SELECT DISTINCT ON (coalesce(encode(h.link_key, 'hex'), h.register || ':' || h.external_id))
		ST_Transform(p.location, 3857) AS loc
	FROM household h JOIN pii.household_person p ON p.household_id = h.id
	WHERE h.retired_at IS NULL AND p.location IS NOT NULL
		AND (h.stunted > 0 OR h.extreme_poor OR h.unemployed_adults > 0)
	ORDER BY coalesce(encode(h.link_key, 'hex'), h.register || ':' || h.external_id), h.period DESC`

// NeedRefresh says what RefreshNeedCells did.
type NeedRefresh struct {
	Refreshed bool  `json:"refreshed"`
	Version   int64 `json:"version"`
	Cells     int   `json:"cells"`
}

type cellKey struct{ x, y int32 }

// RefreshNeedCells rebuilds the need grid (need_cell) when the need layer's
// version moved since the last build. It reads household locations, so it needs
// the owner store; it writes only counts per cell. Cells are counted at the
// finest level and merged upwards: a cell publishes the sum of its published
// children plus the pooled households of its unpublished children when those are
// at least NeedCellMin, and carries them up otherwise. So every published count
// is ≥ NeedCellMin, and a parent minus its published children is 0 or a pooled
// group of ≥ NeedCellMin households: no differencing reveals a smaller group.
func (s *Store) RefreshNeedCells(ctx context.Context) (NeedRefresh, error) {
	var out NeedRefresh
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var have int64
		if err := tx.QueryRow(ctx, `SELECT version FROM need_cell_state FOR UPDATE`).Scan(&have); err != nil {
			return fmt.Errorf("need grid: read state: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT version FROM layer_version WHERE layer = 'need'), 0)`).Scan(&out.Version); err != nil {
			return fmt.Errorf("need grid: read layer version: %w", err)
		}
		if have == out.Version {
			return nil
		}
		size := earthCircumference / float64(int(1)<<needFinestLevel)
		rows, err := tx.Query(ctx, `SELECT floor((ST_X(loc) + $1 / 2) / $2)::int, floor(($1 / 2 - ST_Y(loc)) / $2)::int, count(*)::int
			FROM (`+inNeedSQL+`) q GROUP BY 1, 2`, earthCircumference, size)
		if err != nil {
			return fmt.Errorf("need grid: count households: %w", err)
		}
		level := map[cellKey]int{}
		var (
			cx, cy int32
			n      int
		)
		if _, err := pgx.ForEachRow(rows, []any{&cx, &cy, &n}, func() error { level[cellKey{cx, cy}] = n; return nil }); err != nil {
			return fmt.Errorf("need grid: count households: %w", err)
		}
		var lv []int16
		var xs, ys, counts []int32
		emit := func(l int, k cellKey, c int) {
			lv, xs, ys, counts = append(lv, int16(l)), append(xs, k.x), append(ys, k.y), append(counts, int32(c))
		}
		// carry holds households not yet published, per cell of the current level.
		published := map[cellKey]int{}
		carry := level
		for l := needFinestLevel; l >= needCoarsestLevel; l-- {
			next := map[cellKey]int{}
			nextCarry := map[cellKey]int{}
			keys := map[cellKey]bool{}
			for k := range published {
				keys[k] = true
			}
			for k := range carry {
				keys[k] = true
			}
			for k := range keys {
				p, r := published[k], carry[k]
				if r >= NeedCellMin {
					p, r = p+r, 0
				}
				if p >= NeedCellMin {
					emit(l, k, p)
				}
				parent := cellKey{k.x >> 1, k.y >> 1}
				next[parent] += p
				if r > 0 {
					nextCarry[parent] += r
				}
			}
			published, carry = next, nextCarry
		}
		if _, err := tx.Exec(ctx, `DELETE FROM need_cell`); err != nil {
			return fmt.Errorf("need grid: clear: %w", err)
		}
		if len(lv) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO need_cell (level, cx, cy, households, geom)
				SELECT l, x, y, c, ST_TileEnvelope(l, x, y) FROM unnest($1::smallint[], $2::int[], $3::int[], $4::int[]) AS u(l, x, y, c)`,
				lv, xs, ys, counts); err != nil {
				return fmt.Errorf("need grid: write cells: %w", err)
			}
		}
		out.Refreshed, out.Cells = true, len(lv)
		_, err = tx.Exec(ctx, `UPDATE need_cell_state SET version = $1, cells = $2, refreshed_at = now()`, out.Version, out.Cells)
		return err
	})
	return out, err
}
