package matching

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Proposal is the matcher's answer: every assignment with its reason, the teams
// per village, totals per company and the high-need villages nobody covers.
type Proposal struct {
	Mode        string          `json:"mode"`
	Objective   float64         `json:"objective"`    // the model's objective (MODEL.md)
	NeedTotal   float64         `json:"need_total"`   // Σ w_c h_c over all cells
	NeedCovered float64         `json:"need_covered"` // Σ w_c x_ic
	Assignments []Assignment    `json:"assignments"`
	Teams       []Team          `json:"teams"`
	Companies   []CompanyTotal  `json:"companies"`
	Uncovered   []UncoveredArea `json:"uncovered"`
	// Notes lists pins dropped and locus villages without a complete team, with reasons.
	Notes []string `json:"notes,omitempty"`
}

// Assignment is one company funding part or all of one cell.
type Assignment struct {
	Company     int     `json:"company"`
	CompanyID   int64   `json:"company_id"`
	CompanyName string  `json:"company_name"`
	Village     int     `json:"village"`
	VillageCode string  `json:"village_code"`
	Sector      int     `json:"sector"`
	SectorName  string  `json:"sector_name"`
	Households  float64 `json:"households"`   // x_ic
	CellNeed    float64 `json:"cell_need"`    // h_c
	NeedCovered float64 `json:"need_covered"` // w_c x_ic
	Cost        float64 `json:"cost"`         // rupiah, u_s x_ic
	BudgetShare float64 `json:"budget_share"` // cost / B_i
	DistKm      float64 `json:"dist_km"`
	Pinned      bool    `json:"pinned,omitempty"`
	Reason      string  `json:"reason"`
	// Alternative names the best other eligible company for this cell, if any.
	Alternative   string  `json:"alternative,omitempty"`
	AlternativeKm float64 `json:"alternative_km,omitempty"`
}

// Team is the set of companies working in one village.
type Team struct {
	Village     int      `json:"village"`
	VillageCode string   `json:"village_code"`
	Members     []string `json:"members"`
	Sectors     []string `json:"sectors"`
	Complete    bool     `json:"complete"` // every sector with need fully funded
	Cost        float64  `json:"cost"`
}

// CompanyTotal sums one company's assignments.
type CompanyTotal struct {
	Company    int     `json:"company"`
	CompanyID  int64   `json:"company_id"`
	Name       string  `json:"name"`
	Budget     float64 `json:"budget"`
	Used       float64 `json:"used"`
	Households float64 `json:"households"`
	Villages   int     `json:"villages"`
	Cells      int     `json:"cells"`
}

// UncoveredArea is a village with need that no assignment touches.
type UncoveredArea struct {
	Village     int     `json:"village"`
	VillageCode string  `json:"village_code"`
	Need        float64 `json:"need"`
	Reason      string  `json:"reason"`
}

// matchPair is an eligible (company, cell) pair.
type matchPair struct {
	i, c  int32
	val   float64 // val_ic per household
	ratio float64 // val_ic / u_s: need per rupiah
	dist  float64
}

// matchState is the solver's working state.
type matchState struct {
	in          *MatchInput
	m           int
	alpha, beta float64
	ns          int
	cellAt      []int32 // village*ns+sector → cell, -1 when absent
	pairs       []matchPair
	compStart   []int // pairs of company i are pairs[compStart[i]:compStart[i+1]], by ratio desc
	hRem        []float64
	budRem      []float64
	secRem      [][]float64       // per company, per sector; +Inf without a cap
	funders     [][]matchFund     // per cell, in the order they joined
	cellComps   [][]int32         // per cell, the companies eligible for it
	pinned      map[int64]float64 // pinned pair → the households it must keep (MODEL.md)
	locusWhy    map[int]string    // locus mode: why a candidate has no team
	ts          *teamScratch      // teamFlow's reusable buffers, shared by clones
	notes       []string
}

const matchEps = 1e-9

// flowWork bounds the edge relaxations of one improveFlow call (deterministic,
// unlike a time limit): enough for exact local optima on regency-size instances.
const flowWork = 400_000_000

func (st *matchState) key(i, c int32) int64 { return int64(i)*int64(len(st.in.Cells)) + int64(c) }

// newMatchState validates the input and builds the eligible pairs.
func newMatchState(in *MatchInput) (*matchState, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	st := &matchState{in: in, ns: len(in.Sectors), pinned: map[int64]float64{}}
	st.m, st.alpha, st.beta = in.params()
	st.cellAt = make([]int32, len(in.Villages)*st.ns)
	for k := range st.cellAt {
		st.cellAt[k] = -1
	}
	st.hRem = make([]float64, len(in.Cells))
	for k, c := range in.Cells {
		st.cellAt[c.Village*st.ns+c.Sector] = int32(k)
		st.hRem[k] = c.Households
	}
	st.funders = make([][]matchFund, len(in.Cells))
	excl := map[[3]int]bool{}
	for _, e := range in.Exclusions {
		s := e.Sector
		if s < 0 {
			s = -1
		}
		excl[[3]int{e.Company, e.Village, s}] = true
	}
	st.budRem = make([]float64, len(in.Companies))
	st.secRem = make([][]float64, len(in.Companies))
	st.compStart = make([]int, len(in.Companies)+1)
	for i, co := range in.Companies {
		st.budRem[i] = co.Budget
		sr := make([]float64, st.ns)
		for s := range sr {
			sr[s] = math.Inf(1)
		}
		for s, b := range co.SectorBudget {
			sr[s] = b
		}
		st.secRem[i] = sr
		start := len(st.pairs)
		for _, r := range co.Reach {
			if r.DistKm > co.ReachKm || excl[[3]int{i, r.Village, -1}] {
				continue
			}
			for _, s := range co.Sectors {
				c := st.cellAt[r.Village*st.ns+s]
				if c < 0 || in.Cells[c].Households <= 0 || excl[[3]int{i, r.Village, s}] {
					continue
				}
				val := cellWeight(in.Cells[c])
				if co.ReachKm > 0 {
					val *= 1 - st.alpha*r.DistKm/co.ReachKm
				}
				st.pairs = append(st.pairs, matchPair{i: int32(i), c: c, val: val, ratio: val / in.UnitCost[s], dist: r.DistKm})
			}
		}
		ps := st.pairs[start:]
		slices.SortFunc(ps, func(a, b matchPair) int {
			if r := cmp.Compare(b.ratio, a.ratio); r != 0 {
				return r
			}
			return cmp.Compare(a.c, b.c)
		})
		// A village listed twice in a reach list would give duplicate pairs: keep the first.
		ps = slices.CompactFunc(ps, func(a, b matchPair) bool { return a.c == b.c })
		st.pairs = st.pairs[:start+len(ps)]
		st.compStart[i+1] = len(st.pairs)
	}
	st.cellComps = make([][]int32, len(in.Cells))
	for _, p := range st.pairs {
		st.cellComps[p.c] = append(st.cellComps[p.c], p.i)
	}
	return st, nil
}

// room is how many households of cell c company i can still fund (money, sector cap, cell, slot).
func (st *matchState) room(i, c int32) float64 {
	cell := st.in.Cells[c]
	if !st.has(i, c) && len(st.funders[c]) >= st.m {
		return 0
	}
	u := st.in.UnitCost[cell.Sector]
	return max(0, min(st.hRem[c], st.budRem[i]/u, st.secRem[i][cell.Sector]/u))
}

// matchFund is one company's share of a cell.
type matchFund struct {
	i   int32
	q   float64 // households
	val float64 // val_ic per household
}

// fundIdx is i's position among c's funders, or -1.
func (st *matchState) fundIdx(i, c int32) int {
	for k, f := range st.funders[c] {
		if f.i == i {
			return k
		}
	}
	return -1
}

func (st *matchState) has(i, c int32) bool { return st.fundIdx(i, c) >= 0 }

// amount is x_ic.
func (st *matchState) amount(i, c int32) float64 {
	if k := st.fundIdx(i, c); k >= 0 {
		return st.funders[c][k].q
	}
	return 0
}

// keys lists the funded pairs as i·|C|+c, by cell then joining order.
func (st *matchState) keys() []int64 {
	var out []int64
	nc := int64(len(st.in.Cells))
	for c, fs := range st.funders {
		for _, f := range fs {
			out = append(out, int64(f.i)*nc+int64(c))
		}
	}
	return out
}

// add moves q households of cell c to company i (q may be negative to take back).
func (st *matchState) add(i, c int32, q float64) {
	cell := st.in.Cells[c]
	u := st.in.UnitCost[cell.Sector]
	money := q * u
	k := st.fundIdx(i, c)
	old := 0.0
	if k >= 0 {
		old = st.funders[c][k].q
	}
	nx := old + q
	st.hRem[c] -= q
	st.budRem[i] -= money
	st.secRem[i][cell.Sector] -= money
	if nx <= matchEps*max(1, cell.Households) {
		if k >= 0 {
			st.funders[c] = slices.Delete(st.funders[c], k, k+1)
			// hand back the dust so totals stay exact
			st.hRem[c] += nx
			st.budRem[i] += nx * u
			st.secRem[i][cell.Sector] += nx * u
		}
		return
	}
	if k >= 0 {
		st.funders[c][k].q = nx
		return
	}
	p, _ := st.pairOf(i, c)
	st.funders[c] = append(st.funders[c], matchFund{i: i, q: nx, val: p.val})
}

// pairOf finds the eligible pair (i, c), or false.
func (st *matchState) pairOf(i, c int32) (matchPair, bool) {
	for _, p := range st.pairs[st.compStart[i]:st.compStart[i+1]] {
		if p.c == c {
			return p, true
		}
	}
	return matchPair{}, false
}

// keptPins applies the individually feasible pins (MODEL.md) and notes the others.
// It returns, per village, the companies pinned there (for locus mode).
func (st *matchState) keptPins(apply bool) map[int][]int32 {
	in := st.in
	byVillage := map[int][]int32{}
	for _, p := range in.Pins {
		co := in.Companies[p.Company]
		var best matchPair
		found := false
		for _, q := range st.pairs[st.compStart[p.Company]:st.compStart[p.Company+1]] {
			cell := in.Cells[q.c]
			if cell.Village != p.Village || (p.Sector >= 0 && cell.Sector != p.Sector) {
				continue
			}
			u := in.UnitCost[cell.Sector]
			if min(co.Budget, st.secCap(p.Company, cell.Sector)) < u*min(1, cell.Households)-1e-9 {
				continue
			}
			if !found || q.ratio > best.ratio {
				best, found = q, true
			}
		}
		what := in.Companies[p.Company].Name + " → " + in.Villages[p.Village].Code
		if p.Sector >= 0 {
			what += "/" + in.Sectors[p.Sector]
		}
		if !found {
			st.notes = append(st.notes, "pin "+what+" diabaikan: sel tidak memenuhi syarat (minat, jangkauan, kebutuhan atau anggaran) (pin dropped: not eligible by interest, reach, need or budget)")
			continue
		}
		byVillage[p.Village] = append(byVillage[p.Village], int32(p.Company))
		if apply {
			q := st.room(best.i, best.c)
			if q <= matchEps {
				st.notes = append(st.notes, "pin "+what+" tidak dapat dipenuhi bersama pin lain (cannot be kept together with the other pins)")
				continue
			}
			st.add(best.i, best.c, q)
			st.pinned[st.key(best.i, best.c)] = min(1, in.Cells[best.c].Households)
		}
	}
	return byVillage
}

// movable is how many of i's households in c may move away without breaking a pin.
func (st *matchState) movable(i, c int32) float64 {
	k := st.key(i, c)
	if len(st.pinned) == 0 {
		return st.amount(i, c)
	}
	return max(0, st.amount(i, c)-st.pinned[k])
}

func (st *matchState) isPinned(k int64) bool {
	_, ok := st.pinned[k]
	return ok
}

func (st *matchState) secCap(i, s int) float64 {
	if b, ok := st.in.Companies[i].SectorBudget[s]; ok {
		return b
	}
	return math.Inf(1)
}

// SolveSector runs sector mode: pins, greedy by need per rupiah, local improvement.
func SolveSector(in MatchInput) (*Proposal, error) {
	in.Mode = ModeSector
	st, err := newMatchState(&in)
	if err != nil {
		return nil, err
	}
	st.keptPins(true)
	order := make([]int32, len(st.pairs))
	for k := range order {
		order[k] = int32(k)
	}
	slices.SortFunc(order, func(a, b int32) int {
		pa, pb := &st.pairs[a], &st.pairs[b]
		if r := cmp.Compare(pb.ratio, pa.ratio); r != 0 {
			return r
		}
		if r := cmp.Compare(pa.i, pb.i); r != 0 {
			return r
		}
		return cmp.Compare(pa.c, pb.c)
	})
	for _, k := range order {
		p := &st.pairs[k]
		if st.budRem[p.i] <= matchEps || st.hRem[p.c] <= matchEps {
			continue
		}
		if q := st.room(p.i, p.c); q > matchEps {
			st.add(p.i, p.c, q)
		}
	}
	st.improveFlow(flowWork)
	st.improveSector()
	st.improveFlow(flowWork)
	return st.proposal(), nil
}

// improveSector applies 3-edge augmenting moves b → c1 ← a → c2 (MODEL.md) until none gains.
func (st *matchState) improveSector() {
	in := st.in
	for round := 0; round < 20; round++ {
		improved := false
		for b := int32(0); int(b) < len(in.Companies); b++ {
			if st.budRem[b] <= 1e-9*max(1, in.Companies[b].Budget) {
				continue
			}
			for _, p := range st.pairs[st.compStart[b]:st.compStart[b+1]] {
				if st.budRem[b] <= 1e-9*max(1, in.Companies[b].Budget) {
					break
				}
				if q := st.room(b, p.c); q > matchEps {
					st.add(b, p.c, q)
					improved = true
					continue
				}
				if st.tryShift(b, p) {
					improved = true
				}
			}
		}
		if !improved {
			return
		}
	}
}

// tryShift lets b take over part of cell p.c from one of its funders a, who moves
// the freed money to its best open cell (or keeps it, when b is simply nearer).
func (st *matchState) tryShift(b int32, p matchPair) bool {
	in := st.in
	c1 := p.c
	cell1 := in.Cells[c1]
	u1 := in.UnitCost[cell1.Sector]
	bMoney := min(st.budRem[b], st.secRem[b][cell1.Sector])
	if bMoney <= matchEps {
		return false
	}
	bIn := st.has(b, c1)
	best, bestGain := int32(-1), 1e-9*p.val
	var bestDest matchPair
	var bestQ float64
	for _, fa := range st.funders[c1] {
		a := fa.i
		if a == b {
			continue
		}
		pa, _ := st.pairOf(a, c1)
		have := st.movable(a, c1)
		q := min(have, bMoney/u1)
		if !bIn && len(st.funders[c1]) >= st.m && q < fa.q-matchEps {
			continue // b needs a's slot, so a must leave the cell entirely
		}
		// a's best open destination for the freed money
		var dest matchPair
		destRatio := 0.0
		for _, d := range st.pairs[st.compStart[a]:st.compStart[a+1]] {
			if d.c == c1 || d.ratio <= destRatio {
				continue
			}
			dc := in.Cells[d.c]
			if !st.has(a, d.c) && len(st.funders[d.c]) >= st.m {
				continue
			}
			capMoney := st.secRem[a][dc.Sector]
			if dc.Sector == cell1.Sector {
				capMoney += q * u1
			}
			if st.hRem[d.c] <= matchEps || capMoney <= matchEps {
				continue
			}
			dest, destRatio = d, d.ratio
			break // pairs are by ratio desc: the first open one is the best
		}
		// total gain: b's value minus a's on the moved households, plus what a's
		// destination absorbs of the freed money
		absorb := 0.0
		if destRatio > 0 {
			dc := in.Cells[dest.c]
			capMoney := st.secRem[a][dc.Sector]
			if dc.Sector == cell1.Sector {
				capMoney += q * u1
			}
			absorb = min(q*u1, st.hRem[dest.c]*in.UnitCost[dc.Sector], capMoney, st.budRem[a]+q*u1)
		}
		gain := q*(p.val-pa.val) + absorb*destRatio
		if gain > bestGain {
			best, bestGain, bestDest, bestQ = a, gain, dest, q
		}
	}
	if best < 0 {
		return false
	}
	a := best
	st.add(a, c1, -bestQ)
	st.add(b, c1, bestQ)
	if bestDest.val > 0 {
		if q := st.room(a, bestDest.c); q > matchEps {
			st.add(a, bestDest.c, q)
		}
	}
	return true
}

// SolveLocus runs locus mode: complete teams for candidate villages (MODEL.md).
func SolveLocus(in MatchInput) (*Proposal, error) {
	in.Mode = ModeLocus
	st, err := newMatchState(&in)
	if err != nil {
		return nil, err
	}
	cand := LocusVillages(&in)
	pinnedBy := st.keptPins(false)
	need := map[int]float64{}
	cost := map[int]float64{}
	for _, v := range cand {
		for s := 0; s < st.ns; s++ {
			if c := st.cellAt[v*st.ns+s]; c >= 0 {
				cell := in.Cells[c]
				need[v] += cellWeight(cell) * cell.Households
				cost[v] += in.UnitCost[s] * cell.Households
			}
		}
	}
	pos := map[int]int{}
	for k, v := range cand {
		pos[v] = k
	}
	orders := [][]int{slices.Clone(cand), slices.Clone(cand), slices.Clone(cand)}
	byPin := func(a, b int) int {
		_, pa := pinnedBy[a]
		_, pb := pinnedBy[b]
		if pa != pb {
			if pa {
				return -1
			}
			return 1
		}
		return 0
	}
	slices.SortStableFunc(orders[0], func(a, b int) int {
		if r := byPin(a, b); r != 0 {
			return r
		}
		return cmp.Or(cmp.Compare(need[b], need[a]), cmp.Compare(pos[a], pos[b]))
	})
	slices.SortStableFunc(orders[1], func(a, b int) int {
		if r := byPin(a, b); r != 0 {
			return r
		}
		ra, rb := need[a]/max(cost[a], 1e-300), need[b]/max(cost[b], 1e-300)
		return cmp.Or(cmp.Compare(rb, ra), cmp.Compare(pos[a], pos[b]))
	})
	slices.SortStableFunc(orders[2], byPin)
	// more starts: each candidate first, then by need (bounded, deterministic)
	for k := 0; k < len(orders[0]) && k < 8; k++ {
		ord := append([]int{orders[0][k]}, slices.Delete(slices.Clone(orders[0]), k, k+1)...)
		slices.SortStableFunc(ord, byPin)
		orders = append(orders, ord)
	}
	elig := map[int32][]matchPair{}
	inCand := map[int]bool{}
	for _, v := range cand {
		inCand[v] = true
	}
	for _, p := range st.pairs {
		if inCand[in.Cells[p.c].Village] {
			elig[p.c] = append(elig[p.c], p)
		}
	}
	var best *matchState
	bestObj := math.Inf(-1)
	for _, ord := range orders {
		run := st.clone()
		for _, v := range ord {
			run.buildTeam(v, pinnedBy[v], elig)
		}
		if obj := run.objective(); obj > bestObj+1e-9*math.Abs(obj) {
			best, bestObj = run, obj
		}
	}
	best = best.swapVillages(orders[0], pinnedBy, elig)
	for _, v := range orders[0] { // final reasons; a village that fits now is kept
		if !best.served(v) {
			if why := best.buildTeam(v, pinnedBy[v], elig); why != "" {
				best.notes = append(best.notes, "lokus "+in.Villages[v].Code+": "+why)
				if best.locusWhy == nil {
					best.locusWhy = map[int]string{}
				}
				best.locusWhy[v] = why
			}
		}
	}
	best.notes = append(st.notes, best.notes...)
	return best.proposal(), nil
}

// served reports whether village v has any assignment.
func (st *matchState) served(v int) bool {
	for s := 0; s < st.ns; s++ {
		if c := st.cellAt[v*st.ns+s]; c >= 0 && len(st.funders[c]) > 0 {
			return true
		}
	}
	return false
}

// clone deep-copies the mutable state.
func (st *matchState) clone() *matchState {
	cp := *st
	cp.hRem = slices.Clone(st.hRem)
	cp.budRem = slices.Clone(st.budRem)
	// one backing array each for secRem and funders: locus mode clones thousands
	// of times per solve. Funder slices get cap == len so that an append in
	// one cell reallocates instead of overwriting the next cell's funders.
	cp.secRem = make([][]float64, len(st.secRem))
	flat := make([]float64, len(st.secRem)*st.ns)
	for i, r := range st.secRem {
		row := flat[i*st.ns : (i+1)*st.ns : (i+1)*st.ns]
		copy(row, r)
		cp.secRem[i] = row
	}
	cp.funders = make([][]matchFund, len(st.funders))
	nf := 0
	for _, f := range st.funders {
		nf += len(f)
	}
	fl := make([]matchFund, nf)
	off := 0
	for c, f := range st.funders {
		if len(f) > 0 {
			n := copy(fl[off:], f)
			cp.funders[c] = fl[off : off+n : off+n]
			off += n
		}
	}
	cp.pinned = maps.Clone(st.pinned)
	cp.notes = slices.Clone(st.notes)
	return &cp
}

// cloneInto copies the mutable state into dst, reusing dst's buffers, and
// returns dst; with dst nil it is clone. dst must not be st or share its buffers.
func (st *matchState) cloneInto(dst *matchState) *matchState {
	if dst == nil {
		return st.clone()
	}
	funders, secRem, hRem, budRem, pinned, notes := dst.funders, dst.secRem, dst.hRem, dst.budRem, dst.pinned, dst.notes
	*dst = *st
	dst.hRem = append(hRem[:0], st.hRem...)
	dst.budRem = append(budRem[:0], st.budRem...)
	for i, r := range st.secRem {
		secRem[i] = append(secRem[i][:0], r...)
	}
	dst.secRem = secRem
	for c, f := range st.funders {
		funders[c] = append(funders[c][:0], f...)
	}
	dst.funders = funders
	clear(pinned)
	maps.Copy(pinned, st.pinned)
	dst.pinned = pinned
	dst.notes = append(notes[:0], st.notes...)
	return dst
}

// dropVillage removes every assignment in village v.
func (st *matchState) dropVillage(v int) {
	for s := 0; s < st.ns; s++ {
		c := st.cellAt[v*st.ns+s]
		if c < 0 {
			continue
		}
		for _, f := range slices.Clone(st.funders[c]) {
			st.add(f.i, c, -f.q)
		}
	}
}

// swapVillages is locus mode's local improvement: give an unserved candidate the
// budgets of a served one, then rebuild the rest, keeping the change when the
// objective grows.
func (st *matchState) swapVillages(order []int, pinnedBy map[int][]int32, elig map[int32][]matchPair) *matchState {
	cur, obj := st, st.objective()
	var spare *matchState // a rejected try, whose buffers the next try reuses
	for pass := 0; pass < 3; pass++ {
		improved := false
		for _, v := range order {
			if cur.served(v) {
				continue
			}
			if try := cur.jointInsert(v, order, pinnedBy, elig, spare); try != nil {
				spare = nil
				if o := try.objective(); o > obj+1e-9*math.Abs(obj) {
					cur, obj, improved = try, o, true
					continue
				}
				spare = try
			}
			for _, w := range order {
				if !cur.served(w) {
					continue
				}
				try := cur.cloneInto(spare)
				spare = try
				try.dropVillage(w)
				if try.buildTeam(v, pinnedBy[v], elig) != "" {
					continue
				}
				for _, u := range order {
					if !try.served(u) {
						try.buildTeam(u, pinnedBy[u], elig)
					}
				}
				if o := try.objective(); o > obj+1e-9*math.Abs(obj) {
					cur, obj, improved, spare = try, o, true, nil
					break
				}
			}
		}
		if !improved {
			break
		}
	}
	return cur
}

// LocusVillages is locus mode's candidate set L (MODEL.md): the priority list, or
// the top LocusTop villages by need, plus any pinned village not already in it.
func LocusVillages(in *MatchInput) []int {
	seen := map[int]bool{}
	var out []int
	addPins := func() []int {
		for _, p := range in.Pins {
			if !seen[p.Village] {
				seen[p.Village] = true
				out = append(out, p.Village)
			}
		}
		return out
	}
	if len(in.Priority) > 0 {
		for _, v := range in.Priority {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		return addPins()
	}
	top := in.LocusTop
	if top <= 0 {
		top = DefaultLocusTop
	}
	need := make([]float64, len(in.Villages))
	for _, c := range in.Cells {
		need[c.Village] += cellWeight(c) * c.Households
	}
	idx := make([]int, 0, len(in.Villages))
	for v := range in.Villages {
		if need[v] > 0 {
			idx = append(idx, v)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(need[b], need[a]) })
	for _, v := range idx[:min(top, len(idx))] {
		seen[v] = true
		out = append(out, v)
	}
	return addPins()
}

// buildTeam funds every cell of village v completely, or changes nothing and says why.
func (st *matchState) buildTeam(v int, pinned []int32, elig map[int32][]matchPair) string {
	in := st.in
	type change struct {
		i, c int32
		q    float64
	}
	var done []change
	rollback := func() {
		for k := len(done) - 1; k >= 0; k-- {
			st.add(done[k].i, done[k].c, -done[k].q)
		}
	}
	team := map[int32]bool{}
	for _, i := range pinned {
		team[i] = true
	}
	var cells []int32
	for s := 0; s < st.ns; s++ {
		if c := st.cellAt[v*st.ns+s]; c >= 0 && in.Cells[c].Households > 0 {
			cells = append(cells, c)
		}
	}
	slices.SortStableFunc(cells, func(a, b int32) int {
		ca, cb := in.Cells[a], in.Cells[b]
		return cmp.Compare(cb.Households*in.UnitCost[cb.Sector], ca.Households*in.UnitCost[ca.Sector])
	})
	isPinned := func(i, _ int32) bool { return slices.Contains(pinned, i) }
	if plan := st.teamFlow(cells, elig, isPinned); plan != nil {
		ok := true
		for k, c := range cells { // apply in a fixed order
			for j, p := range elig[c] {
				if q := plan[k][j]; q > 0 {
					st.add(p.i, c, q)
					done = append(done, change{p.i, c, q})
					team[p.i] = true
				}
			}
			if r := st.hRem[c]; r > 1e-9*max(1, in.Cells[c].Households) {
				ok = false
			} else if r > 0 { // rounding dust to the first funder that can pay it
				for _, p := range elig[c] {
					u := in.UnitCost[in.Cells[c].Sector]
					if st.has(p.i, c) && min(st.budRem[p.i], st.secRem[p.i][in.Cells[c].Sector]) >= r*u {
						st.add(p.i, c, r)
						done = append(done, change{p.i, c, r})
						break
					}
				}
			}
		}
		pinsIn := true
		for _, i := range pinned {
			has := false
			for _, d := range done {
				has = has || d.i == i
			}
			pinsIn = pinsIn && has
		}
		if ok && pinsIn {
			return ""
		}
		rollback()
		done = done[:0]
		clear(team)
		for _, i := range pinned {
			team[i] = true
		}
	}
	for _, c := range cells {
		cell := in.Cells[c]
		u := in.UnitCost[cell.Sector]
		cands := elig[c]
		if len(cands) == 0 {
			rollback()
			return fmt.Sprintf("tidak ada perusahaan dengan minat %s dalam jangkauan (no company with an interest in %s within reach)", in.Sectors[cell.Sector], in.Sectors[cell.Sector])
		}
		money := func(i int32) float64 { return max(0, min(st.budRem[i], st.secRem[i][cell.Sector])) }
		byPref := slices.Clone(cands)
		slices.SortStableFunc(byPref, func(a, b matchPair) int {
			if team[a.i] != team[b.i] {
				if team[a.i] {
					return -1
				}
				return 1
			}
			return cmp.Or(cmp.Compare(b.val, a.val), cmp.Compare(a.i, b.i))
		})
		byMoney := slices.Clone(cands)
		slices.SortStableFunc(byMoney, func(a, b matchPair) int {
			return cmp.Or(cmp.Compare(money(b.i), money(a.i)), cmp.Compare(b.val, a.val), cmp.Compare(a.i, b.i))
		})
		ok := false
		for _, order := range [][]matchPair{byPref, byMoney} {
			// plan without touching the state: first fit, at most m companies
			rem, used := cell.Households, 0
			var take []change
			for _, p := range order {
				if rem <= matchEps*max(1, cell.Households) || used == st.m {
					break
				}
				q := min(rem, money(p.i)/u)
				if q <= matchEps {
					continue
				}
				take = append(take, change{p.i, c, q})
				rem -= q
				used++
			}
			if rem > 1e-9*max(1, cell.Households) {
				continue
			}
			for _, t := range take {
				st.add(t.i, t.c, t.q)
				done = append(done, t)
				team[t.i] = true
			}
			// rounding dust: the last funder covers what is left, if it can
			if r := st.hRem[c]; r > 0 && len(take) > 0 {
				t := take[len(take)-1]
				if money(t.i) >= r*u {
					st.add(t.i, c, r)
					done = append(done, change{t.i, c, r})
				}
			}
			ok = true
			break
		}
		if !ok {
			var avail float64
			for _, p := range cands {
				avail += money(p.i)
			}
			rollback()
			if avail < cell.Households*u {
				return fmt.Sprintf("anggaran perusahaan dalam jangkauan untuk %s tidak cukup: perlu Rp %.0f, tersedia Rp %.0f (budgets within reach for %s are short: need Rp %.0f, available Rp %.0f)",
					in.Sectors[cell.Sector], cell.Households*u, avail, in.Sectors[cell.Sector], cell.Households*u, avail)
			}
			return fmt.Sprintf("%s perlu lebih dari %d perusahaan (%s needs more than %d companies)", in.Sectors[cell.Sector], st.m, in.Sectors[cell.Sector], st.m)
		}
	}
	for _, i := range pinned {
		found := false
		for _, d := range done {
			if d.i == i {
				found = true
			}
		}
		if !found {
			rollback()
			return in.Companies[i].Name + " dipatok ke desa ini tetapi anggarannya habis (is pinned here but has no budget left)"
		}
	}
	return ""
}

// objective is the solver's own running objective (MODEL.md), computed from its state.
func (st *matchState) objective() float64 {
	var obj float64
	members := map[[2]int]bool{}
	// sum in key order: float addition is not associative, and the output must be
	// the same byte for byte on every run
	for _, k := range st.keys() {
		q := st.amount(int32(k/int64(len(st.in.Cells))), int32(k%int64(len(st.in.Cells))))
		i, c := int32(k/int64(len(st.in.Cells))), int32(k%int64(len(st.in.Cells)))
		p, _ := st.pairOf(i, c)
		obj += p.val * q
		members[[2]int{int(i), st.in.Cells[c].Village}] = true
	}
	return obj - st.beta*float64(len(members))
}

// proposal assembles the output from the state.
func (st *matchState) proposal() *Proposal {
	in := st.in
	nc := int64(len(in.Cells))
	p := &Proposal{Mode: in.Mode, Objective: st.objective(), Notes: st.notes}
	for _, c := range in.Cells {
		p.NeedTotal += cellWeight(c) * c.Households
	}
	keys := st.keys()
	slices.SortFunc(keys, func(a, b int64) int {
		ca, cb := in.Cells[a%nc], in.Cells[b%nc]
		return cmp.Or(cmp.Compare(ca.Village, cb.Village), cmp.Compare(ca.Sector, cb.Sector), cmp.Compare(a/nc, b/nc))
	})
	assigned := make(map[int32]bool, len(keys))
	for _, k := range keys {
		assigned[int32(k%nc)] = true
	}
	// the two best eligible companies per assigned cell, for "next-best alternative"
	type alt struct {
		i    int32
		val  float64
		dist float64
	}
	alts := map[int32][2]alt{}
	for _, q := range st.pairs {
		if !assigned[q.c] {
			continue
		}
		a, ok := alts[q.c]
		if !ok {
			a = [2]alt{{i: -1}, {i: -1}}
		}
		n := alt{q.i, q.val, q.dist}
		switch {
		case a[0].i < 0 || q.val > a[0].val:
			a[1], a[0] = a[0], n
		case a[1].i < 0 || q.val > a[1].val:
			a[1] = n
		}
		alts[q.c] = a
	}
	totals := make([]CompanyTotal, len(in.Companies))
	compVillages := make([]map[int]bool, len(in.Companies))
	teams := map[int]*Team{}
	covered := make([]bool, len(in.Villages))
	for _, k := range keys {
		i, c := int32(k/nc), int32(k%nc)
		q := st.amount(i, c)
		cell := in.Cells[c]
		co := in.Companies[i]
		pr, _ := st.pairOf(i, c)
		u := in.UnitCost[cell.Sector]
		a := Assignment{Company: int(i), CompanyID: co.ID, CompanyName: co.Name, Village: cell.Village,
			VillageCode: in.Villages[cell.Village].Code, Sector: cell.Sector, SectorName: in.Sectors[cell.Sector],
			Households: q, CellNeed: cell.Households, NeedCovered: cellWeight(cell) * q, Cost: q * u, DistKm: pr.dist,
			Pinned: st.isPinned(k)}
		if co.Budget > 0 {
			a.BudgetShare = a.Cost / co.Budget
		}
		why := []string{fmt.Sprintf("menutup %.0f dari %.0f rumah tangga %s (covers %.0f of %.0f in-need households)",
			q, cell.Households, in.Sectors[cell.Sector], q, cell.Households)}
		if pr.dist == 0 {
			why = append(why, "di wilayah operasi (ring 1)")
		} else {
			why = append(why, fmt.Sprintf("%.1f km dari wilayah operasi (ring 2)", pr.dist))
		}
		why = append(why, fmt.Sprintf("%.0f%% anggaran", 100*a.BudgetShare))
		if a.Pinned {
			why = append(why, "dipatok perencana (pinned by the planner)")
		}
		a.Reason = strings.Join(why, "; ")
		for _, al := range alts[c] {
			if al.i >= 0 && al.i != i {
				a.Alternative, a.AlternativeKm = in.Companies[al.i].Name, al.dist
				break
			}
		}
		p.Assignments = append(p.Assignments, a)
		p.NeedCovered += a.NeedCovered
		t := &totals[i]
		t.Used += a.Cost
		t.Households += q
		t.Cells++
		if compVillages[i] == nil {
			compVillages[i] = map[int]bool{}
		}
		compVillages[i][cell.Village] = true
		tm := teams[cell.Village]
		if tm == nil {
			tm = &Team{Village: cell.Village, VillageCode: a.VillageCode}
			teams[cell.Village] = tm
		}
		if !slices.Contains(tm.Members, co.Name) {
			tm.Members = append(tm.Members, co.Name)
		}
		if !slices.Contains(tm.Sectors, a.SectorName) {
			tm.Sectors = append(tm.Sectors, a.SectorName)
		}
		tm.Cost += a.Cost
		covered[cell.Village] = true
	}
	for i, co := range in.Companies {
		t := &totals[i]
		t.Company, t.CompanyID, t.Name, t.Budget, t.Villages = i, co.ID, co.Name, co.Budget, len(compVillages[i])
	}
	p.Companies = totals
	vs := make([]int, 0, len(teams))
	for v := range teams {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	for _, v := range vs {
		tm := teams[v]
		tm.Complete = true
		for s := 0; s < st.ns; s++ {
			if c := st.cellAt[v*st.ns+s]; c >= 0 && st.hRem[c] > 1e-6*max(1, in.Cells[c].Households) {
				tm.Complete = false
			}
		}
		slices.Sort(tm.Members)
		p.Teams = append(p.Teams, *tm)
	}
	p.Uncovered = st.uncovered(covered)
	return p
}

// uncovered lists villages with need at or above the median that no assignment
// touches, highest need first (at most 50), each with the reason.
func (st *matchState) uncovered(covered []bool) []UncoveredArea {
	in := st.in
	need := make([]float64, len(in.Villages))
	for _, c := range in.Cells {
		need[c.Village] += cellWeight(c) * c.Households
	}
	var withNeed []float64
	for _, n := range need {
		if n > 0 {
			withNeed = append(withNeed, n)
		}
	}
	if len(withNeed) == 0 {
		return nil
	}
	slices.Sort(withNeed)
	median := withNeed[len(withNeed)/2]
	reach := make([]bool, len(in.Villages))    // some company reaches it at all
	eligible := make([]bool, len(in.Villages)) // some company may fund one of its cells
	for _, co := range in.Companies {
		for _, r := range co.Reach {
			if r.DistKm <= co.ReachKm {
				reach[r.Village] = true
			}
		}
	}
	for _, q := range st.pairs {
		eligible[in.Cells[q.c].Village] = true
	}
	var out []UncoveredArea
	for v, n := range need {
		if n < median || n <= 0 || covered[v] {
			continue
		}
		why := "anggaran perusahaan dalam jangkauan sudah terpakai untuk kebutuhan lebih tinggi (budgets within reach went to higher need)"
		switch {
		case !reach[v]:
			why = "tidak ada perusahaan yang menjangkau (no company reaches it)"
		case !eligible[v]:
			why = "tidak ada perusahaan dengan minat sektornya dalam jangkauan (no company within reach works in its sectors)"
		case in.Mode == ModeLocus && st.locusWhy[v] != "":
			why = st.locusWhy[v]
		case in.Mode == ModeLocus:
			why = "bukan lokus terpilih (not among the chosen loci)"
		}
		out = append(out, UncoveredArea{Village: v, VillageCode: in.Villages[v].Code, Need: n, Reason: why})
	}
	slices.SortStableFunc(out, func(a, b UncoveredArea) int { return cmp.Compare(b.Need, a.Need) })
	return out[:min(50, len(out))]
}

// Solve runs the mode named in the input.
func Solve(in MatchInput) (*Proposal, error) {
	switch in.Mode {
	case ModeSector:
		return SolveSector(in)
	case ModeLocus:
		return SolveLocus(in)
	}
	return nil, fmt.Errorf("mode %q: use %q or %q", in.Mode, ModeSector, ModeLocus)
}
