package matching

import (
	"cmp"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Benchmarks print, besides ns/op, the ratio of the matcher's time to a reference
// measured in the same run on the same instance: sorting every eligible
// (company, cell) pair by need per rupiah, the least work any ranking matcher does.

var (
	benchBekasi   = genOptions{Villages: 187, Companies: 114, SideKm: 36, BudgetShare: 0.3, Pins: 5, Exclusions: 10, SectorCaps: true}
	benchNational = genOptions{Villages: 80000, Companies: 2000, SideKm: 1400, BudgetShare: 0.3, Pins: 20, Exclusions: 50, SectorCaps: true}
)

// sortReference sorts the instance's eligible pairs once and returns the time.
func sortReference(in MatchInput) time.Duration {
	start := time.Now()
	type pr struct {
		i, c  int
		ratio float64
	}
	cellAt := map[[2]int]int{}
	for k, c := range in.Cells {
		cellAt[[2]int{c.Village, c.Sector}] = k
	}
	var ps []pr
	for i, co := range in.Companies {
		for _, r := range co.Reach {
			for _, s := range co.Sectors {
				if k, ok := cellAt[[2]int{r.Village, s}]; ok {
					ps = append(ps, pr{i, k, in.Cells[k].Weight / in.UnitCost[s]})
				}
			}
		}
	}
	slices.SortFunc(ps, func(a, b pr) int { return cmp.Compare(b.ratio, a.ratio) })
	return time.Since(start)
}

func benchSolve(b *testing.B, o genOptions, mode string) {
	o.Mode = mode
	in := genInstance(42, o)
	in.LocusTop = 20
	ref := sortReference(in)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	b.ResetTimer()
	var p *Proposal
	for b.Loop() {
		var err error
		p, err = Solve(in)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	per := time.Duration(b.Elapsed().Nanoseconds() / int64(b.N))
	b.ReportMetric(float64(per)/float64(ref), "x_sort_ref")
	b.ReportMetric(float64(ms.TotalAlloc-before)/float64(b.N)/(1<<20), "MiB_alloc/op")
	b.ReportMetric(float64(len(p.Assignments)), "assignments")
	if r := CheckProposal(in, p); !r.OK() {
		b.Fatalf("invalid proposal: %v", r.Violations)
	}
}

func BenchmarkMatchBekasiSector(b *testing.B)   { benchSolve(b, benchBekasi, ModeSector) }
func BenchmarkMatchBekasiLocus(b *testing.B)    { benchSolve(b, benchBekasi, ModeLocus) }
func BenchmarkMatchNationalSector(b *testing.B) { benchSolve(b, benchNational, ModeSector) }
func BenchmarkMatchNationalLocus(b *testing.B)  { benchSolve(b, benchNational, ModeLocus) }

var glpkLadder = flag.Bool("glpk.ladder", false, "TestGLPKLadder: grow instances until glpsol needs more than -glpk.tmlim seconds")

// TestGLPKLadder (run by scripts/bench_match.sh) solves growing sector-mode
// instances with glpsol and with our matcher in the same run, printing both
// times and our gap, up to the largest instance glpsol solves within the limit.
func TestGLPKLadder(t *testing.T) {
	if !*glpkLadder {
		t.Skip("run with -glpk.ladder (scripts/bench_match.sh)")
	}
	glpsolPath(t)
	fmt.Fprintf(os.Stdout, "%-28s %10s %12s %12s %10s\n", "instance", "pairs", "glpsol", "ours", "gap")
	for _, size := range []struct{ v, c int }{{30, 10}, {60, 20}, {100, 40}, {130, 60}, {160, 85}, {187, 114}, {400, 200}} {
		o := genOptions{Villages: size.v, Companies: size.c, SideKm: 36 * math.Sqrt(float64(size.v)/187), BudgetShare: 0.3,
			Pins: 3, Exclusions: 5, SectorCaps: true, Mode: ModeSector}
		in := genInstance(42, o)
		start := time.Now()
		p, err := Solve(in)
		ours := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		opt := solveGLPK(t, in, *glpkTimeLimit)
		name := fmt.Sprintf("%d villages × %d companies", size.v, size.c)
		pairs := 0
		st, _ := newMatchState(&in)
		pairs = len(st.pairs)
		if !opt.Optimal {
			fmt.Fprintf(os.Stdout, "%-28s %10d %12s %12v %10s\n", name, pairs, "> "+strings.TrimSpace(fmt.Sprint(*glpkTimeLimit))+" s", ours.Round(time.Microsecond), opt.Status)
			break
		}
		rOpt := CheckAmounts(in, opt.Amounts)
		rOurs := CheckProposal(in, p)
		gap := (rOpt.Objective - rOurs.Objective) / rOpt.Objective
		fmt.Fprintf(os.Stdout, "%-28s %10d %12v %12v %9.4f%%\n", name, pairs, opt.Elapsed.Round(time.Millisecond), ours.Round(time.Microsecond), 100*gap)
	}
}
