package matching

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// genOptions shapes a synthetic matcher instance.
type genOptions struct {
	Villages, Companies int
	SideKm              float64 // villages and companies lie in a square of this side
	BudgetShare         float64 // total budget / total cost of all need; 0 = random in [0.2, 0.8]
	Pins, Exclusions    int
	SectorCaps          bool // some companies get a per-sector cap
	Mode                string
}

var genSectors = []string{"pendidikan", "kesehatan", "lingkungan", "infrastruktur", "ekonomi"}

// genInstance builds a seeded random instance: villages on a square, cells with
// need in ~70% of (village, sector) pairs, companies with 1–3 sectors, reach
// 4–12 km, lognormal budgets. Reach lists come from a grid index so that
// national-size instances are built in about a second.
func genInstance(seed uint64, o genOptions) MatchInput {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	if o.Mode == "" {
		o.Mode = ModeSector
	}
	in := MatchInput{Mode: o.Mode, Sectors: genSectors, UnitCost: []float64{1.5e6, 2.5e6, 1e6, 4e6, 2e6}}
	type pt struct{ x, y float64 }
	vp := make([]pt, o.Villages)
	var totalCost float64
	for v := range o.Villages {
		vp[v] = pt{r.Float64() * o.SideKm, r.Float64() * o.SideKm}
		in.Villages = append(in.Villages, MatchVillage{Code: fmt.Sprintf("V%05d", v)})
		for s := range genSectors {
			if r.Float64() < 0.7 {
				h := float64(5 + r.IntN(146))
				in.Cells = append(in.Cells, MatchCell{Village: v, Sector: s, Households: h, Weight: 0.5 + r.Float64()})
				totalCost += h * in.UnitCost[s]
			}
		}
	}
	share := o.BudgetShare
	if share == 0 {
		share = 0.2 + 0.6*r.Float64()
	}
	raw := make([]float64, o.Companies)
	var rawSum float64
	for i := range raw {
		raw[i] = math.Exp(r.NormFloat64() * 0.7)
		rawSum += raw[i]
	}
	// grid index of villages, cell side = largest reach
	const maxReach = 12.0
	grid := map[[2]int][]int{}
	for v, p := range vp {
		k := [2]int{int(p.x / maxReach), int(p.y / maxReach)}
		grid[k] = append(grid[k], v)
	}
	for i := range o.Companies {
		c := pt{r.Float64() * o.SideKm, r.Float64() * o.SideKm}
		co := MatchCompany{ID: int64(i + 1), Name: fmt.Sprintf("PT %03d", i), ReachKm: 4 + 8*r.Float64(),
			Budget: math.Round(share*totalCost*raw[i]/rawSum/1e6) * 1e6}
		perm := r.Perm(len(genSectors))
		co.Sectors = perm[:1+r.IntN(3)]
		slices.Sort(co.Sectors)
		if o.SectorCaps && r.Float64() < 0.3 && len(co.Sectors) > 1 {
			co.SectorBudget = map[int]float64{co.Sectors[0]: math.Round(co.Budget * 0.3)}
		}
		gx, gy := int(c.x/maxReach), int(c.y/maxReach)
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				for _, v := range grid[[2]int{gx + dx, gy + dy}] {
					d := math.Hypot(vp[v].x-c.x, vp[v].y-c.y) - 1 // 1 km operating-area radius
					if d <= co.ReachKm {
						co.Reach = append(co.Reach, MatchReach{Village: v, DistKm: math.Round(max(0, d)*100) / 100})
					}
				}
			}
		}
		slices.SortFunc(co.Reach, func(a, b MatchReach) int { return cmp.Compare(a.Village, b.Village) })
		in.Companies = append(in.Companies, co)
	}
	// pins and exclusions on pairs that are eligible, so that pins are feasible
	for n := 0; n < o.Pins+o.Exclusions; n++ {
		i := r.IntN(o.Companies)
		co := in.Companies[i]
		if len(co.Reach) == 0 {
			continue
		}
		v := co.Reach[r.IntN(len(co.Reach))].Village
		s := co.Sectors[r.IntN(len(co.Sectors))]
		rule := MatchRule{Company: i, Village: v, Sector: s}
		if n < o.Pins {
			if co.Budget < 200*in.UnitCost[s] {
				continue
			}
			if o.Mode == ModeLocus {
				rule.Sector = -1
			}
			in.Pins = append(in.Pins, rule)
		} else {
			if r.IntN(2) == 0 {
				rule.Sector = -1
			}
			in.Exclusions = append(in.Exclusions, rule)
		}
	}
	return in
}
