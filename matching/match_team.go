package matching

import "math"

// teamFlow funds every cell of one village at once with a small min-cost max-flow
// in rupiah (source → company → cell → sink; cost −val/u per rupiah), so budgets
// are split across the village's sectors where first-fit would strand them. It
// returns the households per (company, cell), or nil when the cells cannot all be
// fully funded or a cell would need more than m companies.
// Pinned companies' arcs get a bonus so that the flow uses them first.
func (st *matchState) teamFlow(cells []int32, elig map[int32][]matchPair, pinned func(i, c int32) bool) map[[2]int32]float64 {
	in := st.in
	type arc struct {
		to        int
		cap, cost float64
		rev       int
	}
	// nodes: 0 source, 1 sink, companies, (company, sector) caps, cells
	compNode := map[int32]int{}
	secNode := map[[2]int32]int{}
	var comps []int32
	next := 2
	for _, c := range cells {
		for _, p := range elig[c] {
			if _, ok := compNode[p.i]; !ok {
				compNode[p.i] = next
				comps = append(comps, p.i)
				next++
			}
		}
	}
	for _, c := range cells {
		s := int32(in.Cells[c].Sector)
		for _, p := range elig[c] {
			if _, ok := secNode[[2]int32{p.i, s}]; !ok {
				secNode[[2]int32{p.i, s}] = next
				next++
			}
		}
	}
	cellBase := next
	nNodes := next + len(cells)
	g := make([][]arc, nNodes)
	addArc := func(a, b int, capa, cost float64) {
		g[a] = append(g[a], arc{b, capa, cost, len(g[b])})
		g[b] = append(g[b], arc{a, 0, -cost, len(g[a]) - 1})
	}
	const S, T = 0, 1
	var need float64
	for _, i := range comps {
		addArc(S, compNode[i], max(0, st.budRem[i]), 0)
	}
	for _, c := range cells { // deterministic arc order: by cell, then eligible list
		s := int32(in.Cells[c].Sector)
		for _, p := range elig[c] {
			k := [2]int32{p.i, s}
			if n := secNode[k]; n > 0 {
				addArc(compNode[p.i], n, max(0, st.secRem[p.i][s]), 0)
				secNode[k] = -n // added
			}
		}
	}
	for k, c := range cells {
		cell := in.Cells[c]
		u := in.UnitCost[cell.Sector]
		cn := cellBase + k
		addArc(cn, T, cell.Households*u, 0)
		need += cell.Households * u
		for _, p := range elig[c] {
			cost := -p.val / u
			if pinned(p.i, c) {
				cost -= 1 / u
			}
			addArc(-secNode[[2]int32{p.i, int32(cell.Sector)}], cn, math.Inf(1), cost)
		}
	}
	var flow float64
	dist := make([]float64, nNodes)
	prevN := make([]int, nNodes)
	prevA := make([]int, nNodes)
	for iter := 0; iter < 4*nNodes*nNodes; iter++ {
		for k := range dist {
			dist[k], prevN[k] = math.Inf(1), -1
		}
		dist[S] = 0
		// SPFA (Bellman–Ford with a queue): arc costs are negative
		queue := []int{S}
		inQ := make([]bool, nNodes)
		inQ[S] = true
		for pops := 0; len(queue) > 0 && pops < nNodes*nNodes*4; pops++ {
			a := queue[0]
			queue = queue[1:]
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
	out := map[[2]int32]float64{}
	secOwner := map[int]int32{}
	for k, n := range secNode {
		secOwner[-n] = k[0]
	}
	for k, c := range cells {
		cn := cellBase + k
		u := in.UnitCost[in.Cells[c].Sector]
		funders := 0
		for _, e := range g[cn] { // reverse arcs back to (company, sector) carry the flow
			if i, ok := secOwner[e.to]; ok && e.cap > 1e-6 {
				out[[2]int32{i, c}] = e.cap / u
				funders++
			}
		}
		if funders > st.m {
			return nil
		}
	}
	return out
}

// jointInsert tries to serve village v together with every village already
// served, re-funding all of their cells at once with one flow. It returns the new
// state, or nil when the villages cannot all be complete.
func (st *matchState) jointInsert(v int, order []int, pinnedBy map[int][]int32, elig map[int32][]matchPair) *matchState {
	try := st.clone()
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
	for _, c := range cells {
		for _, p := range elig[c] {
			if q := plan[[2]int32{p.i, c}]; q > 0 {
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
