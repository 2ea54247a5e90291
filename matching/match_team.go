package matching

import "math"

// teamArc is an arc of teamFlow's residual graph.
type teamArc struct {
	to        int
	cap, cost float64
	rev       int
}

// teamScratch holds teamFlow's buffers, reused across calls (locus mode calls it
// thousands of times per solve; allocating per call dominated the profile). The
// solver is single-threaded and clones share it: no call nests in another.
type teamScratch struct {
	compNode  []int   // per company: its node, valid when compStamp matches
	compStamp []int32 // per company
	secNode   []int   // per company*ns+sector: its node (negative once its arc exists)
	secStamp  []int32
	stamp     int32
	nodeComp  []int32 // per node: the company of a (company, sector) node, else -1
	comps     []int32
	g         [][]teamArc
	dist      []float64
	prevN     []int
	prevA     []int
	inQ       []bool
	queue     []int
}

func (st *matchState) scratch() *teamScratch {
	if st.ts == nil {
		n := len(st.in.Companies)
		st.ts = &teamScratch{
			compNode: make([]int, n), compStamp: make([]int32, n),
			secNode: make([]int, n*st.ns), secStamp: make([]int32, n*st.ns),
		}
	}
	return st.ts
}

// teamFlow funds every cell of one village at once with a small min-cost max-flow
// in rupiah (source → company → cell → sink; cost −val/u per rupiah), so budgets
// are split across the village's sectors where first-fit would strand them. It
// returns the households per eligible pair, plan[k][j] for cells[k] and
// elig[cells[k]][j], or nil when the cells cannot all be fully funded or a cell
// would need more than m companies.
// Pinned companies' arcs get a bonus so that the flow uses them first.
func (st *matchState) teamFlow(cells []int32, elig map[int32][]matchPair, pinned func(i, c int32) bool) [][]float64 {
	in := st.in
	// Cheap necessary condition first (swapVillages tries many villages that
	// cannot be funded): a cell can receive at most what its eligible companies
	// have left for its sector. When these bounds are short of the need by more
	// than the tolerance below, the flow would end short too, so the answer (nil)
	// is the same without building the graph.
	var need, deficit float64
	for _, c := range cells {
		cell := &in.Cells[c]
		h := cell.Households * in.UnitCost[cell.Sector]
		need += h
		var avail float64
		for _, p := range elig[c] {
			avail += min(max(0, st.budRem[p.i]), max(0, st.secRem[p.i][cell.Sector]))
		}
		deficit += max(0, h-avail)
	}
	if deficit > 4e-9*need {
		return nil
	}
	ts := st.scratch()
	ts.stamp++
	if ts.stamp == math.MaxInt32 { // wrap: reset the stamps
		clear(ts.compStamp)
		clear(ts.secStamp)
		ts.stamp = 1
	}
	stamp := ts.stamp
	// nodes: 0 source, 1 sink, companies, (company, sector) caps, cells
	comps := ts.comps[:0]
	next := 2
	for _, c := range cells {
		for _, p := range elig[c] {
			if ts.compStamp[p.i] != stamp {
				ts.compStamp[p.i], ts.compNode[p.i] = stamp, next
				comps = append(comps, p.i)
				next++
			}
		}
	}
	ts.comps = comps
	for _, c := range cells {
		s := in.Cells[c].Sector
		for _, p := range elig[c] {
			if k := int(p.i)*st.ns + s; ts.secStamp[k] != stamp {
				ts.secStamp[k], ts.secNode[k] = stamp, next
				next++
			}
		}
	}
	cellBase := next
	nNodes := next + len(cells)
	for len(ts.g) < nNodes {
		ts.g = append(ts.g, nil)
	}
	g := ts.g[:nNodes]
	for k := range g {
		g[k] = g[k][:0]
	}
	if cap(ts.nodeComp) < nNodes {
		ts.nodeComp = make([]int32, nNodes)
		ts.dist = make([]float64, nNodes)
		ts.prevN = make([]int, nNodes)
		ts.prevA = make([]int, nNodes)
		ts.inQ = make([]bool, nNodes)
	}
	nodeComp := ts.nodeComp[:nNodes]
	for k := range nodeComp {
		nodeComp[k] = -1
	}
	addArc := func(a, b int, capa, cost float64) {
		g[a] = append(g[a], teamArc{b, capa, cost, len(g[b])})
		g[b] = append(g[b], teamArc{a, 0, -cost, len(g[a]) - 1})
	}
	const S, T = 0, 1
	for _, i := range comps {
		addArc(S, ts.compNode[i], max(0, st.budRem[i]), 0)
	}
	for _, c := range cells { // deterministic arc order: by cell, then eligible list
		s := in.Cells[c].Sector
		for _, p := range elig[c] {
			k := int(p.i)*st.ns + s
			if n := ts.secNode[k]; n > 0 {
				addArc(ts.compNode[p.i], n, max(0, st.secRem[p.i][s]), 0)
				ts.secNode[k] = -n // added
				nodeComp[n] = p.i
			}
		}
	}
	for k, c := range cells {
		cell := in.Cells[c]
		u := in.UnitCost[cell.Sector]
		cn := cellBase + k
		addArc(cn, T, cell.Households*u, 0)
		for _, p := range elig[c] {
			cost := -p.val / u
			if pinned(p.i, c) {
				cost -= 1 / u
			}
			addArc(-ts.secNode[int(p.i)*st.ns+cell.Sector], cn, math.Inf(1), cost)
		}
	}
	var flow float64
	dist := ts.dist[:nNodes]
	prevN := ts.prevN[:nNodes]
	prevA := ts.prevA[:nNodes]
	inQ := ts.inQ[:nNodes]
	for iter := 0; iter < 4*nNodes*nNodes; iter++ {
		for k := range dist {
			dist[k], prevN[k] = math.Inf(1), -1
		}
		clear(inQ)
		dist[S] = 0
		// SPFA (Bellman–Ford with a queue): arc costs are negative
		queue := append(ts.queue[:0], S)
		inQ[S] = true
		for head, pops := 0, 0; head < len(queue) && pops < nNodes*nNodes*4; pops++ {
			a := queue[head]
			head++
			inQ[a] = false
			for k, e := range g[a] {
				if e.cap > 1e-6 && dist[a]+e.cost < dist[e.to]-1e-15 {
					dist[e.to], prevN[e.to], prevA[e.to] = dist[a]+e.cost, a, k
					if !inQ[e.to] {
						inQ[e.to] = true
						queue = append(queue, e.to)
					}
				}
			}
		}
		ts.queue = queue
		if math.IsInf(dist[T], 1) {
			break
		}
		push := math.Inf(1)
		for v := T; v != S; v = prevN[v] {
			push = min(push, g[prevN[v]][prevA[v]].cap)
		}
		for v := T; v != S; v = prevN[v] {
			e := &g[prevN[v]][prevA[v]]
			e.cap -= push
			g[v][e.rev].cap += push
		}
		flow += push
	}
	if flow < need*(1-1e-9) {
		return nil
	}
	out := make([][]float64, len(cells))
	for k, c := range cells {
		cn := cellBase + k
		u := in.UnitCost[in.Cells[c].Sector]
		q := make([]float64, len(elig[c]))
		funders := 0
		// g[cn] is the arc to the sink, then one reverse arc per eligible pair in
		// elig order; the reverse arcs carry the flow
		for j, e := range g[cn][1:] {
			if nodeComp[e.to] >= 0 && e.cap > 1e-6 {
				q[j] = e.cap / u
				funders++
			}
		}
		if funders > st.m {
			return nil
		}
		out[k] = q
	}
	return out
}

// jointInsert tries to serve village v together with every village already
// served, re-funding all of their cells at once with one flow. It returns the new
// state, or nil when the villages cannot all be complete. The new state reuses
// spare's buffers when spare is not nil (spare is then unusable).
func (st *matchState) jointInsert(v int, order []int, pinnedBy map[int][]int32, elig map[int32][]matchPair, spare *matchState) *matchState {
	try := st.cloneInto(spare)
	set := []int{}
	for _, w := range order {
		if w == v || st.served(w) {
			set = append(set, w)
			try.dropVillage(w)
		}
	}
	var cells []int32
	for _, w := range set {
		for s := 0; s < st.ns; s++ {
			if c := st.cellAt[w*st.ns+s]; c >= 0 && st.in.Cells[c].Households > 0 {
				cells = append(cells, c)
			}
		}
	}
	isPinned := func(i, c int32) bool {
		for _, j := range pinnedBy[st.in.Cells[c].Village] {
			if j == i {
				return true
			}
		}
		return false
	}
	plan := try.teamFlow(cells, elig, isPinned)
	if plan == nil {
		return nil
	}
	for k, c := range cells {
		for j, p := range elig[c] {
			if q := plan[k][j]; q > 0 {
				try.add(p.i, c, q)
			}
		}
		if try.hRem[c] > 1e-9*max(1, st.in.Cells[c].Households) {
			return nil
		}
	}
	for _, w := range set {
		for _, i := range pinnedBy[w] {
			has := false
			for s := 0; s < st.ns; s++ {
				if c := st.cellAt[w*st.ns+s]; c >= 0 {
					has = has || try.has(i, c)
				}
			}
			if !has {
				return nil
			}
		}
	}
	return try
}
