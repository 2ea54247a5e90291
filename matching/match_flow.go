package matching

import (
	"cmp"
	"math"
	"slices"
)

// flowEdge is an edge of the company graph. Nodes are the companies and one
// node T (index n) standing for "outside": uncovered need and unspent money.
//   - a→b via c: a puts money into cell c and b takes the same money out of c;
//   - a→T via c: a puts money into c, which has room;
//   - T→b via c: b takes money out of c (c < 0: b spends money it had left).
type flowEdge struct {
	to   int32
	c    int32
	gain float64 // per rupiah
}

// flowMaxLen bounds the length of an improving cycle (edges through companies).
const flowMaxLen = 6

// improveFlow cancels positive-gain cycles through T in the residual graph of the
// money flow (MODEL.md, local improvement), compressed to companies plus T: free
// money somewhere (T→a), pass it along companies that take over each other's
// shares (a→b), and put it into a cell with room (→T). Cycles are found by a
// Bellman–Ford from T limited to flowMaxLen rounds; after each change only the
// companies next to the touched cells are re-examined. work bounds the edge
// relaxations so that huge instances stay fast, deterministically.
func (st *matchState) improveFlow(work int) {
	in := st.in
	n := len(in.Companies)
	if n == 0 {
		return
	}
	maxRatio := 0.0
	for _, p := range st.pairs {
		maxRatio = max(maxRatio, p.ratio)
	}
	eps := 1e-9 * maxRatio
	T := int32(n)
	adj := make([][]flowEdge, n+1)
	toT := make([]flowEdge, n)   // a's best edge into T (gain -Inf when none)
	fromT := make([]flowEdge, n) // T's edge to a (gain -Inf when none)
	dist := make([]float64, n+1)
	parent := make([]int32, n+1)
	via := make([]flowEdge, n+1)
	banned := map[[3]int32]bool{}
	dirty := make([]bool, n)
	for a := range dirty {
		dirty[a] = true
	}
	bestAt := make([]int32, n) // per target company: index in adj[a] + 1, valid when stamp matches
	stamp := make([]int32, n)
	var cur int32
	rebuild := func(a int) {
		adj[a] = adj[a][:0]
		cur++
		toT[a] = flowEdge{to: T, c: -1, gain: math.Inf(-1)}
		fromT[a] = flowEdge{to: int32(a), c: -1, gain: math.Inf(-1)}
		ps := st.pairs[st.compStart[a]:st.compStart[a+1]]
		work -= len(ps)
		if st.budRem[a] > 1e-9*max(1, in.Companies[a].Budget) {
			fromT[a].gain = 0
		} else {
			for k := len(ps) - 1; k >= 0; k-- { // ratio ascending: a's cheapest share to give up
				if st.movable(int32(a), ps[k].c) > matchEps && !banned[[3]int32{T, int32(a), ps[k].c}] {
					fromT[a] = flowEdge{to: int32(a), c: ps[k].c, gain: -ps[k].ratio}
					break
				}
			}
		}
		for _, p := range ps {
			cell := &in.Cells[p.c]
			if st.secRem[a][cell.Sector] <= eps {
				continue
			}
			if len(st.funders[p.c]) >= st.m && !st.has(int32(a), p.c) {
				continue
			}
			u := in.UnitCost[cell.Sector]
			if st.hRem[p.c] > matchEps*max(1, cell.Households) && p.ratio > toT[a].gain && (len(banned) == 0 || !banned[[3]int32{int32(a), T, p.c}]) {
				toT[a] = flowEdge{to: T, c: p.c, gain: p.ratio}
			}
			for _, fb := range st.funders[p.c] {
				b := fb.i
				if int(b) == a || fb.q <= matchEps || (len(st.pinned) > 0 && st.movable(b, p.c) <= matchEps) || (len(banned) > 0 && banned[[3]int32{int32(a), b, p.c}]) {
					continue
				}
				g := (p.val - fb.val) / u
				if stamp[b] == cur {
					if k := bestAt[b]; g > adj[a][k].gain {
						adj[a][k] = flowEdge{b, p.c, g}
					}
					continue
				}
				stamp[b], bestAt[b] = cur, int32(len(adj[a]))
				adj[a] = append(adj[a], flowEdge{b, p.c, g})
			}
		}
	}
	frontier, next := []int32{}, []int32{}
	inNext := make([]bool, n)
	for iter := 0; work > 0 && iter < 1_000_000; iter++ {
		for a := range dirty {
			if dirty[a] {
				rebuild(a)
				dirty[a] = false
			}
		}
		// Bellman–Ford from T, at most flowMaxLen rounds, relaxing only what changed.
		for k := range dist {
			dist[k], parent[k] = math.Inf(-1), -1
		}
		frontier = frontier[:0]
		for a := 0; a < n; a++ {
			if g := fromT[a].gain; !math.IsInf(g, -1) {
				dist[a], parent[a], via[a] = g, T, fromT[a]
				frontier = append(frontier, int32(a))
			}
		}
		for round := 1; round < flowMaxLen && len(frontier) > 0; round++ {
			next = next[:0]
			for _, a := range frontier {
				work -= len(adj[a])
				for _, e := range adj[a] {
					if d := dist[a] + e.gain; d > dist[e.to]+eps {
						dist[e.to], parent[e.to], via[e.to] = d, a, e
						if !inNext[e.to] {
							inNext[e.to] = true
							next = append(next, e.to)
						}
					}
				}
			}
			for _, b := range next {
				inNext[b] = false
			}
			frontier, next = next, frontier
		}
		// close cycles into T, best first; apply every one that shares no company
		// or cell with a cycle applied before it in this pass (their edges are unchanged)
		var ends []int32
		for a := 0; a < n; a++ {
			if dist[a]+toT[a].gain > eps {
				ends = append(ends, int32(a))
			}
		}
		if len(ends) == 0 {
			return
		}
		slices.SortStableFunc(ends, func(x, y int32) int {
			return cmp.Compare(dist[y]+toT[y].gain, dist[x]+toT[x].gain)
		})
		usedComp := map[int32]bool{}
		usedCell := map[int32]bool{}
		applied := 0
		for _, end := range ends {
			cyc := []pathStep{{from: end, edge: toT[end]}}
			seenAt := map[int32]int{}
			for v := end; v != T; v = parent[v] {
				if k, loop := seenAt[v]; loop {
					// the parent pointers closed a cycle among companies (a pure swap):
					// that cycle is positive too; apply it instead
					cyc = cyc[k:]
					break
				}
				seenAt[v] = len(cyc)
				cyc = append(cyc, pathStep{from: parent[v], edge: via[v]})
			}
			slices.Reverse(cyc)
			clash := false
			for _, s := range cyc {
				clash = clash || usedComp[s.from] || usedComp[s.edge.to] || (s.edge.c >= 0 && usedCell[s.edge.c])
			}
			if clash || applied > 0 {
				break // one cycle per pass: measured faster than batching disjoint ones
			}
			if applied > 0 && cyc[0].from != T {
				continue // pure swaps only as the pass's first cycle: their loop may cross others
			}
			ok := st.applyPath(cyc)
			if !ok {
				e := cyc[len(cyc)-1]
				banned[[3]int32{e.from, e.edge.to, e.edge.c}] = true
				if e.from != T {
					dirty[e.from] = true
				}
				if applied == 0 {
					break
				}
				continue
			}
			applied++
			for _, s := range cyc {
				if s.edge.c >= 0 {
					usedCell[s.edge.c] = true
					for _, a := range st.cellComps[s.edge.c] {
						dirty[a] = true
					}
				}
				if s.from != T {
					dirty[s.from] = true
					usedComp[s.from] = true
				}
				if s.edge.to != T {
					dirty[s.edge.to] = true
					usedComp[s.edge.to] = true
				}
			}
		}
	}
}

// pathStep is one edge of an improving cycle.
type pathStep struct {
	from int32
	edge flowEdge
}

// applyPath pushes the largest feasible amount of money around the cycle. It
// reverts and returns false when the result would break a constraint.
func (st *matchState) applyPath(steps []pathStep) bool {
	in := st.in
	T := int32(len(in.Companies))
	delta := math.Inf(1)
	seen := map[int32]bool{}
	for _, s := range steps {
		if seen[s.from] {
			return false // not simple: give up on it
		}
		seen[s.from] = true
		e := s.edge
		if s.from == T { // e.to frees money
			if e.c < 0 {
				delta = min(delta, st.budRem[e.to])
			} else {
				delta = min(delta, st.movable(e.to, e.c)*in.UnitCost[in.Cells[e.c].Sector])
			}
			continue
		}
		cell := in.Cells[e.c]
		u := in.UnitCost[cell.Sector]
		delta = min(delta, st.secRem[s.from][cell.Sector])
		if e.to == T {
			delta = min(delta, st.hRem[e.c]*u)
		} else {
			delta = min(delta, st.movable(e.to, e.c)*u)
		}
	}
	if !(delta > 0) || math.IsInf(delta, 1) {
		return false
	}
	type mv struct {
		i, c int32
		q    float64
	}
	var done []mv
	move := func(i, c int32, q float64) {
		st.add(i, c, q)
		done = append(done, mv{i, c, q})
	}
	for _, s := range steps {
		e := s.edge
		if e.c < 0 {
			continue
		}
		q := delta / in.UnitCost[in.Cells[e.c].Sector]
		if s.from == T {
			move(e.to, e.c, -q)
			continue
		}
		if e.to != T {
			move(e.to, e.c, -q)
		}
		move(s.from, e.c, q)
	}
	ok := true
	for _, d := range done {
		cell := in.Cells[d.c]
		tol := 1e-9 * max(1, cell.Households)
		if len(st.funders[d.c]) > st.m || st.hRem[d.c] < -tol ||
			st.budRem[d.i] < -1e-9*max(1, in.Companies[d.i].Budget) || st.secRem[d.i][cell.Sector] < -1e-9*max(1, in.Companies[d.i].Budget) {
			ok = false
		}
	}
	if !ok {
		for k := len(done) - 1; k >= 0; k-- {
			st.add(done[k].i, done[k].c, -done[k].q)
		}
	}
	return ok
}
