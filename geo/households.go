package geo

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
)

// HouseholdRecord is one parsed household row. Identity numbers arrive already
// hashed: the store never sees a NIK or No. KK in clear.
type HouseholdRecord struct {
	ExternalID       string
	KKHash, NIKHash  []byte // keyed hashes; KKHash is also the cross-register link key
	HeadName         string
	Address          string
	ReportedVillage  string
	Lon, Lat         float64 // NaN when the row has no location
	Members          int
	ChildrenU5       int
	Stunted          int
	ExtremePoor      bool
	Decile           int // 0 = unknown
	UnemployedAdults int
}

// ImportSpec says where household records come from.
type ImportSpec struct {
	Register, Period, Source, File, By string
	// GapTolerance is how far (metres) a point in a gap may be from the nearest village
	// to be assigned to it. Default 50.
	GapTolerance float64
	// RecordNoop keeps the batch and audit rows even when nothing changed.
	RecordNoop bool
}

// errNoChange rolls back an import that changed nothing.
var errNoChange = errors.New("no change")

// ImportResult counts what an import changed.
type ImportResult struct {
	BatchID    int64 `json:"batch_id"`
	Rows       int64 `json:"rows"`
	Inserted   int64 `json:"inserted"`
	Updated    int64 `json:"updated"`
	Unchanged  int64 `json:"unchanged"`
	Assigned   int64 `json:"assigned"` // rows of the file inside or near a village
	Unassigned int64 `json:"unassigned"`
}

// recordSource adapts an iterator to pgx.CopyFromSource so rows stream into COPY
// with constant memory.
type recordSource struct {
	next func() (HouseholdRecord, bool, error)
	cur  HouseholdRecord
	err  error
	n    int64
}

func (r *recordSource) Next() bool {
	rec, ok, err := r.next()
	if err != nil {
		r.err = err
		return false
	}
	r.cur = rec
	if ok {
		r.n++
	}
	return ok
}

func (r *recordSource) Values() ([]any, error) {
	c := r.cur
	var lon, lat *float64
	if !math.IsNaN(c.Lon) && !math.IsNaN(c.Lat) {
		lon, lat = &c.Lon, &c.Lat
	}
	var decile *int
	if c.Decile > 0 {
		decile = &c.Decile
	}
	var rep *string
	if c.ReportedVillage != "" {
		rep = &c.ReportedVillage
	}
	return []any{c.ExternalID, c.KKHash, c.NIKHash, c.HeadName, c.Address, rep, lon, lat,
		c.Members, c.ChildrenU5, c.Stunted, c.ExtremePoor, decile, c.UnemployedAdults}, nil
}

func (r *recordSource) Err() error { return r.err }

// ImportHouseholds streams records into a staging table with COPY and applies them
// set-based in one transaction: new rows are inserted, changed rows updated,
// unchanged rows left alone (so a re-import writes nothing), and the touched
// households are assigned to villages of the active desa set. Nothing is visible
// until the whole batch commits.
func (s *Store) ImportHouseholds(ctx context.Context, spec ImportSpec, next func() (HouseholdRecord, bool, error)) (ImportResult, error) {
	var res ImportResult
	if spec.GapTolerance <= 0 {
		spec.GapTolerance = 50
	}
	if spec.By == "" {
		spec.By = "cli"
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sinergi.households.' || $1 || '.' || $2))`, spec.Register, spec.Period); err != nil {
			return err
		}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM register WHERE key = $1)`, spec.Register).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("register %q is not known (known: eppgbm, p3ke, disnaker, survey, …)", spec.Register)
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE hh_stage (
			external_id text NOT NULL, kk_hash bytea, nik_hash bytea, head_name text, address text, reported_village text,
			lon float8, lat float8, members int, children_u5 int, stunted int, extreme_poor bool, decile smallint,
			unemployed_adults int, village_code text, method text) ON COMMIT DROP`); err != nil {
			return err
		}
		src := &recordSource{next: next}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"hh_stage"}, []string{"external_id", "kk_hash", "nik_hash", "head_name",
			"address", "reported_village", "lon", "lat", "members", "children_u5", "stunted", "extreme_poor", "decile",
			"unemployed_adults"}, src); err != nil {
			return fmt.Errorf("%s: copy households: %w", spec.File, err)
		}
		res.Rows = src.n
		if _, err := tx.Exec(ctx, `CREATE UNIQUE INDEX ON hh_stage (external_id)`); err != nil {
			return fmt.Errorf("%s: duplicate household ids in one file: %w", spec.File, err)
		}
		if _, err := tx.Exec(ctx, `ANALYZE hh_stage`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO import_batch (kind, register, period, source_file, loaded_by, rows_total)
			VALUES ('households', $1, $2, $3, $4, $5) RETURNING id`, spec.Register, spec.Period, spec.File, spec.By, res.Rows).
			Scan(&res.BatchID); err != nil {
			return err
		}
		// Assign villages in the staging table, so each household row is written once.
		setID, err := activeSetTx(ctx, tx, LevelDesa)
		if err != nil {
			return err
		}
		if setID != 0 {
			q := assignmentSQL(`SELECT external_id AS key, reported_village,
				CASE WHEN lon IS NOT NULL AND lat IS NOT NULL THEN ST_SetSRID(ST_MakePoint(lon, lat), 4326) END AS location
				FROM hh_stage`)
			if _, err := tx.Exec(ctx, `UPDATE hh_stage s SET village_code = r.code, method = r.method FROM (`+q+`) r
				WHERE s.external_id = r.key`, setID, spec.GapTolerance, gapDegrees(spec.GapTolerance)); err != nil {
				return fmt.Errorf("%s: assign villages: %w", spec.File, err)
			}
		}
		var assignedSet *int64
		if setID != 0 {
			assignedSet = &setID
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE hh_touched (id bigint PRIMARY KEY) ON COMMIT DROP`); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `
			WITH up AS (
				INSERT INTO household AS h (register, period, external_id, source, link_key, members, children_u5, stunted,
					extreme_poor, poverty_decile, unemployed_adults, reported_village, batch_id,
					village_code, assigned_set, assign_method)
				SELECT $1, $2, s.external_id, $3, s.kk_hash, s.members, s.children_u5, s.stunted, s.extreme_poor, s.decile,
					s.unemployed_adults, s.reported_village, $4, s.village_code, $5::bigint, s.method
				FROM hh_stage s
				ON CONFLICT (register, period, external_id) DO UPDATE SET
					source = EXCLUDED.source, link_key = EXCLUDED.link_key, members = EXCLUDED.members,
					children_u5 = EXCLUDED.children_u5, stunted = EXCLUDED.stunted, extreme_poor = EXCLUDED.extreme_poor,
					poverty_decile = EXCLUDED.poverty_decile, unemployed_adults = EXCLUDED.unemployed_adults,
					reported_village = EXCLUDED.reported_village, batch_id = EXCLUDED.batch_id, retired_at = NULL,
					village_code = EXCLUDED.village_code, assigned_set = EXCLUDED.assigned_set,
					assign_method = EXCLUDED.assign_method, updated_at = now()
				WHERE (h.source, h.link_key, h.members, h.children_u5, h.stunted, h.extreme_poor, h.poverty_decile,
						h.unemployed_adults, h.reported_village, h.retired_at, h.village_code, h.assigned_set, h.assign_method)
					IS DISTINCT FROM (EXCLUDED.source, EXCLUDED.link_key, EXCLUDED.members, EXCLUDED.children_u5,
						EXCLUDED.stunted, EXCLUDED.extreme_poor, EXCLUDED.poverty_decile, EXCLUDED.unemployed_adults,
						EXCLUDED.reported_village, NULL::timestamptz, EXCLUDED.village_code, EXCLUDED.assigned_set,
						EXCLUDED.assign_method)
				RETURNING h.id, (xmax = 0) AS inserted
			), t AS (INSERT INTO hh_touched SELECT id FROM up ON CONFLICT DO NOTHING)
			SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`,
			spec.Register, spec.Period, spec.Source, res.BatchID, assignedSet).Scan(&res.Inserted, &res.Updated)
		if err != nil {
			return fmt.Errorf("%s: upsert households: %w", spec.File, err)
		}
		var piiChanged int64
		err = tx.QueryRow(ctx, `
			WITH up AS (
				INSERT INTO pii.household_person AS p (household_id, head_name, address, nik_hash, kk_hash, location)
				SELECT h.id, coalesce(s.head_name, ''), coalesce(s.address, ''), s.nik_hash, s.kk_hash,
					CASE WHEN s.lon IS NOT NULL AND s.lat IS NOT NULL THEN ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END
				FROM hh_stage s JOIN household h ON h.register = $1 AND h.period = $2 AND h.external_id = s.external_id
				ON CONFLICT (household_id) DO UPDATE SET head_name = EXCLUDED.head_name, address = EXCLUDED.address,
					nik_hash = EXCLUDED.nik_hash, kk_hash = EXCLUDED.kk_hash, location = EXCLUDED.location
				WHERE (p.head_name, p.address, p.nik_hash, p.kk_hash) IS DISTINCT FROM
						(EXCLUDED.head_name, EXCLUDED.address, EXCLUDED.nik_hash, EXCLUDED.kk_hash)
					OR NOT (p.location IS NOT DISTINCT FROM EXCLUDED.location)
				RETURNING p.household_id, (xmax = 0) AS inserted
			), t AS (INSERT INTO hh_touched SELECT household_id FROM up ON CONFLICT DO NOTHING)
			SELECT count(*) FILTER (WHERE NOT inserted) FROM up`, spec.Register, spec.Period).Scan(&piiChanged)
		if err != nil {
			return fmt.Errorf("%s: upsert personal data: %w", spec.File, err)
		}
		var touched int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM hh_touched`).Scan(&touched); err != nil {
			return err
		}
		res.Updated = touched - res.Inserted
		res.Unchanged = res.Rows - touched
		if touched == 0 && !spec.RecordNoop {
			// Nothing changed: leave no batch or audit row behind, so a re-import writes nothing.
			return errNoChange
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE village_code IS NOT NULL), count(*) FILTER (WHERE village_code IS NULL)
			FROM hh_stage`).Scan(&res.Assigned, &res.Unassigned); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE import_batch SET finished_at = now(), status = 'done', rows_loaded = $2,
			summary = $3 WHERE id = $1`, res.BatchID, res.Rows, res); err != nil {
			return err
		}
		if touched > 0 {
			if _, err := tx.Exec(ctx, `SELECT bump_layer('need')`); err != nil {
				return err
			}
		}
		return auditTx(ctx, tx, AuditEntry{Actor: spec.By, Action: "households.import", Object: "register:" + spec.Register,
			Detail: map[string]any{"period": spec.Period, "file": spec.File, "rows": res.Rows, "inserted": res.Inserted,
				"updated": res.Updated}})
	})
	if errors.Is(err, errNoChange) {
		res.BatchID = 0
		return res, nil
	}
	return res, err
}

func activeSetTx(ctx context.Context, tx pgx.Tx, level string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM boundary_set WHERE level = $1 AND status = 'active'`, level).Scan(&id)
	return id, err
}

// assignHouseholds re-assigns every live household to the villages of set setID.
func assignHouseholds(ctx context.Context, tx pgx.Tx, setID int64, gapTolerance float64) (int64, error) {
	if gapTolerance <= 0 {
		gapTolerance = 50
	}
	return assignHouseholdsWhere(ctx, tx, setID, gapTolerance, "true")
}

// assignmentSQL returns a SELECT of (key, code, method) assigning the candidate
// points of candSQL — a query of (key, reported_village, location) — to villages of
// set $1 ($2: gap tolerance in metres, $3: the same in degrees for the index
// prefilter):
//   - a point inside exactly one village gets it ("inside");
//   - a point inside several (overlap slivers, or exactly on a shared border) gets
//     the one the register itself names if that is among them, else the lowest code
//     ("overlap");
//   - a point in no village gets the nearest village within the tolerance ("nearest");
//   - otherwise it stays unassigned ("none") — kept and counted, never dropped.
//
// candSQL is a fixed query of this package, never user input.
func assignmentSQL(candSQL string) string {
	return `
		WITH cand AS MATERIALIZED (` + candSQL + `),
		inside AS MATERIALIZED (
			SELECT c.key, x.code, x.n
			FROM cand c CROSS JOIN LATERAL (
				SELECT v.code, count(*) OVER () AS n FROM village v
				WHERE v.set_id = $1 AND ST_Intersects(v.geom, c.location)
				ORDER BY (v.code = c.reported_village) IS TRUE DESC, v.code LIMIT 1) x
			WHERE c.location IS NOT NULL
		), near AS (
			SELECT c.key, x.code
			FROM cand c CROSS JOIN LATERAL (
				SELECT v.code FROM village v
				WHERE v.set_id = $1 AND ST_DWithin(v.geom, c.location, $3)
					AND ST_DWithin(v.geom::geography, c.location::geography, $2)
				ORDER BY ST_Distance(v.geom::geography, c.location::geography), v.code LIMIT 1) x
			WHERE c.location IS NOT NULL AND NOT EXISTS (SELECT 1 FROM inside i WHERE i.key = c.key)
		)
		SELECT c.key, coalesce(i.code, n.code) AS code,
			CASE WHEN i.n > 1 THEN 'overlap' WHEN i.code IS NOT NULL THEN 'inside'
				WHEN n.code IS NOT NULL THEN 'nearest' ELSE 'none' END AS method
		FROM cand c LEFT JOIN inside i ON i.key = c.key LEFT JOIN near n ON n.key = c.key`
}

// gapDegrees converts a gap tolerance in metres to a generous bounding radius in
// degrees (one degree of latitude is ~111 km); the geography test decides.
func gapDegrees(m float64) float64 { return m / 100000.0 }

// assignHouseholdsWhere re-assigns the live households matching filter (a fixed SQL
// predicate on alias h) to villages of set setID, writing only rows whose
// assignment changes. It returns the number written.
func assignHouseholdsWhere(ctx context.Context, tx pgx.Tx, setID int64, gapTolerance float64, filter string) (int64, error) {
	q := assignmentSQL(`SELECT h.id AS key, h.reported_village, p.location
			FROM household h LEFT JOIN pii.household_person p ON p.household_id = h.id
			WHERE h.retired_at IS NULL AND (` + filter + `)`)
	tag, err := tx.Exec(ctx, `
		UPDATE household h SET village_code = r.code, assigned_set = $1, assign_method = r.method
		FROM (`+q+`) r
		WHERE h.id = r.key AND (h.village_code, h.assigned_set, h.assign_method) IS DISTINCT FROM (r.code, $1::bigint, r.method)`,
		setID, gapTolerance, gapDegrees(gapTolerance))
	if err != nil {
		return 0, fmt.Errorf("assign households to villages: %w", err)
	}
	return tag.RowsAffected(), nil
}
