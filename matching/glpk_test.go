package matching

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The exact reference: each instance's MILP, written from MODEL.md's formulation
// in GNU MathProg, solved by GLPK's glpsol inside the test.

var glpkTimeLimit = flag.Int("glpk.tmlim", 60, "glpsol time limit in seconds")

// glpsolPath finds glpsol; without it the test fails under CI and skips otherwise.
func glpsolPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("glpsol")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("glpsol not found (install Debian glpk-utils: scripts/deps.sh): %v", err)
		}
		t.Skip("glpsol not installed (Debian glpk-utils); skipping the exact comparison")
	}
	return p
}

const mathProgModel = `
set I; set C; set S; set V;
set E within I cross C;
param h{C} >= 0; param u{C} > 0;
param sec{C} symbolic in S; param vil{C} symbolic in V;
param val{E};
param B{I} >= 0;
set K within I cross S; param BS{K} >= 0;
set P within E;
set PV within I cross V; param pvmin{PV} >= 0;
param m; param beta >= 0;
var x{E} >= 0; var y{E} binary;
`

const mathProgSector = `
maximize obj: sum{(i,c) in E} val[i,c]*x[i,c];
s.t. cover{c in C}: sum{i in I: (i,c) in E} x[i,c] <= h[c];
`

const mathProgLocus = `
set T := setof{(i,c) in E} (i, vil[c]);
set L within V;
var z{L} binary; var t{T} binary;
maximize obj: sum{(i,c) in E} val[i,c]*x[i,c] - beta*sum{(i,v) in T} t[i,v];
s.t. full{c in C}: sum{i in I: (i,c) in E} x[i,c] = h[c]*z[vil[c]];
s.t. member{(i,c) in E}: y[i,c] <= t[i,vil[c]];
s.t. pinl{(i,v) in PV}: sum{c in C: (i,c) in E and vil[c] = v} x[i,c] >= pvmin[i,v]*z[v];
`

const mathProgCommon = `
s.t. link{(i,c) in E}: x[i,c] <= h[c]*y[i,c];
s.t. card{c in C}: sum{i in I: (i,c) in E} y[i,c] <= m;
s.t. bud{i in I}: sum{c in C: (i,c) in E} u[c]*x[i,c] <= B[i];
s.t. sbud{(i,s) in K}: sum{c in C: (i,c) in E and sec[c] = s} u[c]*x[i,c] <= BS[i,s];
s.t. pin{(i,c) in P}: x[i,c] >= min(1, h[c]);
`

const mathProgSectorPins = `
s.t. pinv{(i,v) in PV}: sum{c in C: (i,c) in E and vil[c] = v} x[i,c] >= pvmin[i,v];
`

const mathProgOutput = `
solve;
printf{(i,c) in E: x[i,c] > 1e-9}: "X %s %s %.12g\n", i, c, x[i,c];
printf "OBJ %.12g\n", obj;
`

// writeMathProg writes the instance's MILP (model and data) to w, straight from
// the raw input (not the solver's structures). It returns the cell index of each
// MathProg cell name so that the solution can be read back.
func writeMathProg(in MatchInput) (string, []int) {
	m, alpha, beta := in.params()
	var b strings.Builder
	b.WriteString(mathProgModel)
	if in.Mode == ModeLocus {
		b.WriteString(mathProgLocus)
	} else {
		b.WriteString(mathProgSector)
		b.WriteString(mathProgSectorPins)
	}
	b.WriteString(mathProgCommon)
	b.WriteString(mathProgOutput)

	inL := map[int]bool{}
	if in.Mode == ModeLocus {
		for _, v := range LocusVillages(&in) {
			inL[v] = true
		}
	}
	var cells []int
	for k, c := range in.Cells {
		if c.Households <= 0 || (in.Mode == ModeLocus && !inL[c.Village]) {
			continue
		}
		cells = append(cells, k)
	}
	cellOf := map[[2]int]int{}
	for _, k := range cells {
		cellOf[[2]int{in.Cells[k].Village, in.Cells[k].Sector}] = k
	}
	excl := func(i, v, s int) bool {
		for _, e := range in.Exclusions {
			if e.Company == i && e.Village == v && (e.Sector < 0 || e.Sector == s) {
				return true
			}
		}
		return false
	}
	type edge struct {
		i, c int
		val  float64
	}
	var edges []edge
	eligible := map[[2]int]bool{}
	for i, co := range in.Companies {
		seen := map[int]bool{}
		for _, r := range co.Reach {
			if r.DistKm > co.ReachKm || seen[r.Village] {
				continue
			}
			seen[r.Village] = true
			for _, s := range co.Sectors {
				k, ok := cellOf[[2]int{r.Village, s}]
				if !ok || excl(i, r.Village, s) {
					continue
				}
				w := in.Cells[k].Weight
				if w == 0 {
					w = 1
				}
				val := w
				if co.ReachKm > 0 {
					val = w * (1 - alpha*r.DistKm/co.ReachKm)
				}
				edges = append(edges, edge{i, k, val})
				eligible[[2]int{i, k}] = true
			}
		}
	}
	b.WriteString("data;\n")
	fmt.Fprintf(&b, "param m := %d;\nparam beta := %.12g;\n", m, beta)
	b.WriteString("set I :=")
	for i := range in.Companies {
		fmt.Fprintf(&b, " i%d", i)
	}
	b.WriteString(";\nset S :=")
	for s := range in.Sectors {
		fmt.Fprintf(&b, " s%d", s)
	}
	b.WriteString(";\nset V :=")
	for v := range in.Villages {
		fmt.Fprintf(&b, " v%d", v)
	}
	b.WriteString(";\nset C :=")
	for _, k := range cells {
		fmt.Fprintf(&b, " c%d", k)
	}
	b.WriteString(";\nparam :  h  u  sec  vil :=\n")
	for _, k := range cells {
		c := in.Cells[k]
		fmt.Fprintf(&b, "c%d %.12g %.12g s%d v%d\n", k, c.Households, in.UnitCost[c.Sector], c.Sector, c.Village)
	}
	b.WriteString(";\nparam B :=")
	for i, co := range in.Companies {
		fmt.Fprintf(&b, " i%d %.12g", i, co.Budget)
	}
	b.WriteString(";\nset E :=")
	for _, e := range edges {
		fmt.Fprintf(&b, " (i%d,c%d)", e.i, e.c)
	}
	b.WriteString(";\nparam val :=")
	for _, e := range edges {
		fmt.Fprintf(&b, " i%d c%d %.12g", e.i, e.c, e.val)
	}
	b.WriteString(";\nset K :=")
	for i, co := range in.Companies {
		for s := range in.Sectors {
			if _, ok := co.SectorBudget[s]; ok {
				fmt.Fprintf(&b, " (i%d,s%d)", i, s)
			}
		}
	}
	b.WriteString(";\nparam BS :=")
	for i, co := range in.Companies {
		for s := range in.Sectors {
			if v, ok := co.SectorBudget[s]; ok {
				fmt.Fprintf(&b, " i%d s%d %.12g", i, s, v)
			}
		}
	}
	// pins: only those whose pair is eligible (the others are dropped, MODEL.md)
	b.WriteString(";\nset P :=")
	for _, p := range in.Pins {
		if p.Sector < 0 || in.Mode == ModeLocus {
			continue
		}
		if k, ok := cellOf[[2]int{p.Village, p.Sector}]; ok && eligible[[2]int{p.Company, k}] {
			fmt.Fprintf(&b, " (i%d,c%d)", p.Company, k)
		}
	}
	b.WriteString(";\nparam : PV : pvmin :=")
	pv := map[[2]int]bool{}
	for _, p := range in.Pins {
		if p.Sector >= 0 && in.Mode != ModeLocus {
			continue
		}
		total := 0.0
		for s := range in.Sectors {
			if k, ok := cellOf[[2]int{p.Village, s}]; ok && eligible[[2]int{p.Company, k}] {
				total += in.Cells[k].Households
			}
		}
		if total > 0 && !pv[[2]int{p.Company, p.Village}] {
			pv[[2]int{p.Company, p.Village}] = true
			fmt.Fprintf(&b, " i%d v%d %.12g", p.Company, p.Village, math.Min(1, total))
		}
	}
	b.WriteString(";\n")
	if in.Mode == ModeLocus {
		b.WriteString("set L :=")
		for _, v := range LocusVillages(&in) {
			fmt.Fprintf(&b, " v%d", v)
		}
		b.WriteString(";\n")
	}
	b.WriteString("end;\n")
	return b.String(), cells
}

// glpkResult is glpsol's answer.
type glpkResult struct {
	Optimal   bool
	Objective float64
	Amounts   []CheckAmount
	Elapsed   time.Duration
	Status    string
}

// solveGLPK runs glpsol on the instance's MILP.
func solveGLPK(t testing.TB, in MatchInput, tmlim int) glpkResult {
	t.Helper()
	bin := glpsolPath(t)
	model, _ := writeMathProg(in)
	dir := t.TempDir()
	path := filepath.Join(dir, "match.mod")
	if err := os.WriteFile(path, []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(tmlim+30)*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, bin, "--math", path, "--tmlim", strconv.Itoa(tmlim), "--mipgap", "1e-7").CombinedOutput()
	res := glpkResult{Elapsed: time.Since(start)}
	if err != nil {
		t.Fatalf("glpsol: %v\n%s", err, tail(string(out), 2000))
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case strings.Contains(line, "INTEGER OPTIMAL SOLUTION FOUND"):
			res.Optimal, res.Status = true, "optimal"
		case strings.Contains(line, "TIME LIMIT EXCEEDED"):
			res.Status = "time limit"
		case strings.Contains(line, "PROBLEM HAS NO INTEGER FEASIBLE SOLUTION"), strings.Contains(line, "PROBLEM HAS NO PRIMAL FEASIBLE SOLUTION"):
			res.Status = "infeasible"
		case len(f) == 4 && f[0] == "X":
			i, _ := strconv.Atoi(strings.TrimPrefix(f[1], "i"))
			k, _ := strconv.Atoi(strings.TrimPrefix(f[2], "c"))
			q, _ := strconv.ParseFloat(f[3], 64)
			c := in.Cells[k]
			res.Amounts = append(res.Amounts, CheckAmount{Company: i, Village: c.Village, Sector: c.Sector, Households: q})
		case len(f) == 2 && f[0] == "OBJ":
			res.Objective, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	if res.Status == "" {
		t.Fatalf("glpsol gave no status:\n%s", tail(string(out), 2000))
	}
	return res
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestSectorMatchesGLPKOptimum: on 24 seeded instances (10 companies × 30
// villages × 5 sectors) our sector-mode objective is within 2% of GLPK's exact
// MILP optimum on each and within 0.5% on average; both solutions pass the checker.
func TestSectorMatchesGLPKOptimum(t *testing.T) {
	compareWithGLPK(t, ModeSector, 24, 0.02, 0.005)
}

// TestLocusMatchesGLPKOptimum does the same for locus mode (top 8 villages).
func TestLocusMatchesGLPKOptimum(t *testing.T) {
	compareWithGLPK(t, ModeLocus, 20, 0.02, 0.005)
}

func compareWithGLPK(t *testing.T, mode string, n int, maxGap, meanGap float64) {
	glpsolPath(t)
	var sum, worst float64
	for seed := uint64(1); seed <= uint64(n); seed++ {
		in := genInstance(seed, genOptions{Villages: 30, Companies: 10, SideKm: 25, Pins: 2, Exclusions: 3,
			SectorCaps: true, Mode: mode})
		in.LocusTop = 8
		ours, err := Solve(in)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		rOurs := CheckProposal(in, ours)
		if !rOurs.OK() {
			t.Fatalf("seed %d: our proposal violates the model:\n%s", seed, strings.Join(rOurs.Violations, "\n"))
		}
		if math.Abs(rOurs.Objective-ours.Objective) > 1e-6*math.Max(1, math.Abs(ours.Objective)) {
			t.Fatalf("seed %d: solver says objective %.9g, checker %.9g", seed, ours.Objective, rOurs.Objective)
		}
		opt := solveGLPK(t, in, *glpkTimeLimit)
		if !opt.Optimal {
			t.Fatalf("seed %d: glpsol status %s", seed, opt.Status)
		}
		rOpt := CheckAmounts(in, opt.Amounts)
		if !rOpt.OK() {
			t.Fatalf("seed %d: GLPK's optimum violates the checker (model mismatch?):\n%s", seed, strings.Join(rOpt.Violations, "\n"))
		}
		if math.Abs(rOpt.Objective-opt.Objective) > 1e-5*math.Max(1, math.Abs(opt.Objective)) {
			t.Fatalf("seed %d: GLPK objective %.9g, checker scores its x at %.9g", seed, opt.Objective, rOpt.Objective)
		}
		if rOurs.Objective > rOpt.Objective+1e-6*math.Max(1, rOpt.Objective) {
			t.Fatalf("seed %d: ours %.9g beats the optimum %.9g: the MILP and the model disagree", seed, rOurs.Objective, rOpt.Objective)
		}
		gap := 0.0
		if rOpt.Objective > 0 {
			gap = (rOpt.Objective - rOurs.Objective) / rOpt.Objective
		}
		t.Logf("seed %2d: optimum %10.3f ours %10.3f gap %.4f%% (glpsol %v, %d assignments, %d teams)",
			seed, rOpt.Objective, rOurs.Objective, 100*gap, opt.Elapsed.Round(time.Millisecond), len(ours.Assignments), len(ours.Teams))
		if gap > maxGap {
			t.Errorf("seed %d: gap %.3f%% exceeds %.1f%%", seed, 100*gap, 100*maxGap)
		}
		sum += gap
		worst = max(worst, gap)
	}
	mean := sum / float64(n)
	t.Logf("%s mode: mean gap %.4f%%, worst %.4f%% over %d instances", mode, 100*mean, 100*worst, n)
	if mean > meanGap {
		t.Errorf("mean gap %.3f%% exceeds %.1f%%", 100*mean, 100*meanGap)
	}
}
