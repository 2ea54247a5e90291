package geo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	start := time.Now()
	// One round trip for everything the recompute needs to start: a fresh CLI
	// process pays a statement preparation per query, and a loaded server a
	// scheduling delay per round trip.
	var (
		setID, weightsID *int64
		tolerance, k     *float64
		needVersion      int64
		rawWeights       []byte
		periods          = map[string]int{}
	)
	b := &pgx.Batch{}
	b.Queue(scoreContextSQL, LevelDesa).QueryRow(func(row pgx.Row) error {
		return row.Scan(&setID, &tolerance, &needVersion, &weightsID, &rawWeights, &k)
	})
	b.Queue(householdPeriodsSQL).Query(func(rows pgx.Rows) error {
		var p string
		var n int
		_, err := pgx.ForEachRow(rows, []any{&p, &n}, func() error { periods[p] = n; return nil })
		return err
	})
	if err := s.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if setID == nil {
		return nil, ErrNoActiveVillages
	}
	w := matching.DefaultWeights()
	if weightsID == nil {
		if err := w.Normalize(); err != nil {
			return nil, err
		}
	} else {
		var err error
		if w, err = matching.ParseWeights(rawWeights, *k); err != nil {
			return nil, fmt.Errorf("weights version %d: %w", *weightsID, err)
		}
		w.Version = *weightsID
	}
	t0 := time.Now()
	if tolerance == nil || *tolerance != opt.ToleranceM {
		if _, err := s.EnsureAdjacency(ctx, *setID, opt.ToleranceM); err != nil {
			return nil, err
		}
	}
	adjMs := ms(time.Since(t0))
	if opt.Period != "" {
		periods = map[string]int{opt.Period: periods[opt.Period]}
	}
	prepare := ms(time.Since(start))
	var runs []ScoreRun
	var adj map[string][]string // read with the first period's aggregate
	for _, period := range slices.Sorted(maps.Keys(periods)) {
		t := time.Now()
		run, err := s.scorePeriod(ctx, scoreInput{period: period, linked: periods[period] > 1, setID: *setID,
			needVersion: needVersion, weights: w}, &adj, opt)
		if err != nil {
			return runs, fmt.Errorf("period %s: %w", period, err)
		}
		// total is the wall time of this period's recompute including the commit
		// and the shared preparation (active set, weights, adjacency check, periods).
		run.Timings["adjacency"] = adjMs
		run.Timings["prepare"] = prepare
		run.Timings["total"] = prepare + ms(time.Since(t))
		// The stored run gets the finished timings too (its row was written
		// before write and total were known).
		if _, err := s.Pool.Exec(ctx, `UPDATE score_run SET timings = $2 WHERE id = $1`, run.ID, run.Timings); err != nil {
			return runs, fmt.Errorf("period %s: store timings of score run %d: %w", period, run.ID, err)
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// scoreContextSQL reads the active set, its adjacency tolerance, the need layer
// version and the newest weights in one row (NULLs when missing).
const scoreContextSQL = `
	SELECT s.id, a.tolerance_m, coalesce((SELECT version FROM layer_version WHERE layer = 'need'), 0), w.id, w.weights, w.k
	FROM (SELECT 1) one
	LEFT JOIN boundary_set s ON s.level = $1 AND s.status = 'active'
	LEFT JOIN village_adjacency_run a ON a.set_id = s.id
	LEFT JOIN LATERAL (SELECT id, weights, k FROM weights_version ORDER BY id DESC LIMIT 1) w ON true`

// householdPeriodsSQL lists each period with households and its number of
// registers. It walks the (register, period, external_id) index (a loose index
// scan), so it costs one index probe per pair instead of a table scan.
const householdPeriodsSQL = `
	WITH RECURSIVE t AS (
		(SELECT register, period FROM household ORDER BY register, period LIMIT 1)
		UNION ALL
		SELECT x.register, x.period FROM t CROSS JOIN LATERAL (
			SELECT register, period FROM household WHERE (register, period) > (t.register, t.period)
			ORDER BY register, period LIMIT 1) x
	) SELECT period, count(*) FROM t GROUP BY period`

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// HouseholdPeriods returns each period with households and its number of
// registers (householdPeriodsSQL).
func (s *Store) HouseholdPeriods(ctx context.Context) (map[string]int, error) {
	rows, err := s.Pool.Query(ctx, householdPeriodsSQL)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	var p string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&p, &n}, func() error { out[p] = n; return nil })
	return out, err
}

// Aggregation SQL: linked households per village, with the joint counts of the
// three deprivations (s stunting, e extreme poverty, u unemployment) — n, s, e,
// u, se, su, eu, seu — and person counts. Those eight counts give, by inclusion–
// exclusion, the households of every deprivation pattern (patternsFromMoments),
// which is all the Alkire–Foster index needs, for any weights.
//
// Grouping by village alone keeps the aggregate the shape of a bare GROUP BY
// village_code: grouping by village and pattern instead made about 5.4 groups
// per village and measured 1.3–1.7× the bare aggregate at 10,000,000 households
// over 80,000 villages, this form 1.0× (BENCHMARKS.md).
//
// When a period has households from several registers, records sharing a link key
// (keyed hash of the No. KK) are one household: flags are OR-ed and person counts
// take the largest report. With one register the merge is skipped (a register
// holds a family once), which keeps the common case one GROUP BY.
const (
	aggregateSQL = `
		SELECT h.village_code, count(*),
			count(*) FILTER (WHERE h.stunted > 0), count(*) FILTER (WHERE h.extreme_poor),
			count(*) FILTER (WHERE h.unemployed_adults > 0),
			count(*) FILTER (WHERE h.stunted > 0 AND h.extreme_poor),
			count(*) FILTER (WHERE h.stunted > 0 AND h.unemployed_adults > 0),
			count(*) FILTER (WHERE h.extreme_poor AND h.unemployed_adults > 0),
			count(*) FILTER (WHERE h.stunted > 0 AND h.extreme_poor AND h.unemployed_adults > 0),
			sum(h.children_u5), sum(h.stunted), sum(h.unemployed_adults)
		FROM household h
		WHERE h.period = $1 AND h.assigned_set = $2 AND h.retired_at IS NULL AND h.village_code IS NOT NULL
		GROUP BY 1`
	aggregateLinkedSQL = `
		WITH u AS (
			SELECT h.village_code, bool_or(h.stunted > 0) AS s, bool_or(h.extreme_poor) AS e,
				bool_or(h.unemployed_adults > 0) AS u,
				max(h.children_u5) AS cu5, max(h.stunted) AS st, max(h.unemployed_adults) AS ua
			FROM household h
			WHERE h.period = $1 AND h.assigned_set = $2 AND h.retired_at IS NULL AND h.village_code IS NOT NULL
			GROUP BY h.village_code, coalesce(h.link_key, int8send(h.id))
		)
		SELECT village_code, count(*), count(*) FILTER (WHERE s), count(*) FILTER (WHERE e), count(*) FILTER (WHERE u),
			count(*) FILTER (WHERE s AND e), count(*) FILTER (WHERE s AND u), count(*) FILTER (WHERE e AND u),
			count(*) FILTER (WHERE s AND e AND u), sum(cu5), sum(st), sum(ua)
		FROM u GROUP BY 1`
)

// patternsFromMoments turns the joint counts m = n, s, e, u, se, su, eu, seu
// into households per deprivation pattern (bit 0 stunting, 1 extreme poverty,
// 2 unemployment), by inclusion–exclusion.
func patternsFromMoments(m [8]int64) [matching.NumPatterns]int64 {
	n, s, e, u, se, su, eu, seu := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
	var p [matching.NumPatterns]int64
	p[0b111] = seu
	p[0b011] = se - seu
	p[0b101] = su - seu
	p[0b110] = eu - seu
	p[0b001] = s - se - su + seu
	p[0b010] = e - se - eu + seu
	p[0b100] = u - su - eu + seu
	p[0b000] = n - s - e - u + se + su + eu - seu
	return p
}

// lookupSQL reads, in one query, every village of the set with the population
// and village indicators of the year nearest the period's (the latest at or
// before it, else the earliest after). It is sent in the same batch as the
// household aggregate.
const lookupSQL = `
	WITH pop AS (
		SELECT DISTINCT ON (code) code, population, coalesce(households, 0) AS households FROM village_population
		ORDER BY code, CASE WHEN year <= $2 THEN $2 - year ELSE 1000 + year - $2 END
	), ind AS (
		SELECT code, array_agg(indicator) AS names, array_agg(value) AS vals FROM (
			SELECT DISTINCT ON (code, indicator) code, indicator, value FROM village_indicator
			ORDER BY code, indicator, CASE WHEN year <= $2 THEN $2 - year ELSE 1000 + year - $2 END) x
		GROUP BY code
	)
	SELECT v.code, v.kecamatan_code, v.area_km2, coalesce(pop.population, 0), coalesce(pop.households, 0),
		ind.names, ind.vals
	FROM village v LEFT JOIN pop ON pop.code = v.code LEFT JOIN ind ON ind.code = v.code
	WHERE v.set_id = $1 ORDER BY v.code`

// villageAggregate is one village's household aggregate.
type villageAggregate struct {
	patterns                        [matching.NumPatterns]int64
	childrenU5, stunted, unemployed int64
}

// indicatorBatch collects the results of the household aggregate and the village
// lookup queued on one batch.
type indicatorBatch struct {
	agg map[string]*villageAggregate
	vs  []matching.VillageIndicators
}

// aggregateWorkers is the parallel workers the household aggregate may use when
// the database runs on this machine and has fewer than four cores: one less
// than the cores, as the leader process works too. PostgreSQL's default (2)
// puts three processes on two cores there, which measured 5.2–5.5 s against
// 4.2–4.5 s with one worker (10,000,000 households, 80,000 villages). -1 leaves
// the server's setting alone (a remote database, or enough cores).
func (s *Store) aggregateWorkers() int {
	h := s.Pool.Config().ConnConfig.Host
	local := h == "localhost" || strings.HasPrefix(h, "/")
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		local = true
	}
	if n := runtime.NumCPU(); local && n < 4 {
		return max(n-1, 0)
	}
	return -1
}

// queueIndicators queues the household aggregate of one period and set and the
// village lookup on b; merge combines them once the batch has run.
func queueIndicators(b *pgx.Batch, period string, setID int64, linked bool) *indicatorBatch {
	ib := &indicatorBatch{agg: map[string]*villageAggregate{}}
	ib.queueAggregate(b, period, setID, linked)
	ib.queueLookup(b, period, setID)
	return ib
}

// queueAggregate queues the household aggregate (in a transaction: see
// sendIndicatorBatch).
func (ib *indicatorBatch) queueAggregate(b *pgx.Batch, period string, setID int64, linked bool) {
	// At 80,000 villages (and more so with the link-key merge) the default
	// work_mem (32 MB here) can make the hash aggregate spill to disk, which more
	// than doubles its time. The batch runs in a transaction (sendIndicatorBatch),
	// so this lasts for the aggregate only.
	b.Queue(`SET LOCAL work_mem = '256MB'`)
	q := aggregateSQL
	if linked {
		q = aggregateLinkedSQL
	}
	b.Queue(q, period, setID).Query(func(rows pgx.Rows) error {
		var code string
		var m [8]int64
		var cu5, st, ua int64
		_, err := pgx.ForEachRow(rows, []any{&code, &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &m[6], &m[7], &cu5, &st, &ua}, func() error {
			ib.agg[code] = &villageAggregate{patterns: patternsFromMoments(m), childrenU5: cu5, stunted: st, unemployed: ua}
			return nil
		})
		if err != nil {
			return fmt.Errorf("aggregate households of period %s: %w", period, err)
		}
		return nil
	})
}

// queueLookup queues the read of every village of the set with its population
// and village indicators.
func (ib *indicatorBatch) queueLookup(b *pgx.Batch, period string, setID int64) {
	b.Queue(lookupSQL, setID, periodYear(period)).Query(func(rows pgx.Rows) error {
		var vi matching.VillageIndicators
		var names []string
		var vals []float64
		_, err := pgx.ForEachRow(rows, []any{&vi.Code, &vi.KecamatanCode, &vi.AreaKm2, &vi.Population,
			&vi.PopulationHouseholds, &names, &vals}, func() error {
			v := vi
			if len(names) > 0 && len(names) == len(vals) {
				v.Village = make(map[string]float64, len(names))
				for i, n := range names {
					v.Village[n] = vals[i]
				}
			}
			ib.vs = append(ib.vs, v)
			return nil
		})
		if err != nil {
			return fmt.Errorf("villages of boundary set %d: %w", setID, err)
		}
		return nil
	})
}

// merge returns every village of the set with its aggregate.
func (ib *indicatorBatch) merge() []matching.VillageIndicators {
	for i := range ib.vs {
		if a := ib.agg[ib.vs[i].Code]; a != nil {
			ib.vs[i].Patterns = a.patterns
			ib.vs[i].ChildrenU5, ib.vs[i].StuntedChildren, ib.vs[i].UnemployedAdults = a.childrenU5, a.stunted, a.unemployed
		}
	}
	return ib.vs
}

// VillageIndicators aggregates the households of one period assigned to set
// setID into per-village indicators (every village of the set, also those without
// households), with population denominators and village indicators of the year
// nearest the period's (the latest at or before it, else the earliest after).
func (s *Store) VillageIndicators(ctx context.Context, period string, setID int64, linked bool) ([]matching.VillageIndicators, error) {
	b := &pgx.Batch{}
	ib := queueIndicators(b, period, setID, linked)
	if err := s.sendIndicatorBatch(ctx, b); err != nil {
		return nil, err
	}
	return ib.merge(), nil
}

// sendIndicatorBatch runs a batch holding queueIndicators' queries in a
// read-only transaction, the scope of its SET LOCAL.
func (s *Store) sendIndicatorBatch(ctx context.Context, b *pgx.Batch) error {
	return pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
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

// scoreInput is what scorePeriod scores.
type scoreInput struct {
	period      string
	linked      bool
	setID       int64
	needVersion int64
	weights     matching.Weights
}

// scorePeriod scores one period and stores the run. It reads the adjacency into
// *adj beside the aggregate when *adj is nil (the first period).
func (s *Store) scorePeriod(ctx context.Context, in scoreInput, adj *map[string][]string, opt ScoreOptions) (ScoreRun, error) {
	w := in.weights
	run := ScoreRun{Period: in.period, SetID: in.setID, WeightsID: w.Version, K: w.K, Reason: opt.Reason, CreatedBy: opt.By,
		Linked: in.linked, Timings: map[string]any{},
		Params: map[string]any{"seed": opt.Seed, "permutations": opt.Permutations, "alpha": opt.Alpha, "tolerance_m": opt.ToleranceM}}
	t := time.Now()
	// The village lookup and the adjacency go on a second connection while the
	// household aggregate runs: the database works on the aggregate, this
	// process decodes the lookup meanwhile (at 80,000 villages and 320,000
	// neighbour pairs, ~0.3 s off the recompute).
	ib := &indicatorBatch{agg: map[string]*villageAggregate{}}
	lb := &pgx.Batch{}
	ib.queueLookup(lb, in.period, in.setID)
	if *adj == nil {
		m := map[string][]string{}
		lb.Queue(`SELECT a, b FROM village_adjacency WHERE set_id = $1`, in.setID).Query(func(rows pgx.Rows) error {
			var a, b string
			_, err := pgx.ForEachRow(rows, []any{&a, &b}, func() error {
				m[a] = append(m[a], b)
				m[b] = append(m[b], a)
				return nil
			})
			return err
		})
		*adj = m
	}
	lookupDone := make(chan error, 1)
	go func() {
		t := time.Now()
		err := s.Pool.SendBatch(ctx, lb).Close()
		run.Timings["lookup"] = ms(time.Since(t)) // read after <-lookupDone
		if err == nil {
			// Retention: the new run will make keepRuns. Done here, beside the
			// aggregate, in its own transaction (the cascade trigger deletes the
			// rows): if this recompute fails, one run fewer is kept, no harm.
			t = time.Now()
			_, err = s.Pool.Exec(ctx, `DELETE FROM score_run WHERE period = $1 AND set_id = $2 AND id NOT IN (
				SELECT id FROM score_run WHERE period = $1 AND set_id = $2 ORDER BY id DESC LIMIT $3)`, in.period, in.setID, keepRuns-1)
			run.Timings["prune"] = ms(time.Since(t))
		}
		lookupDone <- err
	}()
	b := &pgx.Batch{}
	if n := s.aggregateWorkers(); n >= 0 {
		b.Queue(`SELECT set_config('max_parallel_workers_per_gather', $1, true)`, strconv.Itoa(n))
	}
	ib.queueAggregate(b, in.period, in.setID, in.linked)
	err := s.sendIndicatorBatch(ctx, b)
	if lerr := <-lookupDone; err == nil {
		err = lerr
	}
	if err != nil {
		*adj = nil
		return run, err
	}
	vs := ib.merge()
	run.Timings["aggregate"] = ms(time.Since(t))
	t = time.Now()
	scores := matching.ScoreVillages(vs, w)
	run.Timings["index"] = ms(time.Since(t))
	t = time.Now()
	matching.ApplyHotSpots(scores, *adj, matching.HotSpotOptions{Permutations: opt.Permutations, Seed: opt.Seed, Alpha: opt.Alpha})
	run.Timings["hotspots"] = ms(time.Since(t))
	for _, v := range vs {
		run.Households += v.Registered()
	}
	run.Villages = len(vs)
	t = time.Now()
	// The company view (disclosure control) is stored with the run so the tiles
	// and OGC items, built in SQL, serve companies the same values as the API.
	sectors := matching.SectorList(w)
	rows := scoreRows(scores, matching.ControlledRanks(scores, w), sectors)
	run.Timings["marshal"] = ms(time.Since(t))
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// Three round trips: the run row, the village scores by COPY, the rest.
		// (Measured on the demo regency: sending the scores as arrays through
		// unnest in a single batch was slower than COPY.)
		b := &pgx.Batch{}
		// Scores are derived data: a crash right after the commit loses at most
		// this run, and the previous one is then still the newest (the stale check
		// and `sinergi score` redo it). Not waiting for the WAL flush saves a disk
		// sync per recompute.
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(`SELECT pg_advisory_xact_lock(hashtext('sinergi.scores'))`)
		b.Queue(`INSERT INTO score_run (period, set_id, weights_id, k, reason, created_by, households,
			villages, linked, need_version, params, timings, sectors) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			RETURNING id, created_at`, in.period, in.setID, w.Version, w.K, opt.Reason, opt.By, run.Households, run.Villages,
			in.linked, in.needVersion, run.Params, run.Timings, sectors).QueryRow(func(row pgx.Row) error {
			return row.Scan(&run.ID, &run.CreatedAt)
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("store score run: %w", err)
		}
		for _, r := range rows {
			r[0] = run.ID
		}
		tc := time.Now()
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"village_score"}, []string{"run_id", "code", "kecamatan_code",
			"households", "in_need", "h", "a", "m0", "h_eb", "m0_eb", "density", "hotspot", "gi_z", "gi_p", "gi_q", "rank",
			"rank_kecamatan", "x", "village_indicators", "c_rank", "c_rank_kecamatan", "c_m0_eb"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("store village scores: %w", err)
		}
		run.Timings["copy"] = ms(time.Since(tc))
		tc = time.Now()
		b = &pgx.Batch{}
		b.Queue(`SELECT bump_layer('desa')`)
		b.Queue(`INSERT INTO audit_log (actor, action, object, detail) VALUES ($1, 'scores.recompute', $2, $3)`,
			opt.By, fmt.Sprintf("score_run:%d", run.ID), map[string]any{"period": in.period, "boundary_set": in.setID,
				"weights_version": w.Version, "reason": opt.Reason, "households": run.Households})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("store score run %d: %w", run.ID, err)
		}
		run.Timings["finish"] = ms(time.Since(tc)) // layer bumped, audit row
		return nil
	})
	if err != nil {
		return run, err
	}
	run.Timings["write"] = ms(time.Since(t))
	return run, nil
}

// scoreRows turns scores into village_score rows (run_id left 0): the columns,
// the explain vector (matching.ExplainVector in the order of sectors) and the
// village indicators, on every core. controlled is matching.ControlledRanks
// (scores), index for index: the company view's rank, rank within the
// kecamatan and smoothed M0 columns.
func scoreRows(scores []matching.NeedScore, controlled []matching.ControlledRank, sectors []string) [][]any {
	rows := make([][]any, len(scores))
	workers := min(runtime.GOMAXPROCS(0), 1+len(scores)/2000)
	var wg sync.WaitGroup
	for wk := range workers {
		wg.Go(func() {
			for i := wk; i < len(scores); i += workers {
				sc := &scores[i]
				var vi any
				if len(sc.Village) > 0 {
					vi = sc.Village
				}
				rows[i] = []any{int64(0), sc.Code, sc.KecamatanCode, int64(sc.Households), int64(sc.InNeed), nullable(sc.H),
					nullable(sc.A), nullable(sc.M0), nullable(sc.HEB), nullable(sc.M0EB), nullable(sc.Density), sc.HotSpot.Label,
					nullable(sc.HotSpot.Z), nullable(sc.HotSpot.P), nullable(sc.HotSpot.Q), sc.Rank, sc.RankKecamatan,
					sc.ExplainVector(sectors), vi, controlled[i].Rank, controlled[i].RankKecamatan, nullable(controlled[i].M0EB)}
			}
		})
	}
	wg.Wait()
	return rows
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
//
// The set and code conditions are written so that they cannot be index
// conditions ("+ 0", "IS TRUE"): otherwise the planner ANDs the GiST bitmap with a
// primary-key range scan over every village of the set with a larger code, once
// per village — quadratic, more than ten minutes at 80,000 villages.
func (s *Store) EnsureAdjacency(ctx context.Context, setID int64, toleranceM float64) (int, error) {
	var pairs int
	var have float64
	// Built already (the usual case): one read, no transaction or lock.
	err := s.Pool.QueryRow(ctx, `SELECT tolerance_m, pairs FROM village_adjacency_run WHERE set_id = $1`, setID).Scan(&have, &pairs)
	if err == nil && have == toleranceM {
		return pairs, nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sinergi.adjacency.' || $1))`, strconv.FormatInt(setID, 10)); err != nil {
			return err
		}
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
				ON v2.set_id + 0 = v1.set_id AND (v1.code < v2.code) IS TRUE AND ST_DWithin(v1.geom, v2.geom, $3)
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
