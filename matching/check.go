package matching

import (
	"fmt"
	"math"
)

// CheckReport is the independent checker's verdict on a set of assignments.
type CheckReport struct {
	Objective  float64  `json:"objective"`
	Violations []string `json:"violations,omitempty"`
}

// OK reports whether no constraint is violated.
func (r CheckReport) OK() bool { return len(r.Violations) == 0 }

// CheckAmount is one (company, cell) amount to check: x_ic in households.
type CheckAmount struct {
	Company, Village, Sector int
	Households               float64
}

// CheckProposal validates a proposal's assignments against every constraint of
// MODEL.md and scores them with MatchObjective. It recomputes eligibility from the
// raw input and shares no code with the solver.
func CheckProposal(in MatchInput, p *Proposal) CheckReport {
	xs := make([]CheckAmount, len(p.Assignments))
	for k, a := range p.Assignments {
		xs[k] = CheckAmount{Company: a.Company, Village: a.Village, Sector: a.Sector, Households: a.Households}
	}
	return CheckAmounts(in, xs)
}

// CheckAmounts validates raw amounts (from our solver or from GLPK) against
// every constraint of MODEL.md for in.Mode, and scores them.
func CheckAmounts(in MatchInput, xs []CheckAmount) CheckReport {
	var rep CheckReport
	bad := func(format string, a ...any) {
		if len(rep.Violations) < 50 {
			rep.Violations = append(rep.Violations, fmt.Sprintf(format, a...))
		}
	}
	if err := in.Validate(); err != nil {
		bad("input: %v", err)
		return rep
	}
	const tol = 1e-6
	near := func(limit float64) float64 { return tol * math.Max(1, math.Abs(limit)) }
	ns := len(in.Sectors)
	m, alpha, beta := in.params()

	type cellKey struct{ v, s int }
	cells := map[cellKey]MatchCell{}
	for _, c := range in.Cells {
		cells[cellKey{c.Village, c.Sector}] = c
	}
	excluded := func(i, v, s int) bool {
		for _, e := range in.Exclusions {
			if e.Company == i && e.Village == v && (e.Sector < 0 || e.Sector == s) {
				return true
			}
		}
		return false
	}
	// distance of village v for company i, or -1 when out of reach
	distance := func(i, v int) float64 {
		co := in.Companies[i]
		d := -1.0
		for _, r := range co.Reach {
			if r.Village == v && r.DistKm <= co.ReachKm && (d < 0 || r.DistKm < d) {
				d = r.DistKm
			}
		}
		return d
	}

	type pairKey struct{ i, v, s int }
	amount := map[pairKey]float64{}
	for _, x := range xs {
		if x.Company < 0 || x.Company >= len(in.Companies) || x.Village < 0 || x.Village >= len(in.Villages) || x.Sector < 0 || x.Sector >= ns {
			bad("amount %+v: index out of range", x)
			continue
		}
		if x.Households < -tol {
			bad("amount %+v: negative", x)
		}
		if x.Households <= tol {
			continue
		}
		amount[pairKey{x.Company, x.Village, x.Sector}] += x.Households
	}

	funded := map[cellKey]float64{}
	funders := map[cellKey]int{}
	spent := make([]float64, len(in.Companies))
	spentSector := make([]map[int]float64, len(in.Companies))
	members := map[[2]int]bool{}
	for k, q := range amount {
		co := in.Companies[k.i]
		name := fmt.Sprintf("%s → %s/%s", co.Name, in.Villages[k.v].Code, in.Sectors[k.s])
		cell, ok := cells[cellKey{k.v, k.s}]
		if !ok || cell.Households <= 0 {
			bad("%s: no cell with need", name)
			continue
		}
		interested := false
		for _, s := range co.Sectors {
			interested = interested || s == k.s
		}
		if !interested {
			bad("%s: sector outside the company's interests", name)
		}
		d := distance(k.i, k.v)
		if d < 0 {
			bad("%s: village beyond the company's reach", name)
			d = co.ReachKm
		}
		if excluded(k.i, k.v, k.s) {
			bad("%s: excluded by the planner", name)
		}
		w := cell.Weight
		if w == 0 {
			w = 1
		}
		val := w
		if co.ReachKm > 0 {
			val = w * (1 - alpha*d/co.ReachKm)
		}
		rep.Objective += val * q
		u := in.UnitCost[k.s]
		spent[k.i] += u * q
		if spentSector[k.i] == nil {
			spentSector[k.i] = map[int]float64{}
		}
		spentSector[k.i][k.s] += u * q
		funded[cellKey{k.v, k.s}] += q
		funders[cellKey{k.v, k.s}]++
		members[[2]int{k.i, k.v}] = true
	}
	rep.Objective -= beta * float64(len(members))

	for ck, q := range funded {
		h := cells[ck].Households
		if q > h+near(h) {
			bad("cell %s/%s: %.6g households funded of %.6g (need counted once)", in.Villages[ck.v].Code, in.Sectors[ck.s], q, h)
		}
		if funders[ck] > m {
			bad("cell %s/%s: %d companies, at most %d", in.Villages[ck.v].Code, in.Sectors[ck.s], funders[ck], m)
		}
	}
	for i, co := range in.Companies {
		if spent[i] > co.Budget+near(co.Budget) {
			bad("%s: spends Rp %.0f of a Rp %.0f budget", co.Name, spent[i], co.Budget)
		}
		for s, capB := range co.SectorBudget {
			if spentSector[i][s] > capB+near(capB) {
				bad("%s: spends Rp %.0f in %s, capped at Rp %.0f", co.Name, spentSector[i][s], in.Sectors[s], capB)
			}
		}
	}

	// Pins: individually feasible pins must be kept (MODEL.md).
	pinFeasible := func(p MatchRule) bool {
		co := in.Companies[p.Company]
		if distance(p.Company, p.Village) < 0 {
			return false
		}
		for _, s := range co.Sectors {
			if p.Sector >= 0 && s != p.Sector {
				continue
			}
			cell, ok := cells[cellKey{p.Village, s}]
			if !ok || cell.Households <= 0 || excluded(p.Company, p.Village, s) {
				continue
			}
			money := co.Budget
			if b, capped := co.SectorBudget[s]; capped {
				money = math.Min(money, b)
			}
			if money >= in.UnitCost[s]*math.Min(1, cell.Households)-1e-9 {
				return true
			}
		}
		return false
	}

	if in.Mode == ModeSector {
		for _, p := range in.Pins {
			if !pinFeasible(p) {
				continue
			}
			var got, want float64
			for s := 0; s < ns; s++ {
				if p.Sector >= 0 && s != p.Sector {
					continue
				}
				got += amount[pairKey{p.Company, p.Village, s}]
				if c, ok := cells[cellKey{p.Village, s}]; ok && p.Sector >= 0 {
					want = math.Min(1, c.Households)
				}
			}
			if p.Sector < 0 {
				want = 1
				// a village-wide pin on a village with under one household of need
				var total float64
				for _, s := range in.Companies[p.Company].Sectors {
					total += cells[cellKey{p.Village, s}].Households
				}
				want = math.Min(want, total)
			}
			if got < want-near(want) {
				bad("pin %s → %s not kept (%.6g households, at least %.6g)", in.Companies[p.Company].Name, in.Villages[p.Village].Code, got, want)
			}
		}
		return rep
	}

	// Locus mode: complete villages only, inside the candidate set, pinned members present.
	cand := map[int]bool{}
	for _, v := range LocusVillages(&in) {
		cand[v] = true
	}
	served := map[int]bool{}
	for k := range amount {
		served[k.v] = true
	}
	for v := range served {
		if !cand[v] {
			bad("village %s is not a locus candidate but has assignments", in.Villages[v].Code)
			continue
		}
		for s := 0; s < ns; s++ {
			c, ok := cells[cellKey{v, s}]
			if !ok || c.Households <= 0 {
				continue
			}
			if q := funded[cellKey{v, s}]; q < c.Households-near(c.Households) {
				bad("locus %s: sector %s funded %.6g of %.6g households (team incomplete)", in.Villages[v].Code, in.Sectors[s], q, c.Households)
			}
		}
		for _, p := range in.Pins {
			if p.Village == v && pinFeasible(p) && !members[[2]int{p.Company, v}] {
				bad("locus %s: pinned %s is not in the team", in.Villages[v].Code, in.Companies[p.Company].Name)
			}
		}
	}
	return rep
}

// MatchObjective scores amounts with MODEL.md's one objective function.
func MatchObjective(in MatchInput, xs []CheckAmount) float64 { return CheckAmounts(in, xs).Objective }
