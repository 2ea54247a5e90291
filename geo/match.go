package geo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/matching"
)

// MatchCellRow is the need of one (village, sector) cell for the matcher.
type MatchCellRow struct {
	VillageCode string  `json:"village_code"`
	Sector      string  `json:"sector"`
	Households  float64 `json:"households"` // h_c: in-need households of the sector (MODEL.md)
	Weight      float64 `json:"weight"`     // w_c: need weight per household (the chosen score)
}

// ErrMatchNoScores means the matcher has no score run to take need from.
var ErrMatchNoScores = fmt.Errorf("skor belum dihitung; jalankan sinergi score (no scores yet; run sinergi score): %w", ErrNoScores)

// MatchBasis records what a matcher run was built from, so a saved proposal can be
// reproduced: the score run (period, weights version) the need came from, the need
// weight, and the unit-cost version with its costs.
type MatchBasis struct {
	ScoreRunID     int64            `json:"score_run_id"`
	Period         string           `json:"period"`
	WeightsVersion int64            `json:"weights_version"`
	ScoredAt       time.Time        `json:"scored_at"`
	NeedWeight     string           `json:"need_weight"`
	CostVersion    int64            `json:"cost_version"`
	UnitCosts      map[string]int64 `json:"unit_costs"`
}

// MatchCells returns the need of every (village, sector) cell for a year with
// the default need weight (sector scores); see MatchNeed.
func (s *Store) MatchCells(ctx context.Context, year int) ([]MatchCellRow, error) {
	cells, _, err := s.MatchNeed(ctx, year, "")
	return cells, err
}

// matchScoreRun picks the score run the matcher reads for a year: over the active
// desa set, the newest run of the latest period of that year (periods "2026",
// "2026-S1", …); if the year has none, of the latest period before it; else of
// the latest period at all (a plan year usually follows the data year).
func (s *Store) matchScoreRun(ctx context.Context, year int) (ScoreRun, error) {
	var r ScoreRun
	setID, err := s.ActiveSetID(ctx, LevelDesa)
	if err != nil {
		return r, err
	}
	if setID == 0 {
		return r, errors.New("belum ada batas desa aktif (no active village boundaries)")
	}
	rows, err := s.Pool.Query(ctx, `SELECT DISTINCT ON (period) id, period, weights_id, created_at
		FROM score_run WHERE set_id = $1 ORDER BY period, id DESC`, setID)
	if err != nil {
		return r, fmt.Errorf("score runs: %w", err)
	}
	var runs []ScoreRun
	var x ScoreRun
	if _, err := pgx.ForEachRow(rows, []any{&x.ID, &x.Period, &x.WeightsID, &x.CreatedAt}, func() error {
		x.SetID = setID
		runs = append(runs, x)
		return nil
	}); err != nil {
		return r, fmt.Errorf("score runs: %w", err)
	}
	if len(runs) == 0 {
		return r, fmt.Errorf("batas desa aktif %d (active set %d): %w", setID, setID, ErrMatchNoScores)
	}
	same, before := -1, -1
	for i, run := range runs { // sorted by period ascending
		y := periodYearOf(run.Period)
		if y == year {
			same = i
		} else if y > 0 && y < year {
			before = i
		}
	}
	switch {
	case year != 0 && same >= 0:
		return runs[same], nil
	case year != 0 && before >= 0:
		return runs[before], nil
	}
	return runs[len(runs)-1], nil
}

// periodYearOf reads the year a period starts with ("2026", "2026-S1"), else 0.
func periodYearOf(p string) int {
	if len(p) < 4 {
		return 0
	}
	y, err := strconv.Atoi(p[:4])
	if err != nil {
		return 0
	}
	return y
}

// MatchNeed returns the matcher's cells for a year from the need scores of issue 5:
// the newest score run of the active desa set and the year's period (matchScoreRun),
// each village's stored score turned into sector cells by matching.SectorNeeds with
// the weights version of that run — household sectors from the censored counts,
// the others from village indicators when present — and weighted by the chosen need
// score (matching.NeedWeights; "" = sector). Without any run it returns
// ErrMatchNoScores. The basis names the run (cost fields are left empty).
func (s *Store) MatchNeed(ctx context.Context, year int, needWeight string) ([]MatchCellRow, MatchBasis, error) {
	var b MatchBasis
	if !matching.ValidNeedWeight(needWeight) {
		return nil, b, fmt.Errorf("%w: need_weight %q: pakai %v (use one of %v)", ErrMatchRequest, needWeight, matching.NeedWeights, matching.NeedWeights)
	}
	if needWeight == "" {
		needWeight = matching.NeedWeightSector
	}
	run, err := s.matchScoreRun(ctx, year)
	if err != nil {
		return nil, b, err
	}
	b = MatchBasis{ScoreRunID: run.ID, Period: run.Period, WeightsVersion: run.WeightsID, ScoredAt: run.CreatedAt, NeedWeight: needWeight}
	var raw []byte
	var k float64
	if err := s.Pool.QueryRow(ctx, `SELECT weights, k FROM weights_version WHERE id = $1`, run.WeightsID).Scan(&raw, &k); err != nil {
		return nil, b, fmt.Errorf("bobot versi %d dari skor %d (weights version %d of score run %d): %w", run.WeightsID, run.ID, run.WeightsID, run.ID, err)
	}
	w, err := matching.ParseWeights(raw, k)
	if err != nil {
		return nil, b, fmt.Errorf("weights version %d: %w", run.WeightsID, err)
	}
	// Only villages of the run's set (the active one) can be matched.
	sectors, err := s.runSectors(ctx, run.ID)
	if err != nil {
		return nil, b, fmt.Errorf("score run %d: %w", run.ID, err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+scoreColsOf("s")+` FROM village_score s
		JOIN village v ON v.set_id = $2 AND v.code = s.code
		WHERE s.run_id = $1 ORDER BY s.code`, run.ID, run.SetID)
	if err != nil {
		return nil, b, fmt.Errorf("village scores of run %d: %w", run.ID, err)
	}
	var cells []MatchCellRow
	var r storedScore
	if _, err := pgx.ForEachRow(rows, r.targets(), func() error {
		code := r.code
		sc, err := r.score(sectors)
		if err != nil {
			return fmt.Errorf("score of village %s in run %d: %w", code, run.ID, err)
		}
		need, err := matching.SectorNeeds(sc, w, Sectors, needWeight)
		if err != nil {
			return err
		}
		for _, n := range need {
			cells = append(cells, MatchCellRow{VillageCode: code, Sector: n.Sector, Households: n.Households, Weight: n.Weight})
		}
		return nil
	}); err != nil {
		return nil, b, err
	}
	return cells, b, nil
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

// UnitCostSet is one version of the matcher's unit costs: rupiah to serve one
// in-need household, per sector (MODEL.md: u_s).
type UnitCostSet struct {
	Version   int64            `json:"version"`
	Costs     map[string]int64 `json:"costs"`
	Note      string           `json:"note,omitempty"`
	UpdatedBy string           `json:"updated_by"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// ErrUnitCost wraps an invalid unit-cost change.
var ErrUnitCost = errors.New("biaya satuan tidak valid (invalid unit cost)")

// MaxUnitCost bounds a unit cost (rupiah per household): a typo with many zeros
// is refused instead of silently starving a sector.
const MaxUnitCost = 1e12

// UnitCostVersions lists the newest limit versions of the unit costs, newest first.
func (s *Store) UnitCostVersions(ctx context.Context, limit int) ([]UnitCostSet, error) {
	if limit <= 0 {
		limit = 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT id, costs, note, created_by, created_at FROM match_cost_version
		ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("unit costs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnitCostSet, error) {
		var u UnitCostSet
		err := r.Scan(&u.Version, &u.Costs, &u.Note, &u.UpdatedBy, &u.UpdatedAt)
		return u, err
	})
}

// CurrentUnitCosts returns the newest unit-cost version.
func (s *Store) CurrentUnitCosts(ctx context.Context) (UnitCostSet, error) {
	vs, err := s.UnitCostVersions(ctx, 1)
	if err != nil {
		return UnitCostSet{}, err
	}
	if len(vs) == 0 {
		return UnitCostSet{}, errors.New("biaya satuan belum diatur (no unit costs); sinergi match costs --set SEKTOR=RUPIAH")
	}
	return vs[0], nil
}

// UnitCosts returns rupiah per in-need household for each sector, in Sectors order.
func (s *Store) UnitCosts(ctx context.Context) ([]float64, error) {
	u, err := s.CurrentUnitCosts(ctx)
	if err != nil {
		return nil, err
	}
	return unitCostVector(u)
}

func unitCostVector(u UnitCostSet) ([]float64, error) {
	out := make([]float64, len(Sectors))
	for k, sec := range Sectors {
		if u.Costs[sec] <= 0 {
			return nil, fmt.Errorf("biaya satuan sektor %s belum diatur (unit cost of %s not set)", sec, sec)
		}
		out[k] = float64(u.Costs[sec])
	}
	return out, nil
}

// ValidateUnitCosts checks a change of unit costs: known sectors, amounts that are
// positive whole rupiah, finite and at most MaxUnitCost. It names every bad entry.
func ValidateUnitCosts(change map[string]float64) error {
	if len(change) == 0 {
		return fmt.Errorf("%w: tidak ada sektor yang diubah (no sector given)", ErrUnitCost)
	}
	var bad []string
	for _, sec := range slices.Sorted(maps.Keys(change)) {
		v := change[sec]
		switch {
		case !ValidSector(sec):
			bad = append(bad, fmt.Sprintf("sektor %q tidak dikenal, pakai %v (unknown sector)", sec, Sectors))
		case math.IsNaN(v) || math.IsInf(v, 0):
			bad = append(bad, fmt.Sprintf("%s: jumlah harus bilangan terhingga (amount must be finite)", sec))
		case v <= 0:
			bad = append(bad, fmt.Sprintf("%s: %v harus positif (must be positive)", sec, v))
		case v > MaxUnitCost:
			bad = append(bad, fmt.Sprintf("%s: %v melebihi batas %.0f (above the limit)", sec, v, float64(MaxUnitCost)))
		case v != math.Trunc(v):
			bad = append(bad, fmt.Sprintf("%s: %v harus rupiah bulat (must be whole rupiah)", sec, v))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrUnitCost, strings.Join(bad, "; "))
	}
	return nil
}

// SetUnitCosts changes some sectors' unit costs (the others keep theirs) and
// records the whole set as a new version with who and when, audited, in one
// transaction; match_unit_cost mirrors the newest version. A change that changes
// nothing writes nothing and returns the current version with changed = false.
func (s *Store) SetUnitCosts(ctx context.Context, change map[string]float64, note, by string) (u UnitCostSet, changed bool, err error) {
	if err := ValidateUnitCosts(change); err != nil {
		return u, false, err
	}
	if by == "" {
		by = "cli"
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// Serialise writers so two edits never both build on the same old version.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sinergi.match_costs'))`); err != nil {
			return err
		}
		cur := UnitCostSet{Costs: map[string]int64{}}
		err := tx.QueryRow(ctx, `SELECT id, costs FROM match_cost_version ORDER BY id DESC LIMIT 1`).Scan(&cur.Version, &cur.Costs)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		next := maps.Clone(cur.Costs)
		if next == nil {
			next = map[string]int64{}
		}
		for sec, v := range change {
			next[sec] = int64(v)
		}
		if maps.Equal(next, cur.Costs) {
			return nil
		}
		changed = true
		if err := tx.QueryRow(ctx, `INSERT INTO match_cost_version (costs, note, created_by) VALUES ($1, $2, $3)
			RETURNING id, costs, note, created_by, created_at`, next, note, by).Scan(&u.Version, &u.Costs, &u.Note, &u.UpdatedBy, &u.UpdatedAt); err != nil {
			return err
		}
		for _, sec := range slices.Sorted(maps.Keys(next)) {
			if _, err := tx.Exec(ctx, `INSERT INTO match_unit_cost (sector, rupiah, updated_by, updated_at) VALUES ($1, $2, $3, now())
				ON CONFLICT (sector) DO UPDATE SET rupiah = EXCLUDED.rupiah, updated_by = EXCLUDED.updated_by, updated_at = now()
				WHERE match_unit_cost.rupiah <> EXCLUDED.rupiah`, sec, next[sec], by); err != nil {
				return err
			}
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "match.costs", Object: fmt.Sprintf("match_cost_version:%d", u.Version),
			Detail: map[string]any{"previous_version": cur.Version, "previous": cur.Costs, "costs": next, "note": note}})
	})
	if err != nil {
		return u, false, err
	}
	if !changed {
		u, err = s.CurrentUnitCosts(ctx)
	}
	return u, changed, err
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
	// NeedWeight is the score a cell's households are weighted by
	// (matching.NeedWeights; empty: sector).
	NeedWeight string `json:"need_weight,omitempty"`
	// OnlyCompany restricts the run to one company (its own suggestions).
	OnlyCompany int64 `json:"-"`
}

// BuildMatchInput is PrepareMatch without the basis.
func (s *Store) BuildMatchInput(ctx context.Context, req MatchRequest) (matching.MatchInput, error) {
	in, _, err := s.PrepareMatch(ctx, req)
	return in, err
}

// PrepareMatch assembles the matcher's plain input from the database: need per
// cell (MatchNeed, from the newest score run), companies with budgets, interests
// and reach lists (PostGIS), the current unit costs, and the year's pins and
// exclusions. The basis says which score run and unit-cost version were used;
// SaveProposal stores it with the proposal.
func (s *Store) PrepareMatch(ctx context.Context, req MatchRequest) (matching.MatchInput, MatchBasis, error) {
	in := matching.MatchInput{Mode: req.Mode, Sectors: Sectors, MaxPerCell: req.MaxPerCell, LocusTop: req.LocusTop}
	var basis MatchBasis
	in, err := s.buildMatchInput(ctx, req, in, &basis)
	return in, basis, err
}

func (s *Store) buildMatchInput(ctx context.Context, req MatchRequest, in matching.MatchInput, basis *MatchBasis) (matching.MatchInput, error) {
	costs, err := s.CurrentUnitCosts(ctx)
	if err != nil {
		return in, err
	}
	if in.UnitCost, err = unitCostVector(costs); err != nil {
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
	cells, b, err := s.MatchNeed(ctx, req.Year, req.NeedWeight)
	if err != nil {
		return in, err
	}
	*basis = b
	basis.CostVersion, basis.UnitCosts = costs.Version, costs.Costs
	for _, c := range cells {
		v, ok := vidx[c.VillageCode]
		if !ok {
			continue // MatchNeed reads the active set only; kept as a guard
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
	Basis      MatchBasis         `json:"basis"`
	Proposal   *matching.Proposal `json:"proposal"`
}

// SaveProposal stores a proposal as a draft with its basis (PrepareMatch): the
// unit-cost version and costs and the score run it was computed from.
func (s *Store) SaveProposal(ctx context.Context, req MatchRequest, basis MatchBasis, p *matching.Proposal, by string) (int64, error) {
	var id int64
	var costVersion, runID *int64
	if basis.CostVersion > 0 {
		costVersion = &basis.CostVersion
	}
	if basis.ScoreRunID > 0 {
		runID = &basis.ScoreRunID
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO match_proposal (mode, year, params, result, objective, created_by, cost_version, score_run_id, basis)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, req.Mode, req.Year, req, p, p.Objective, by,
			costVersion, runID, basis).Scan(&id); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "match.run", Object: fmt.Sprintf("match_proposal:%d", id),
			Detail: map[string]any{"mode": req.Mode, "year": req.Year, "assignments": len(p.Assignments),
				"score_run_id": basis.ScoreRunID, "cost_version": basis.CostVersion}})
	})
	return id, err
}

// Proposal reads a saved proposal, or ErrNotFound.
func (s *Store) Proposal(ctx context.Context, id int64) (ProposalRecord, error) {
	var r ProposalRecord
	var params, result, basis []byte
	err := s.Pool.QueryRow(ctx, `SELECT id, mode, year, status, objective, created_by, created_at, accepted_by, params, result, basis
		FROM match_proposal WHERE id = $1`, id).Scan(&r.ID, &r.Mode, &r.Year, &r.Status, &r.Objective, &r.CreatedBy,
		&r.CreatedAt, &r.AcceptedBy, &params, &result, &basis)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("usulan %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(params, &r.Params); err != nil {
		return r, fmt.Errorf("proposal %d params: %w", id, err)
	}
	if err := json.Unmarshal(basis, &r.Basis); err != nil {
		return r, fmt.Errorf("proposal %d basis: %w", id, err)
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
	VillageCode string         `json:"village_code"`
	VillageName string         `json:"village_name"`
	Sector      string         `json:"sector"`
	Households  matching.Count `json:"households"`  // a number rounded to base 5, or "<5" (DisclosureCount)
	CellNeed    matching.Count `json:"cell_need"`   // a number rounded to base 5, or "<5"
	Cost        int64          `json:"cost"`        // rupiah of its own budget
	DistKm      float64        `json:"dist_km"`     // from its operating area
	Ring        int            `json:"ring"`        // 1 or 2
	OtherPlans  int            `json:"other_plans"` // other companies' plans in this cell (not their budgets)
	Reason      string         `json:"reason"`
}

// DisclosureCount is DESIGN.md's company view of a count of households: 0 stays 0,
// 1–4 are suppressed (written "<5"), others are rounded to base 5. Fractions (a
// partly funded cell) are rounded to whole households first.
func DisclosureCount(n float64) matching.Count {
	h := math.Round(n)
	switch {
	case h <= 0:
		return 0
	case h < 5:
		return matching.Suppressed
	}
	return matching.Count(int64(math.Round(h/5)) * 5)
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
