package geo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/matching"
)

// Score defaults.
const (
	// DefaultAdjacencyTolerance (metres) snaps sliver gaps between neighbouring
	// villages: the real Bekasi layer was simplified polygon by polygon, so true
	// neighbours can be a few metres apart.
	DefaultAdjacencyTolerance = 5.0
	// DefaultHotSpotSeed fixes the Gi* permutations so a rerun gives the same p-values.
	DefaultHotSpotSeed = 20260101
	// keepRuns is how many runs per period and boundary set are kept.
	keepRuns = 10
)

// ErrNoActiveVillages means there is no active desa boundary set to score.
var ErrNoActiveVillages = errors.New("belum ada batas desa yang aktif (no active village boundary set); import and activate one first")

// ErrNoScores means no score run exists yet for the period asked.
var ErrNoScores = errors.New("belum ada skor (no scores yet); run `sinergi score`")

// ScoreOptions configure a recompute.
type ScoreOptions struct {
	// Period limits the recompute to one period; empty scores every period found.
	Period string
	By     string
	Reason string
	// ToleranceM is the adjacency snapping tolerance in metres (default 5).
	ToleranceM float64
	// Seed, Permutations and Alpha configure the hot spots (defaults: fixed seed, 999, 0.05).
	Seed         uint64
	Permutations int
	Alpha        float64
}

// ScoreRun describes one stored scoring.
type ScoreRun struct {
	ID         int64          `json:"id"`
	Period     string         `json:"period"`
	SetID      int64          `json:"boundary_set"`
	WeightsID  int64          `json:"weights_version"`
	K          float64        `json:"k"`
	Reason     string         `json:"reason"`
	CreatedBy  string         `json:"created_by"`
	CreatedAt  time.Time      `json:"created_at"`
	Households int64          `json:"households"`
	Villages   int            `json:"villages"`
	Linked     bool           `json:"linked"`
	Params     map[string]any `json:"params"`
	Timings    map[string]any `json:"timings_ms"`
}

// RecomputeScores scores every period of the households assigned to the active
// village set with the newest weights, and stores one run per period. Household
// imports, boundary activations and weight changes call it (or the CLI's
// `sinergi score`); it is safe to call concurrently (runs are serialised).
func (s *Store) RecomputeScores(ctx context.Context, by string) ([]ScoreRun, error) {
	return s.RecomputeScoresWith(ctx, ScoreOptions{By: by, Reason: "recompute"})
}

// RecomputeScoresWith is RecomputeScores with options.
func (s *Store) RecomputeScoresWith(ctx context.Context, opt ScoreOptions) ([]ScoreRun, error) {
	if opt.By == "" {
		opt.By = "cli"
	}
	if opt.ToleranceM <= 0 {
		opt.ToleranceM = DefaultAdjacencyTolerance
	}
	if opt.Seed == 0 {
		opt.Seed = DefaultHotSpotSeed
	}
	if opt.Permutations <= 0 {
		opt.Permutations = 999
	}
	if opt.Alpha <= 0 {
		opt.Alpha = 0.05
	}
	setID, err := s.ActiveSetID(ctx, LevelDesa)
	if err != nil {
		return nil, err
	}
	if setID == 0 {
		return nil, ErrNoActiveVillages
	}
	w, err := s.CurrentWeights(ctx)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := s.EnsureAdjacency(ctx, setID, opt.ToleranceM); err != nil {
		return nil, err
	}
	adjMs := ms(time.Since(t0))
	adj, err := s.Adjacency(ctx, setID)
	if err != nil {
		return nil, err
	}
	periods, err := s.HouseholdPeriods(ctx)
	if err != nil {
		return nil, err
	}
	if opt.Period != "" {
		periods = map[string]int{opt.Period: periods[opt.Period]}
	}
	var runs []ScoreRun
	for _, period := range slices.Sorted(maps.Keys(periods)) {
		run, err := s.scorePeriod(ctx, period, periods[period] > 1, setID, w, adj, opt)
		if err != nil {
			return runs, fmt.Errorf("period %s: %w", period, err)
		}
		run.Timings["adjacency"] = adjMs
		runs = append(runs, run)
	}
	return runs, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// HouseholdPeriods returns each period with households and its number of
// registers. It walks the (register, period, external_id) index (a loose index
// scan), so it costs one index probe per pair instead of a table scan.
func (s *Store) HouseholdPeriods(ctx context.Context) (map[string]int, error) {
	rows, err := s.Pool.Query(ctx, `
		WITH RECURSIVE t AS (
			(SELECT register, period FROM household ORDER BY register, period LIMIT 1)
			UNION ALL
			SELECT x.register, x.period FROM t CROSS JOIN LATERAL (
				SELECT register, period FROM household WHERE (register, period) > (t.register, t.period)
				ORDER BY register, period LIMIT 1) x
		) SELECT period, count(*) FROM t GROUP BY period`)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	var p string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&p, &n}, func() error { out[p] = n; return nil })
	return out, err
}

// Aggregation SQL: linked households per village and deprivation pattern (bit 0
// stunting, bit 1 extreme poverty, bit 2 unemployment), with person counts. The
// pattern counts are all the Alkire–Foster index needs, for any weights.
//
// When a period has households from several registers, records sharing a link key
// (keyed hash of the No. KK) are one household: flags are OR-ed and person counts
// take the largest report. With one register the merge is skipped (a register
// holds a family once), which keeps the common case one GROUP BY.
const (
	aggregateSQL = `
		SELECT h.village_code,
			((h.stunted > 0)::int | (h.extreme_poor::int << 1) | ((h.unemployed_adults > 0)::int << 2)) AS p,
			count(*), sum(h.children_u5), sum(h.stunted), sum(h.unemployed_adults)
		FROM household h
		WHERE h.period = $1 AND h.assigned_set = $2 AND h.retired_at IS NULL AND h.village_code IS NOT NULL
		GROUP BY 1, 2`
	aggregateLinkedSQL = `
		WITH u AS (
			SELECT h.village_code,
				(bool_or(h.stunted > 0)::int | (bool_or(h.extreme_poor)::int << 1) | (bool_or(h.unemployed_adults > 0)::int << 2)) AS p,
				max(h.children_u5) AS cu5, max(h.stunted) AS st, max(h.unemployed_adults) AS ua
			FROM household h
			WHERE h.period = $1 AND h.assigned_set = $2 AND h.retired_at IS NULL AND h.village_code IS NOT NULL
			GROUP BY h.village_code, coalesce(h.link_key, int8send(h.id))
		)
		SELECT village_code, p, count(*), sum(cu5), sum(st), sum(ua) FROM u GROUP BY 1, 2`
)

// VillageIndicators aggregates the households of one period assigned to set
// setID into per-village indicators (every village of the set, also those without
// households), with population denominators and village indicators of the year
// nearest the period's (the latest at or before it, else the earliest after).
func (s *Store) VillageIndicators(ctx context.Context, period string, setID int64, linked bool) ([]matching.VillageIndicators, error) {
	rows, err := s.Pool.Query(ctx, `SELECT code, kecamatan_code, area_km2 FROM village WHERE set_id = $1 ORDER BY code`, setID)
	if err != nil {
		return nil, err
	}
	var out []matching.VillageIndicators
	var vi matching.VillageIndicators
	if _, err := pgx.ForEachRow(rows, []any{&vi.Code, &vi.KecamatanCode, &vi.AreaKm2}, func() error {
		out = append(out, vi)
		return nil
	}); err != nil {
		return nil, err
	}
	at := make(map[string]int, len(out))
	for i, v := range out {
		at[v.Code] = i
	}
	q := aggregateSQL
	if linked {
		q = aggregateLinkedSQL
	}
	rows, err = s.Pool.Query(ctx, q, period, setID)
	if err != nil {
		return nil, fmt.Errorf("aggregate households: %w", err)
	}
	var code string
	var p int
	var n, cu5, st, ua int64
	if _, err := pgx.ForEachRow(rows, []any{&code, &p, &n, &cu5, &st, &ua}, func() error {
		i, ok := at[code]
		if !ok || p < 0 || p >= matching.NumPatterns {
			return nil
		}
		out[i].Patterns[p] += n
		out[i].ChildrenU5 += cu5
		out[i].StuntedChildren += st
		out[i].UnemployedAdults += ua
		return nil
	}); err != nil {
		return nil, fmt.Errorf("aggregate households: %w", err)
	}
	year := periodYear(period)
	rows, err = s.Pool.Query(ctx, `
		SELECT DISTINCT ON (code) code, population, coalesce(households, 0) FROM village_population
		ORDER BY code, CASE WHEN year <= $1 THEN $1 - year ELSE 1000 + year - $1 END`, year)
	if err != nil {
		return nil, err
	}
	var pop, phh int64
	if _, err := pgx.ForEachRow(rows, []any{&code, &pop, &phh}, func() error {
		if i, ok := at[code]; ok {
			out[i].Population, out[i].PopulationHouseholds = pop, phh
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("village population: %w", err)
	}
	rows, err = s.Pool.Query(ctx, `
		SELECT DISTINCT ON (code, indicator) code, indicator, value FROM village_indicator
		ORDER BY code, indicator, CASE WHEN year <= $1 THEN $1 - year ELSE 1000 + year - $1 END`, year)
	if err != nil {
		return nil, err
	}
	var ind string
	var val float64
	if _, err := pgx.ForEachRow(rows, []any{&code, &ind, &val}, func() error {
		if i, ok := at[code]; ok {
			if out[i].Village == nil {
				out[i].Village = map[string]float64{}
			}
			out[i].Village[ind] = val
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("village indicators: %w", err)
	}
	return out, nil
}

// periodYear reads the year a period starts with ("2026", "2026-08", "2026S1");
// other periods count as the current year.
func periodYear(period string) int {
	if len(period) >= 4 {
		if y, err := strconv.Atoi(period[:4]); err == nil {
			return y
		}
	}
	return time.Now().Year()
}

func (s *Store) scorePeriod(ctx context.Context, period string, linked bool, setID int64, w matching.Weights,
	adj map[string][]string, opt ScoreOptions) (ScoreRun, error) {
	run := ScoreRun{Period: period, SetID: setID, WeightsID: w.Version, K: w.K, Reason: opt.Reason, CreatedBy: opt.By,
		Linked: linked, Timings: map[string]any{},
		Params: map[string]any{"seed": opt.Seed, "permutations": opt.Permutations, "alpha": opt.Alpha, "tolerance_m": opt.ToleranceM}}
	var needVersion int64
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce((SELECT version FROM layer_version WHERE layer = 'need'), 0)`).Scan(&needVersion); err != nil {
		return run, err
	}
	t := time.Now()
	vs, err := s.VillageIndicators(ctx, period, setID, linked)
	if err != nil {
		return run, err
	}
	run.Timings["aggregate"] = ms(time.Since(t))
	t = time.Now()
	scores := matching.ScoreVillages(vs, w)
	run.Timings["index"] = ms(time.Since(t))
	t = time.Now()
	matching.ApplyHotSpots(scores, adj, matching.HotSpotOptions{Permutations: opt.Permutations, Seed: opt.Seed, Alpha: opt.Alpha})
	run.Timings["hotspots"] = ms(time.Since(t))
	for _, v := range vs {
		run.Households += v.Registered()
	}
	run.Villages = len(vs)
	t = time.Now()
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sinergi.scores'))`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO score_run (period, set_id, weights_id, k, reason, created_by, households,
			villages, linked, need_version, params) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			RETURNING id, created_at`, period, setID, w.Version, w.K, opt.Reason, opt.By, run.Households, run.Villages,
			linked, needVersion, run.Params).Scan(&run.ID, &run.CreatedAt); err != nil {
			return fmt.Errorf("store score run: %w", err)
		}
		rows := make([][]any, len(scores))
		for i, sc := range scores {
			detail, err := json.Marshal(sc)
			if err != nil {
				return fmt.Errorf("village %s: %w", sc.Code, err)
			}
			rows[i] = []any{run.ID, sc.Code, sc.KecamatanCode, int64(sc.Households), int64(sc.InNeed), nullable(sc.H),
				nullable(sc.A), nullable(sc.M0), nullable(sc.HEB), nullable(sc.M0EB), nullable(sc.Density), sc.HotSpot.Label,
				nullable(sc.HotSpot.Z), nullable(sc.HotSpot.P), nullable(sc.HotSpot.Q), sc.Rank, sc.RankKecamatan, string(detail)}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"village_score"}, []string{"run_id", "code", "kecamatan_code",
			"households", "in_need", "h", "a", "m0", "h_eb", "m0_eb", "density", "hotspot", "gi_z", "gi_p", "gi_q", "rank",
			"rank_kecamatan", "detail"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("store village scores: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM score_run WHERE period = $1 AND set_id = $2 AND id NOT IN (
			SELECT id FROM score_run WHERE period = $1 AND set_id = $2 ORDER BY id DESC LIMIT $3)`, period, setID, keepRuns); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('desa')`); err != nil {
			return err
		}
		run.Timings["write"] = ms(time.Since(t))
		if _, err := tx.Exec(ctx, `UPDATE score_run SET timings = $2 WHERE id = $1`, run.ID, run.Timings); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: opt.By, Action: "scores.recompute", Object: fmt.Sprintf("score_run:%d", run.ID),
			Detail: map[string]any{"period": period, "boundary_set": setID, "weights_version": w.Version, "reason": opt.Reason,
				"households": run.Households}})
	})
	return run, err
}

func nullable(v matching.Value) *float64 {
	if !v.Valid() {
		return nil
	}
	f := float64(v)
	return &f
}

// EnsureAdjacency builds the village adjacency of set setID once: two villages are
// neighbours when their boundaries come within toleranceM metres (geodesic), which
// bridges the sliver gaps of independently simplified layers. A planar prefilter
// in degrees lets the GiST index do the search. It returns the number of pairs.
func (s *Store) EnsureAdjacency(ctx context.Context, setID int64, toleranceM float64) (int, error) {
	var pairs int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sinergi.adjacency.' || $1))`, strconv.FormatInt(setID, 10)); err != nil {
			return err
		}
		var have float64
		err := tx.QueryRow(ctx, `SELECT tolerance_m, pairs FROM village_adjacency_run WHERE set_id = $1`, setID).Scan(&have, &pairs)
		if err == nil && have == toleranceM {
			return nil
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM village_adjacency_run WHERE set_id = $1`, setID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO village_adjacency_run (set_id, tolerance_m, pairs) VALUES ($1, $2, 0)`,
			setID, toleranceM); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO village_adjacency (set_id, a, b)
			SELECT $1, v1.code, v2.code FROM village v1 JOIN village v2
				ON v2.set_id = v1.set_id AND v1.code < v2.code AND ST_DWithin(v1.geom, v2.geom, $3)
			WHERE v1.set_id = $1 AND (ST_Intersects(v1.geom, v2.geom)
				OR ST_DWithin(v1.geom::geography, v2.geom::geography, $2, false))`,
			setID, toleranceM, gapDegrees(toleranceM)*2)
		if err != nil {
			return fmt.Errorf("build village adjacency for boundary set %d: %w", setID, err)
		}
		pairs = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `UPDATE village_adjacency_run SET pairs = $2 WHERE set_id = $1`, setID, pairs)
		return err
	})
	return pairs, err
}

// Adjacency returns each village's neighbours in set setID (both directions).
func (s *Store) Adjacency(ctx context.Context, setID int64) (map[string][]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT a, b FROM village_adjacency WHERE set_id = $1`, setID)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	var a, b string
	_, err = pgx.ForEachRow(rows, []any{&a, &b}, func() error {
		out[a] = append(out[a], b)
		out[b] = append(out[b], a)
		return nil
	})
	return out, err
}
