package geo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/matching"
)

// MatchCellRow is the need of one (village, sector) cell for the matcher.
type MatchCellRow struct {
	VillageCode string  `json:"village_code"`
	Sector      string  `json:"sector"`
	Households  float64 `json:"households"` // in-need households
	Weight      float64 `json:"weight"`     // need weight per household (1 until scores feed it)
}

// matchCellsSQL is the interim need per cell, straight from the household table:
// kesehatan ← households with a stunted child; ekonomi ← extreme-poor households or
// households with an unemployed adult. Households are counted once per cell
// (across registers by their link key). Replace with the need scores (migration
// 004) by changing only MatchCells.
const matchCellsSQL = `
WITH agg AS (
  SELECT village_code,
    count(DISTINCT link_key) FILTER (WHERE stunted > 0)
      + count(*) FILTER (WHERE stunted > 0 AND link_key IS NULL) AS kesehatan,
    count(DISTINCT link_key) FILTER (WHERE extreme_poor OR unemployed_adults > 0)
      + count(*) FILTER (WHERE (extreme_poor OR unemployed_adults > 0) AND link_key IS NULL) AS ekonomi
  FROM household
  WHERE retired_at IS NULL AND village_code IS NOT NULL AND ($1 = 0 OR period LIKE $1::text || '%')
  GROUP BY village_code
)
SELECT village_code, 'kesehatan', kesehatan FROM agg WHERE kesehatan > 0
UNION ALL
SELECT village_code, 'ekonomi', ekonomi FROM agg WHERE ekonomi > 0
ORDER BY 1, 2`

// MatchCells returns the need of every (village, sector) cell for a year (0: all
// periods). Until the need scores land this is a plain aggregate of households;
// when the year has no households it falls back to every period.
func (s *Store) MatchCells(ctx context.Context, year int) ([]MatchCellRow, error) {
	read := func(y int) ([]MatchCellRow, error) {
		rows, err := s.Pool.Query(ctx, matchCellsSQL, y)
		if err != nil {
			return nil, fmt.Errorf("need per cell: %w", err)
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MatchCellRow, error) {
			c := MatchCellRow{Weight: 1}
			var n int64
			err := r.Scan(&c.VillageCode, &c.Sector, &n)
			c.Households = float64(n)
			return c, err
		})
	}
	cells, err := read(year)
	if err == nil && len(cells) == 0 && year != 0 {
		return read(0)
	}
	return cells, err
}

func (s *Store) activeVillageNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT code, name FROM village
		WHERE set_id = (SELECT id FROM boundary_set WHERE level = 'desa' AND status = 'active')`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var c, n string
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.Inf(1)
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func sortCoverage(cs []CoverageCell) {
	sort.SliceStable(cs, func(a, b int) bool {
		if cs[a].VillageCode != cs[b].VillageCode {
			return cs[a].VillageCode < cs[b].VillageCode
		}
		return cs[a].Sector < cs[b].Sector
	})
}

// UnitCosts returns rupiah per in-need household for each sector, in Sectors order.
func (s *Store) UnitCosts(ctx context.Context) ([]float64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT sector, rupiah FROM match_unit_cost`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	by := map[string]int64{}
	for rows.Next() {
		var sec string
		var r int64
		if err := rows.Scan(&sec, &r); err != nil {
			return nil, err
		}
		by[sec] = r
	}
	out := make([]float64, len(Sectors))
	for k, sec := range Sectors {
		if by[sec] <= 0 {
			return nil, fmt.Errorf("biaya satuan sektor %s belum diatur (unit cost of %s not set)", sec, sec)
		}
		out[k] = float64(by[sec])
	}
	return out, rows.Err()
}

// MatchRule is a planner's pin or exclusion.
type MatchRule struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind"` // pin | exclude
	CompanyID   int64  `json:"company_id"`
	VillageCode string `json:"village_code"`
	Sector      string `json:"sector,omitempty"` // empty: every sector
	Year        int    `json:"year"`
	Note        string `json:"note,omitempty"`
}

// AddMatchRule records a pin or exclusion.
func (s *Store) AddMatchRule(ctx context.Context, r MatchRule, by string) (int64, error) {
	if r.Kind != "pin" && r.Kind != "exclude" {
		return 0, fmt.Errorf("jenis aturan %q: pakai pin atau exclude (rule kind: use pin or exclude)", r.Kind)
	}
	if r.Sector != "" && !ValidSector(r.Sector) {
		return 0, fmt.Errorf("sektor %q tidak dikenal (unknown sector)", r.Sector)
	}
	var sector any
	if r.Sector != "" {
		sector = r.Sector
	}
	var id int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := validatePlanTx(ctx, tx, Plan{CompanyID: r.CompanyID, VillageCode: r.VillageCode, Sector: Sectors[0], Year: r.Year}); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO match_rule (kind, company_id, village_code, sector, year, note, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (kind, company_id, village_code, sector, year) DO UPDATE SET note = EXCLUDED.note
			RETURNING id`, r.Kind, r.CompanyID, r.VillageCode, sector, r.Year, r.Note, by).Scan(&id); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "match.rule", Object: fmt.Sprintf("match_rule:%d", id),
			Detail: map[string]any{"kind": r.Kind, "company_id": r.CompanyID, "village": r.VillageCode, "sector": r.Sector}})
	})
	return id, err
}

// MatchRules lists a year's pins and exclusions.
func (s *Store) MatchRules(ctx context.Context, year int) ([]MatchRule, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, kind, company_id, village_code, COALESCE(sector, ''), year, note
		FROM match_rule WHERE year = $1 ORDER BY id`, year)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[MatchRule])
}

// MatchRequest selects a matcher run.
type MatchRequest struct {
	Mode       string   `json:"mode"`
	Year       int      `json:"year"`
	Villages   []string `json:"villages,omitempty"` // locus candidates; empty: top LocusTop
	LocusTop   int      `json:"locus_top,omitempty"`
	MaxPerCell int      `json:"max_per_cell,omitempty"`
	// PriorityListID (locus mode) takes the candidates from the newest version of
	// a saved priority list, in its order, instead of Villages or the top LocusTop.
	PriorityListID int64 `json:"priority_list_id,omitempty"`
	// OnlyCompany restricts the run to one company (its own suggestions).
	OnlyCompany int64 `json:"-"`
}

// BuildMatchInput assembles the matcher's plain input from the database: need per
// cell (MatchCells), companies with budgets, interests and reach lists (PostGIS),
// unit costs, and the year's pins and exclusions.
func (s *Store) BuildMatchInput(ctx context.Context, req MatchRequest) (matching.MatchInput, error) {
	in := matching.MatchInput{Mode: req.Mode, Sectors: Sectors, MaxPerCell: req.MaxPerCell, LocusTop: req.LocusTop}
	var err error
	if in.UnitCost, err = s.UnitCosts(ctx); err != nil {
		return in, err
	}
	names, err := s.activeVillageNames(ctx)
	if err != nil {
		return in, err
	}
	if len(names) == 0 {
		return in, errors.New("belum ada batas desa aktif (no active village boundaries)")
	}
	codes := make([]string, 0, len(names))
	for c := range names {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	vidx := make(map[string]int, len(codes))
	for k, c := range codes {
		vidx[c] = k
		in.Villages = append(in.Villages, matching.MatchVillage{Code: c, Name: names[c]})
	}
	sidx := map[string]int{}
	for k, sec := range Sectors {
		sidx[sec] = k
	}
	cells, err := s.MatchCells(ctx, req.Year)
	if err != nil {
		return in, err
	}
	for _, c := range cells {
		v, ok := vidx[c.VillageCode]
		if !ok {
			continue // households assigned to a retired set's code; reassignment happens on activation
		}
		in.Cells = append(in.Cells, matching.MatchCell{Village: v, Sector: sidx[c.Sector], Households: c.Households, Weight: c.Weight})
	}
	rows, err := s.Pool.Query(ctx, `SELECT id, name, budget_per_year, budget_by_sector, sectors, reach_km FROM company
		WHERE ($1::bigint = 0 OR id = $1) ORDER BY id`, req.OnlyCompany)
	if err != nil {
		return in, err
	}
	cidx := map[int64]int{}
	for rows.Next() {
		var co matching.MatchCompany
		var budget int64
		var bySector map[string]int64
		var sectors []string
		if err := rows.Scan(&co.ID, &co.Name, &budget, &bySector, &sectors, &co.ReachKm); err != nil {
			rows.Close()
			return in, err
		}
		co.Budget = float64(budget)
		for _, sec := range sectors {
			if k, ok := sidx[sec]; ok {
				co.Sectors = append(co.Sectors, k)
			}
		}
		for sec, b := range bySector {
			if k, ok := sidx[sec]; ok {
				if co.SectorBudget == nil {
					co.SectorBudget = map[int]float64{}
				}
				co.SectorBudget[k] = float64(b)
			}
		}
		cidx[co.ID] = len(in.Companies)
		in.Companies = append(in.Companies, co)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return in, err
	}
	rings, err := s.CompanyRings(ctx, req.OnlyCompany)
	if err != nil {
		return in, err
	}
	for _, r := range rings {
		i, ok1 := cidx[r.CompanyID]
		v, ok2 := vidx[r.Code]
		if ok1 && ok2 {
			in.Companies[i].Reach = append(in.Companies[i].Reach, matching.MatchReach{Village: v, DistKm: r.DistKm})
		}
	}
	rules, err := s.MatchRules(ctx, req.Year)
	if err != nil {
		return in, err
	}
	for _, r := range rules {
		i, ok1 := cidx[r.CompanyID]
		v, ok2 := vidx[r.VillageCode]
		if !ok1 || !ok2 {
			continue
		}
		mr := matching.MatchRule{Company: i, Village: v, Sector: -1}
		if r.Sector != "" {
			mr.Sector = sidx[r.Sector]
		}
		if r.Kind == "pin" {
			in.Pins = append(in.Pins, mr)
		} else {
			in.Exclusions = append(in.Exclusions, mr)
		}
	}
	for _, code := range req.Villages {
		v, ok := vidx[code]
		if !ok {
			return in, fmt.Errorf("%s: %w", code, ErrUnknownVillage)
		}
		in.Priority = append(in.Priority, v)
	}
	if req.PriorityListID != 0 {
		codes, err := s.priorityListCodes(ctx, req)
		if err != nil {
			return in, err
		}
		for _, code := range codes {
			v, ok := vidx[code]
			if !ok {
				return in, fmt.Errorf("daftar prioritas %d: %s bukan desa aktif, tinjau daftarnya (priority list %d: %s is not an active village, review the list): %w",
					req.PriorityListID, code, req.PriorityListID, code, ErrUnknownVillage)
			}
			in.Priority = append(in.Priority, v)
		}
	}
	return in, nil
}

// ErrMatchRequest wraps a MatchRequest whose options do not go together.
var ErrMatchRequest = errors.New("permintaan pencocokan tidak valid (invalid match request)")

// priorityListCodes returns the village codes of the newest version of the
// request's priority list, in list order.
func (s *Store) priorityListCodes(ctx context.Context, req MatchRequest) ([]string, error) {
	if req.Mode != matching.ModeLocus {
		return nil, fmt.Errorf("%w: priority_list_id hanya untuk mode locus (priority_list_id needs mode locus)", ErrMatchRequest)
	}
	if len(req.Villages) > 0 {
		return nil, fmt.Errorf("%w: pilih villages atau priority_list_id, bukan keduanya (give villages or priority_list_id, not both)", ErrMatchRequest)
	}
	l, err := s.PriorityListVersion(ctx, req.PriorityListID, 0)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("daftar prioritas %d (priority list %d): %w", req.PriorityListID, req.PriorityListID, err)
	}
	codes := make([]string, 0, len(l.Items))
	for _, it := range l.Items {
		codes = append(codes, it.VillageCode)
	}
	return codes, nil
}

// ProposalRecord is a saved matcher run.
type ProposalRecord struct {
	ID         int64              `json:"id"`
	Mode       string             `json:"mode"`
	Year       int                `json:"year"`
	Status     string             `json:"status"`
	Objective  float64            `json:"objective"`
	CreatedBy  string             `json:"created_by"`
	CreatedAt  time.Time          `json:"created_at"`
	AcceptedBy *string            `json:"accepted_by,omitempty"`
	Params     MatchRequest       `json:"params"`
	Proposal   *matching.Proposal `json:"proposal"`
}

// SaveProposal stores a proposal as a draft.
func (s *Store) SaveProposal(ctx context.Context, req MatchRequest, p *matching.Proposal, by string) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO match_proposal (mode, year, params, result, objective, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, req.Mode, req.Year, req, p, p.Objective, by).Scan(&id); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "match.run", Object: fmt.Sprintf("match_proposal:%d", id),
			Detail: map[string]any{"mode": req.Mode, "year": req.Year, "assignments": len(p.Assignments)}})
	})
	return id, err
}

// Proposal reads a saved proposal, or ErrNotFound.
func (s *Store) Proposal(ctx context.Context, id int64) (ProposalRecord, error) {
	var r ProposalRecord
	var params, result []byte
	err := s.Pool.QueryRow(ctx, `SELECT id, mode, year, status, objective, created_by, created_at, accepted_by, params, result
		FROM match_proposal WHERE id = $1`, id).Scan(&r.ID, &r.Mode, &r.Year, &r.Status, &r.Objective, &r.CreatedBy,
		&r.CreatedAt, &r.AcceptedBy, &params, &result)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("usulan %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(params, &r.Params); err != nil {
		return r, fmt.Errorf("proposal %d params: %w", id, err)
	}
	r.Proposal = &matching.Proposal{}
	if err := json.Unmarshal(result, r.Proposal); err != nil {
		return r, fmt.Errorf("proposal %d result: %w", id, err)
	}
	return r, nil
}

// ErrProposalState means the proposal is not a draft any more.
var ErrProposalState = errors.New("usulan sudah diterima atau dibuang (proposal already accepted or discarded)")

// AcceptProposal turns a draft proposal into approved CSR plans: one plan per
// (company, village, sector) with the assignment's money (rounded down to whole
// rupiah) and households. It returns the number of plans created.
func (s *Store) AcceptProposal(ctx context.Context, id int64, by string) (int, error) {
	rec, err := s.Proposal(ctx, id)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE match_proposal SET status = 'accepted', accepted_by = $2, accepted_at = now()
			WHERE id = $1 AND status = 'draft'`, id, by)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("usulan %d: %w", id, ErrProposalState)
		}
		as := slices.Clone(rec.Proposal.Assignments)
		slices.SortFunc(as, func(a, b matching.Assignment) int {
			return cmp.Or(cmp.Compare(a.CompanyID, b.CompanyID), cmp.Compare(a.VillageCode, b.VillageCode), cmp.Compare(a.SectorName, b.SectorName))
		})
		for _, a := range as {
			p := Plan{CompanyID: a.CompanyID, Year: rec.Year, VillageCode: a.VillageCode, Sector: a.SectorName,
				Budget: int64(math.Floor(a.Cost)), TargetHouseholds: int(math.Round(a.Households)), Status: PlanApproved,
				Program: fmt.Sprintf("usulan pencocokan #%d (matcher proposal)", id)}
			if _, err := insertPlanTx(ctx, tx, p, &id, by); err != nil {
				return err
			}
			n++
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('plans')`); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "match.accept", Object: fmt.Sprintf("match_proposal:%d", id),
			Detail: map[string]any{"plans": n}})
	})
	return n, err
}

// Suggestion is one cell suggested to a company, with disclosure-controlled counts.
type Suggestion struct {
	VillageCode string  `json:"village_code"`
	VillageName string  `json:"village_name"`
	Sector      string  `json:"sector"`
	Households  string  `json:"households"`  // "<5" or rounded to base 5
	CellNeed    string  `json:"cell_need"`   // "<5" or rounded to base 5
	Cost        int64   `json:"cost"`        // rupiah of its own budget
	DistKm      float64 `json:"dist_km"`     // from its operating area
	Ring        int     `json:"ring"`        // 1 or 2
	OtherPlans  int     `json:"other_plans"` // other companies' plans in this cell (not their budgets)
	Reason      string  `json:"reason"`
}

// DisclosureCount is DESIGN.md's company view of a count: "<5" below 5, else rounded to base 5.
func DisclosureCount(n float64) string {
	if n < 5 {
		return "<5"
	}
	return fmt.Sprintf("%d", int64(math.Round(n/5))*5)
}

// Suggestions runs sector mode for one company alone — its sectors, budget and
// reach — so nothing of other companies' budgets enters or leaves; other
// companies' plans appear only as a count per cell.
func (s *Store) Suggestions(ctx context.Context, companyID int64, year int) ([]Suggestion, error) {
	in, err := s.BuildMatchInput(ctx, MatchRequest{Mode: matching.ModeSector, Year: year, OnlyCompany: companyID})
	if err != nil {
		return nil, err
	}
	if len(in.Companies) == 0 {
		return nil, fmt.Errorf("perusahaan %d: %w", companyID, ErrNotFound)
	}
	in.Pins, in.Exclusions = nil, nil
	p, err := matching.SolveSector(in)
	if err != nil {
		return nil, err
	}
	others := map[[2]string]int{}
	rows, err := s.Pool.Query(ctx, `SELECT village_code, sector, count(DISTINCT company_id) FROM plan
		WHERE year = $1 AND company_id <> $2 AND status <> 'rejected' GROUP BY 1, 2`, year, companyID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v, sec string
		var n int
		if err := rows.Scan(&v, &sec, &n); err != nil {
			rows.Close()
			return nil, err
		}
		others[[2]string{v, sec}] = n
	}
	rows.Close()
	out := []Suggestion{}
	for _, a := range p.Assignments {
		ring := 2
		if a.DistKm == 0 {
			ring = 1
		}
		out = append(out, Suggestion{VillageCode: a.VillageCode, VillageName: in.Villages[a.Village].Name, Sector: a.SectorName,
			Households: DisclosureCount(a.Households), CellNeed: DisclosureCount(a.CellNeed), Cost: int64(math.Floor(a.Cost)),
			DistKm: math.Round(a.DistKm*10) / 10, Ring: ring, OtherPlans: others[[2]string{a.VillageCode, a.SectorName}],
			Reason: fmt.Sprintf("kebutuhan %s per rupiah tertinggi dalam jangkauan (highest %s need per rupiah within reach)", a.SectorName, a.SectorName)})
	}
	return out, rows.Err()
}
