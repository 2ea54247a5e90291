package geo

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// Plan statuses and their flow: submitted → approved (planner) → running → done;
// a planner may also reject a submitted plan.
const (
	PlanSubmitted = "submitted"
	PlanApproved  = "approved"
	PlanRunning   = "running"
	PlanDone      = "done"
	PlanRejected  = "rejected"
)

// planNext lists the statuses each status may move to.
var planNext = map[string][]string{
	PlanSubmitted: {PlanApproved, PlanRejected},
	PlanApproved:  {PlanRunning},
	PlanRunning:   {PlanDone},
}

// ErrPlanStatus means a status change outside the flow.
var ErrPlanStatus = errors.New("perubahan status tidak sah (status change not allowed)")

// ErrUnknownVillage means a code is not in the active desa set.
var ErrUnknownVillage = errors.New("kode desa tidak dikenal (unknown village code)")

// PlanView is a plan as one caller may see it. Company users see their own
// plans in full and other companies' plans by company, village and sector only.
type PlanView struct {
	ID                int64      `json:"id"`
	CompanyID         int64      `json:"company_id"`
	CompanyName       string     `json:"company_name"`
	Year              int        `json:"year"`
	VillageCode       string     `json:"village_code"`
	VillageName       string     `json:"village_name"`
	Sector            string     `json:"sector"`
	Status            string     `json:"status"`
	Program           string     `json:"program,omitempty"`
	Budget            *int64     `json:"budget,omitempty"`
	TargetHouseholds  *int       `json:"target_households,omitempty"`
	RealisedBudget    *int64     `json:"realised_budget,omitempty"`
	RealisationReport string     `json:"realisation_report,omitempty"`
	NeedsReview       bool       `json:"needs_review"`
	ProposalID        *int64     `json:"proposal_id,omitempty"`
	CreatedBy         string     `json:"created_by,omitempty"`
	ApprovedBy        *string    `json:"approved_by,omitempty"`
	ApprovedAt        *time.Time `json:"approved_at,omitempty"`
}

// PlanFilter selects plans.
type PlanFilter struct {
	Year      int
	CompanyID int64
	Village   string
	Status    string
}

// Plans lists plans for a viewer (see CompanyViewer: AllBudgets = full view).
func (s *Store) Plans(ctx context.Context, f PlanFilter, v CompanyViewer) ([]PlanView, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT p.id, p.company_id, c.name, p.year, p.village_code, COALESCE(vl.name, ''), p.sector, p.status, p.program,
		       p.budget, p.target_households, p.realised_budget, p.realisation_report, p.needs_review, p.proposal_id,
		       p.created_by, p.approved_by, p.approved_at
		FROM plan p JOIN company c ON c.id = p.company_id
		LEFT JOIN village vl ON vl.code = p.village_code
		     AND vl.set_id = (SELECT id FROM boundary_set WHERE level = 'desa' AND status = 'active')
		WHERE ($1 = 0 OR p.year = $1) AND ($2 = 0 OR p.company_id = $2) AND ($3 = '' OR p.village_code = $3)
		  AND ($4 = '' OR p.status = $4)
		ORDER BY p.year DESC, p.village_code, p.sector, c.name, p.id`, f.Year, f.CompanyID, f.Village, f.Status)
	if err != nil {
		return nil, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PlanView, error) {
		var p PlanView
		var budget int64
		var target int
		err := r.Scan(&p.ID, &p.CompanyID, &p.CompanyName, &p.Year, &p.VillageCode, &p.VillageName, &p.Sector, &p.Status,
			&p.Program, &budget, &target, &p.RealisedBudget, &p.RealisationReport, &p.NeedsReview, &p.ProposalID,
			&p.CreatedBy, &p.ApprovedBy, &p.ApprovedAt)
		p.Budget, p.TargetHouseholds = &budget, &target
		return p, err
	})
	if err != nil {
		return nil, err
	}
	for k := range ps {
		if !v.seesBudget(ps[k].CompanyID) {
			p := &ps[k]
			p.Budget, p.TargetHouseholds, p.RealisedBudget, p.RealisationReport, p.Program = nil, nil, nil, "", ""
			p.CreatedBy, p.ApprovedBy, p.ProposalID = "", nil, nil
		}
	}
	return ps, nil
}

// validatePlan checks a plan's fields against the database (company, active village).
func validatePlanTx(ctx context.Context, tx pgx.Tx, p Plan) error {
	if !ValidSector(p.Sector) {
		return fmt.Errorf("sektor %q tidak dikenal (unknown sector)", p.Sector)
	}
	if p.Year < 2000 || p.Year > 2100 {
		return fmt.Errorf("tahun %d di luar 2000–2100 (year out of range)", p.Year)
	}
	if p.Budget < 0 || p.TargetHouseholds < 0 {
		return errors.New("anggaran dan target tidak boleh negatif (budget and target must not be negative)")
	}
	var companyOK, villageOK bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM company WHERE id = $1),
		EXISTS (SELECT 1 FROM village WHERE code = $2 AND set_id = (SELECT id FROM boundary_set WHERE level = 'desa' AND status = 'active'))`,
		p.CompanyID, p.VillageCode).Scan(&companyOK, &villageOK); err != nil {
		return err
	}
	if !companyOK {
		return fmt.Errorf("perusahaan %d: %w", p.CompanyID, ErrNotFound)
	}
	if !villageOK {
		return fmt.Errorf("%s: %w", p.VillageCode, ErrUnknownVillage)
	}
	return nil
}

func insertPlanTx(ctx context.Context, tx pgx.Tx, p Plan, proposal *int64, by string) (int64, error) {
	if err := validatePlanTx(ctx, tx, p); err != nil {
		return 0, err
	}
	var sites any
	if mp := toGeomMultiPoint(p.Sites); mp != nil {
		sites = mp
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO plan (company_id, year, village_code, sector, sites, budget, target_households,
		status, program, created_by, proposal_id, approved_by, approved_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
		        CASE WHEN $8 = 'submitted' THEN NULL ELSE $10 END, CASE WHEN $8 = 'submitted' THEN NULL ELSE now() END)
		RETURNING id`, p.CompanyID, p.Year, p.VillageCode, p.Sector, sites, p.Budget, p.TargetHouseholds, p.Status,
		p.Program, by, proposal).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("plan %d/%s/%s: %w", p.Year, p.VillageCode, p.Sector, err)
	}
	return id, nil
}

// CreatePlan records a submitted plan (companies submit; planners approve).
func (s *Store) CreatePlan(ctx context.Context, p Plan, by string) (int64, error) {
	p.Status = PlanSubmitted
	var id int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if id, err = insertPlanTx(ctx, tx, p, nil, by); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('plans')`); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "plan.create", Object: fmt.Sprintf("plan:%d", id)})
	})
	return id, err
}

// PlanCompany returns the company of plan id (for authorisation), or ErrNotFound.
func (s *Store) PlanCompany(ctx context.Context, id int64) (int64, error) {
	var cid int64
	err := s.Pool.QueryRow(ctx, `SELECT company_id FROM plan WHERE id = $1`, id).Scan(&cid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("rencana %d: %w", id, ErrNotFound)
	}
	return cid, err
}

// PlanUpdate is a status change with, for running/done, the realisation.
type PlanUpdate struct {
	Status            string
	RealisedBudget    *int64
	RealisationReport string
}

// SetPlanStatus moves plan id along the flow (submitted → approved|rejected →
// running → done). Approval and rejection are the planner's; the API checks roles.
func (s *Store) SetPlanStatus(ctx context.Context, id int64, u PlanUpdate, by string, role Role) error {
	if u.RealisedBudget != nil && *u.RealisedBudget < 0 {
		return errors.New("realisasi anggaran tidak boleh negatif (realised budget must not be negative)")
	}
	if len(u.RealisationReport) > 4000 {
		return errors.New("laporan realisasi terlalu panjang, maksimal 4000 karakter (realisation report too long)")
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var cur string
		err := tx.QueryRow(ctx, `SELECT status FROM plan WHERE id = $1 FOR UPDATE`, id).Scan(&cur)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("rencana %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		ok := false
		for _, n := range planNext[cur] {
			ok = ok || n == u.Status
		}
		if !ok {
			return fmt.Errorf("rencana %d: %s → %s: %w", id, cur, u.Status, ErrPlanStatus)
		}
		if _, err := tx.Exec(ctx, `UPDATE plan SET status = $2, updated_at = now(),
			approved_by = CASE WHEN $2 IN ('approved', 'rejected') THEN $3 ELSE approved_by END,
			approved_at = CASE WHEN $2 IN ('approved', 'rejected') THEN now() ELSE approved_at END,
			realised_budget = COALESCE($4, realised_budget),
			realisation_report = CASE WHEN $5 = '' THEN realisation_report ELSE $5 END
			WHERE id = $1`, id, u.Status, by, u.RealisedBudget, u.RealisationReport); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('plans')`); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Role: role, Action: "plan." + u.Status, Object: fmt.Sprintf("plan:%d", id),
			Detail: map[string]any{"from": cur}})
	})
}

// ImportPlansResult summarises a `plans import`.
type ImportPlansResult struct {
	File  string `json:"file"`
	Plans int    `json:"plans"`
}

// ImportPlans loads a CSV of plans in one transaction (all or nothing). Columns:
// company_key, year, village_code, sector, budget, target_households, and
// optionally status (default submitted), program, realised_budget, lon, lat.
// Errors name the row.
func (s *Store) ImportPlans(ctx context.Context, r io.Reader, file, by string) (ImportPlansResult, error) {
	res := ImportPlansResult{File: file}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return res, fmt.Errorf("%s: header: %w", file, err)
	}
	col := map[string]int{}
	for k, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = k
	}
	for _, need := range []string{"company_key", "year", "village_code", "sector", "budget", "target_households"} {
		if _, ok := col[need]; !ok {
			return res, fmt.Errorf("%s: kolom %q tidak ada (missing column %q)", file, need, need)
		}
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		companies := map[string]int64{}
		for row := 2; ; row++ {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s row %d: %w", file, row, err)
			}
			get := func(c string) string {
				if k, ok := col[c]; ok && k < len(rec) {
					return strings.TrimSpace(rec[k])
				}
				return ""
			}
			bad := func(format string, a ...any) error {
				return fmt.Errorf("%s row %d: %s", file, row, fmt.Sprintf(format, a...))
			}
			key := get("company_key")
			cid, ok := companies[key]
			if !ok {
				err := tx.QueryRow(ctx, `SELECT id FROM company WHERE key = $1`, key).Scan(&cid)
				if errors.Is(err, pgx.ErrNoRows) {
					return bad("perusahaan %q tidak dikenal (unknown company key)", key)
				}
				if err != nil {
					return err
				}
				companies[key] = cid
			}
			p := Plan{CompanyID: cid, VillageCode: get("village_code"), Sector: strings.ToLower(get("sector")),
				Status: strings.ToLower(get("status")), Program: get("program")}
			if p.Status == "" {
				p.Status = PlanSubmitted
			}
			switch p.Status {
			case PlanSubmitted, PlanApproved, PlanRunning, PlanDone, PlanRejected:
			default:
				return bad("status %q tidak dikenal (unknown status)", p.Status)
			}
			if p.Year, err = strconv.Atoi(get("year")); err != nil {
				return bad("year %q bukan bilangan bulat (not a whole number)", get("year"))
			}
			if p.Budget, err = strconv.ParseInt(get("budget"), 10, 64); err != nil {
				return bad("budget %q bukan bilangan bulat rupiah (not whole rupiah)", get("budget"))
			}
			if p.TargetHouseholds, err = strconv.Atoi(get("target_households")); err != nil {
				return bad("target_households %q bukan bilangan bulat (not a whole number)", get("target_households"))
			}
			if lon, lat := get("lon"), get("lat"); lon != "" || lat != "" {
				x, err1 := strconv.ParseFloat(lon, 64)
				y, err2 := strconv.ParseFloat(lat, 64)
				if err1 != nil || err2 != nil {
					return bad("lon/lat %q/%q bukan angka (not numbers)", lon, lat)
				}
				p.Sites = []orb.Point{{x, y}}
			}
			id, err := insertPlanTx(ctx, tx, p, nil, by)
			if err != nil {
				return bad("%v", err)
			}
			if v := get("realised_budget"); v != "" {
				rb, err := strconv.ParseInt(v, 10, 64)
				if err != nil || rb < 0 {
					return bad("realised_budget %q bukan bilangan bulat ≥ 0 (not whole rupiah ≥ 0)", v)
				}
				if _, err := tx.Exec(ctx, `UPDATE plan SET realised_budget = $2 WHERE id = $1`, id, rb); err != nil {
					return err
				}
			}
			res.Plans++
		}
		if res.Plans == 0 {
			return fmt.Errorf("%s: tidak ada baris rencana (no plan rows)", file)
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('plans')`); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "plan.import", Object: file, Detail: map[string]any{"plans": res.Plans}})
	})
	return res, err
}

// CoverageCell compares one (village, sector) cell's need with the money planned there.
type CoverageCell struct {
	VillageCode string  `json:"village_code"`
	VillageName string  `json:"village_name"`
	Sector      string  `json:"sector"`
	Need        float64 `json:"need_households"`
	Planned     int64   `json:"planned_budget"`   // approved, running or done
	Submitted   int64   `json:"submitted_budget"` // awaiting approval
	Companies   int     `json:"companies"`
	Gap         bool    `json:"gap"`     // high need (top quartile of cells with need) and no plan
	Overlap     bool    `json:"overlap"` // several companies in the cell without a team
}

// Coverage lists every cell with need or plans in a year: need (MatchCells) against
// planned money, with gaps and overlaps. A cell's companies count as a team when
// their plans come from one accepted matcher proposal.
func (s *Store) Coverage(ctx context.Context, year int) ([]CoverageCell, error) {
	cells, err := s.MatchCells(ctx, year)
	if err != nil {
		return nil, err
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT p.village_code, p.sector,
		  COALESCE(sum(p.budget) FILTER (WHERE p.status IN ('approved', 'running', 'done')), 0),
		  COALESCE(sum(p.budget) FILTER (WHERE p.status = 'submitted'), 0),
		  count(DISTINCT p.company_id) FILTER (WHERE p.status <> 'rejected'),
		  count(DISTINCT COALESCE(p.proposal_id, -p.id)) FILTER (WHERE p.status <> 'rejected')
		FROM plan p WHERE p.year = $1 GROUP BY 1, 2`, year)
	if err != nil {
		return nil, err
	}
	type agg struct {
		planned, submitted int64
		companies, groups  int
	}
	plans := map[[2]string]agg{}
	for rows.Next() {
		var v, sec string
		var a agg
		if err := rows.Scan(&v, &sec, &a.planned, &a.submitted, &a.companies, &a.groups); err != nil {
			rows.Close()
			return nil, err
		}
		plans[[2]string{v, sec}] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names, err := s.activeVillageNames(ctx)
	if err != nil {
		return nil, err
	}
	var needs []float64
	for _, c := range cells {
		needs = append(needs, c.Households)
	}
	q3 := quantile(needs, 0.75)
	var out []CoverageCell
	seen := map[[2]string]bool{}
	for _, c := range cells {
		k := [2]string{c.VillageCode, c.Sector}
		seen[k] = true
		a := plans[k]
		out = append(out, CoverageCell{VillageCode: c.VillageCode, VillageName: names[c.VillageCode], Sector: c.Sector,
			Need: c.Households, Planned: a.planned, Submitted: a.submitted, Companies: a.companies,
			Gap: c.Households > 0 && c.Households >= q3 && a.companies == 0, Overlap: a.companies > 1 && a.groups > 1})
	}
	for k, a := range plans {
		if !seen[k] {
			out = append(out, CoverageCell{VillageCode: k[0], VillageName: names[k[0]], Sector: k[1], Planned: a.planned,
				Submitted: a.submitted, Companies: a.companies, Overlap: a.companies > 1 && a.groups > 1})
		}
	}
	sortCoverage(out)
	return out, nil
}
