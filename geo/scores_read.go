package geo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bapeda-bekasi/sinergi/matching"
)

// RankedVillage is a village of the active set with its exact score (nil when the
// run has none for it).
type RankedVillage struct {
	VillageSummary
	Score *matching.NeedScore `json:"score"`
}

// Ranking is the newest score run of a period over the active set.
type Ranking struct {
	// Run is nil when no run exists for the active set yet.
	Run *ScoreRun `json:"run"`
	// Stale says the households or weights changed since the run.
	Stale bool `json:"stale"`
	// Periods lists the periods with runs over the active set, oldest first.
	Periods  []string         `json:"periods"`
	Weights  matching.Weights `json:"-"`
	Villages []RankedVillage  `json:"villages"`
}

const scoreRunCols = `id, period, set_id, weights_id, k, reason, created_by, created_at, households, villages, linked, params, timings`

func scanRun(row pgx.Row) (ScoreRun, error) {
	var r ScoreRun
	err := row.Scan(&r.ID, &r.Period, &r.SetID, &r.WeightsID, &r.K, &r.Reason, &r.CreatedBy, &r.CreatedAt, &r.Households,
		&r.Villages, &r.Linked, &r.Params, &r.Timings)
	return r, err
}

// ScorePeriods lists the periods with runs over set setID, oldest first.
func (s *Store) ScorePeriods(ctx context.Context, setID int64) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT DISTINCT period FROM score_run WHERE set_id = $1 ORDER BY period`, setID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LatestRun returns the newest run of period over set setID.
func (s *Store) LatestRun(ctx context.Context, period string, setID int64) (ScoreRun, error) {
	r, err := scanRun(s.Pool.QueryRow(ctx, `SELECT `+scoreRunCols+` FROM score_run WHERE period = $1 AND set_id = $2
		ORDER BY id DESC LIMIT 1`, period, setID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNoScores
	}
	return r, err
}

// scoreCols are the village_score columns storedScore reads.
const scoreCols = `code, kecamatan_code, households, in_need, h, a, m0, h_eb, m0_eb, density, hotspot,
	gi_z, gi_p, gi_q, rank, rank_kecamatan, detail::text, x, village_indicators::text`

// scoreColsOf is scoreCols qualified by a table alias.
func scoreColsOf(alias string) string {
	cols := strings.Split(scoreCols, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// storedScore is one village_score row as read by scoreCols. Nullable columns
// are value types, so a row can be kept by copying (only x needs cloning).
type storedScore struct {
	code, kec                             string
	households, inNeed                    int64
	h, a, m0, heb, m0eb, density, z, p, q pgtype.Float8
	hotspot                               string
	rank, rankKec                         int32
	detail, vi                            pgtype.Text
	x                                     []float64
}

func (r *storedScore) targets() []any {
	return []any{&r.code, &r.kec, &r.households, &r.inNeed, &r.h, &r.a, &r.m0, &r.heb, &r.m0eb, &r.density,
		&r.hotspot, &r.z, &r.p, &r.q, &r.rank, &r.rankKec, &r.detail, &r.x, &r.vi}
}

// score rebuilds the explained score: from the columns and the explain vector
// (made with the run's sector list), or from the JSON of runs stored before
// migration 010.
func (r *storedScore) score(sectors []string) (matching.NeedScore, error) {
	var sc matching.NeedScore
	if r.detail.Valid {
		err := json.Unmarshal([]byte(r.detail.String), &sc)
		return sc, err
	}
	val := func(f pgtype.Float8) matching.Value {
		if !f.Valid {
			return matching.NA
		}
		return matching.Value(f.Float64)
	}
	sc = matching.NeedScore{Code: r.code, KecamatanCode: r.kec, Households: matching.Count(r.households),
		InNeed: matching.Count(r.inNeed), H: val(r.h), A: val(r.a), M0: val(r.m0), HEB: val(r.heb), M0EB: val(r.m0eb),
		Density: val(r.density), HotSpot: matching.HotSpot{Z: val(r.z), P: val(r.p), Q: val(r.q), Label: r.hotspot},
		Rank: int(r.rank), RankKecamatan: int(r.rankKec)}
	if r.vi.Valid {
		if err := json.Unmarshal([]byte(r.vi.String), &sc.Village); err != nil {
			return sc, err
		}
	}
	return sc, sc.SetExplainVector(r.x, sectors)
}

// runSectors reads the sector order of a run's explain vectors.
func (s *Store) runSectors(ctx context.Context, runID int64) ([]string, error) {
	var sectors []string
	err := s.Pool.QueryRow(ctx, `SELECT coalesce(sectors, '{}') FROM score_run WHERE id = $1`, runID).Scan(&sectors)
	return sectors, err
}

// RunScores returns the exact scores of a run by village code, rebuilt on every
// core.
func (s *Store) RunScores(ctx context.Context, runID int64) (map[string]matching.NeedScore, error) {
	sectors, err := s.runSectors(ctx, runID)
	if err != nil {
		return nil, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+scoreCols+` FROM village_score WHERE run_id = $1`, runID)
	if err != nil {
		return nil, err
	}
	var stored []storedScore
	var r storedScore
	if _, err := pgx.ForEachRow(rows, r.targets(), func() error {
		c := r
		c.x = slices.Clone(r.x)
		stored = append(stored, c)
		return nil
	}); err != nil {
		return nil, err
	}
	decoded := make([]matching.NeedScore, len(stored))
	workers := min(runtime.GOMAXPROCS(0), 1+len(stored)/2000)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(stored); i += workers {
				sc, err := stored[i].score(sectors)
				if err != nil {
					errs[w] = fmt.Errorf("score of village %s in run %d: %w", stored[i].code, runID, err)
					return
				}
				decoded[i] = sc
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make(map[string]matching.NeedScore, len(stored))
	for i := range stored {
		out[stored[i].code] = decoded[i]
	}
	return out, nil
}

// Ranking returns the active villages with the newest exact scores of period
// (empty: the latest period scored). Without any run it returns the villages
// without scores, so the map works before the first `sinergi score`.
func (s *Store) Ranking(ctx context.Context, period string) (Ranking, error) {
	return s.RankingView(ctx, period, false)
}

// RankingView is Ranking with the scores exact, or disclosure-controlled
// (matching.ControlScores over the whole regency: the company view) when
// controlled is true. The villages and scores of a run never change, so both
// views are built once per run and process and then served from memory: a
// request costs four small metadata queries, not reading and decoding every
// village's explained score and controlling the table again (80,000 villages:
// seconds). The Villages slice and the scores it points to are shared between
// callers and must not be modified.
func (s *Store) RankingView(ctx context.Context, period string, controlled bool) (Ranking, error) {
	var rk Ranking
	setID, err := s.ActiveSetID(ctx, LevelDesa)
	if err != nil {
		return rk, err
	}
	if setID != 0 {
		if rk.Periods, err = s.ScorePeriods(ctx, setID); err != nil {
			return rk, err
		}
	}
	if setID == 0 || (period == "" && len(rk.Periods) == 0) {
		vs, err := s.ActiveVillages(ctx)
		if err != nil {
			return rk, err
		}
		rk.Villages = make([]RankedVillage, len(vs))
		for i, v := range vs {
			rk.Villages[i] = RankedVillage{VillageSummary: v}
		}
		return rk, nil
	}
	if period == "" {
		period = rk.Periods[len(rk.Periods)-1]
	}
	run, err := s.LatestRun(ctx, period, setID)
	if errors.Is(err, ErrNoScores) {
		return rk, fmt.Errorf("%w for period %s", ErrNoScores, period)
	}
	if err != nil {
		return rk, err
	}
	rk.Run = &run
	view, err := s.runView(ctx, run, controlled)
	if err != nil {
		return rk, err
	}
	rk.Weights, rk.Villages = view.weights, view.villages
	rk.Stale, err = s.runStale(ctx, run)
	return rk, err
}

// rankedRun is the villages of a run with their scores as one caller may see them.
type rankedRun struct {
	weights  matching.Weights
	villages []RankedVillage
}

type runViewKey struct {
	store      *Store
	run        int64
	controlled bool
}

// runViews caches the views of the newest runs (a few, since a ranking request
// names one period and runs are replaced on every recompute). Keys hold the store,
// because run ids repeat across databases (tests open many).
var runViews = struct {
	sync.Mutex
	m     map[runViewKey]*rankedRun
	order []runViewKey
}{m: map[runViewKey]*rankedRun{}}

// runViewCacheSize bounds runViews: current and previous run of a few periods,
// exact and controlled.
const runViewCacheSize = 16

func (s *Store) runView(ctx context.Context, run ScoreRun, controlled bool) (*rankedRun, error) {
	key := runViewKey{s, run.ID, controlled}
	runViews.Lock()
	v := runViews.m[key]
	runViews.Unlock()
	if v != nil {
		return v, nil
	}
	v, err := s.buildRunView(ctx, run, controlled)
	if err != nil {
		return nil, err
	}
	runViews.Lock()
	defer runViews.Unlock()
	if have := runViews.m[key]; have != nil {
		return have, nil // built by a concurrent request meanwhile
	}
	runViews.m[key] = v
	runViews.order = append(runViews.order, key)
	if len(runViews.order) > runViewCacheSize {
		delete(runViews.m, runViews.order[0])
		runViews.order = runViews.order[1:]
	}
	return v, nil
}

// buildRunView reads the villages of the run's set and the run's exact scores,
// and controls the whole table when asked.
func (s *Store) buildRunView(ctx context.Context, run ScoreRun, controlled bool) (*rankedRun, error) {
	v := &rankedRun{}
	var err error
	if v.weights, err = s.WeightsVersionByID(ctx, run.WeightsID); err != nil {
		return nil, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT v.code, v.name, v.kecamatan_code, v.kecamatan_name, v.kind,
		round(v.area_km2::numeric, 3)::float8 FROM village v WHERE v.set_id = $1 ORDER BY v.code`, run.SetID)
	if err != nil {
		return nil, err
	}
	vs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[VillageSummary])
	if err != nil {
		return nil, err
	}
	exact, err := s.RunScores(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	v.villages = make([]RankedVillage, len(vs))
	scores := make([]matching.NeedScore, 0, len(exact))
	at := make([]int, 0, len(exact))
	for i, vv := range vs {
		v.villages[i] = RankedVillage{VillageSummary: vv}
		if sc, ok := exact[vv.Code]; ok {
			scores = append(scores, sc)
			at = append(at, i)
		}
	}
	if controlled {
		// Control is applied to the whole regency before any filter, so smoothing
		// and ranks are the same on every page and in every kecamatan.
		scores = matching.ControlScores(scores, v.weights)
	}
	for j, i := range at {
		v.villages[i].Score = &scores[j]
	}
	return v, nil
}

// runStale reports whether households or weights changed after run.
func (s *Store) runStale(ctx context.Context, run ScoreRun) (bool, error) {
	var stale bool
	err := s.Pool.QueryRow(ctx, `SELECT
		coalesce((SELECT version FROM layer_version WHERE layer = 'need'), 0) <> r.need_version
		OR (SELECT max(id) FROM weights_version) <> r.weights_id
		FROM score_run r WHERE r.id = $1`, run.ID).Scan(&stale)
	return stale, err
}

// TrendPoint is a village's score in one period (the newest run of the period).
type TrendPoint struct {
	Period string             `json:"period"`
	RunID  int64              `json:"run_id"`
	Score  matching.NeedScore `json:"score"`
}

// VillageTrend returns code's scores over every period scored on set setID.
func (s *Store) VillageTrend(ctx context.Context, code string, setID int64) ([]TrendPoint, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT DISTINCT ON (r.period) r.period, r.id, coalesce(r.sectors, '{}'), `+scoreColsOf("vs")+`
		FROM score_run r JOIN village_score vs ON vs.run_id = r.id AND vs.code = $1
		WHERE r.set_id = $2 ORDER BY r.period, r.id DESC`, code, setID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (TrendPoint, error) {
		var tp TrendPoint
		var sectors []string
		var r storedScore
		if err := row.Scan(append([]any{&tp.Period, &tp.RunID, &sectors}, r.targets()...)...); err != nil {
			return tp, err
		}
		var err error
		tp.Score, err = r.score(sectors)
		return tp, err
	})
}

// VillageNeighbours returns the neighbours of code in set setID (from the stored
// adjacency), ordered by code.
func (s *Store) VillageNeighbours(ctx context.Context, code string, setID int64) ([]VillageSummary, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT v.code, v.name, v.kecamatan_code, v.kecamatan_name, v.kind, round(v.area_km2::numeric, 3)::float8
		FROM village_adjacency a JOIN village v ON v.set_id = a.set_id AND v.code = CASE WHEN a.a = $1 THEN a.b ELSE a.a END
		WHERE a.set_id = $2 AND (a.a = $1 OR a.b = $1) ORDER BY v.code`, code, setID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[VillageSummary])
}

// ActiveVillageGeometries returns each active village's geometry as GeoJSON
// (6 decimals, RFC 7946 orientation), built by PostGIS.
func (s *Store) ActiveVillageGeometries(ctx context.Context) (map[string]json.RawMessage, error) {
	rows, err := s.Pool.Query(ctx, `SELECT v.code, ST_AsGeoJSON(v.geom, 6) FROM village v
		JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active'`)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	var code, g string
	_, err = pgx.ForEachRow(rows, []any{&code, &g}, func() error { out[code] = json.RawMessage(g); return nil })
	return out, err
}
