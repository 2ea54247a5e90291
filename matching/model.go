package matching

import (
	"fmt"
	"math"
)

// Matcher modes.
const (
	ModeSector = "sector"
	ModeLocus  = "locus"
)

// Defaults of MatchInput's tunables (see MODEL.md).
const (
	DefaultMaxPerCell     = 2
	DefaultDistanceWeight = 0.1
	DefaultTeamCharge     = 0.5
	DefaultLocusTop       = 10
)

// MatchInput is one matcher run over plain values: villages, cells with need,
// companies with budgets and reach lists, and the planner's pins and exclusions.
// Indices (Village, Sector, Company) refer to positions in the slices here.
type MatchInput struct {
	Mode     string         `json:"mode"` // ModeSector or ModeLocus
	Sectors  []string       `json:"sectors"`
	UnitCost []float64      `json:"unit_cost"` // rupiah per in-need household, per sector
	Villages []MatchVillage `json:"villages"`
	Cells    []MatchCell    `json:"cells"`
	// Companies with their reach lists (ring 1 ∪ ring 2, with distances).
	Companies []MatchCompany `json:"companies"`
	// MaxPerCell is m, the most companies in one cell; 0 means DefaultMaxPerCell.
	MaxPerCell int `json:"max_per_cell"`
	// DistanceWeight is α; negative means 0, 0 means DefaultDistanceWeight unless NoDistance.
	DistanceWeight float64 `json:"distance_weight"`
	NoDistance     bool    `json:"no_distance,omitempty"`
	// TeamCharge is β (locus mode); 0 means DefaultTeamCharge unless NoTeamCharge.
	TeamCharge   float64 `json:"team_charge"`
	NoTeamCharge bool    `json:"no_team_charge,omitempty"`
	// Priority lists candidate villages for locus mode, in the planner's order.
	// Empty means the top LocusTop villages by need.
	Priority   []int       `json:"priority,omitempty"`
	LocusTop   int         `json:"locus_top,omitempty"`
	Pins       []MatchRule `json:"pins,omitempty"`
	Exclusions []MatchRule `json:"exclusions,omitempty"`
}

// MatchVillage is a village as the matcher sees it.
type MatchVillage struct {
	Code string `json:"code"`
	Name string `json:"name,omitempty"`
}

// MatchCell is the need of one (village, sector) cell.
type MatchCell struct {
	Village    int     `json:"village"`
	Sector     int     `json:"sector"`
	Households float64 `json:"households"` // h_c, in-need households
	Weight     float64 `json:"weight"`     // w_c, need weight per household (0 means 1)
}

// MatchCompany is a company's budget, interests and reach.
type MatchCompany struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	Budget       float64         `json:"budget"`                  // B_i, rupiah per year
	SectorBudget map[int]float64 `json:"sector_budget,omitempty"` // optional caps B_is by sector index
	Sectors      []int           `json:"sectors"`                 // S_i, sector indices
	ReachKm      float64         `json:"reach_km"`                // R_i
	Reach        []MatchReach    `json:"reach"`                   // villages within reach, with distances
}

// MatchReach is one village within a company's reach.
type MatchReach struct {
	Village int     `json:"village"`
	DistKm  float64 `json:"dist_km"` // 0 when the village touches the operating area (ring 1)
}

// MatchRule is a pin or an exclusion: company, village and optionally a sector
// (Sector < 0 means every sector of the village).
type MatchRule struct {
	Company int `json:"company"`
	Village int `json:"village"`
	Sector  int `json:"sector"`
}

// params returns m, α and β after defaults.
func (in *MatchInput) params() (m int, alpha, beta float64) {
	m = in.MaxPerCell
	if m <= 0 {
		m = DefaultMaxPerCell
	}
	alpha = in.DistanceWeight
	if alpha == 0 && !in.NoDistance {
		alpha = DefaultDistanceWeight
	}
	if alpha < 0 || in.NoDistance {
		alpha = 0
	}
	beta = in.TeamCharge
	if beta == 0 && !in.NoTeamCharge {
		beta = DefaultTeamCharge
	}
	if beta < 0 || in.NoTeamCharge || in.Mode != ModeLocus {
		beta = 0
	}
	return m, alpha, beta
}

// Validate reports the first structural problem of the input: an index out of
// range, a negative number, a duplicate cell.
func (in *MatchInput) Validate() error {
	if in.Mode != ModeSector && in.Mode != ModeLocus {
		return fmt.Errorf("mode %q: use %q or %q", in.Mode, ModeSector, ModeLocus)
	}
	ns, nv := len(in.Sectors), len(in.Villages)
	if len(in.UnitCost) != ns {
		return fmt.Errorf("unit costs: %d given for %d sectors", len(in.UnitCost), ns)
	}
	for s, u := range in.UnitCost {
		if !(u > 0) || math.IsInf(u, 0) {
			return fmt.Errorf("unit cost of sector %s must be positive, got %v", in.Sectors[s], u)
		}
	}
	if a := in.DistanceWeight; a >= 1 || math.IsNaN(a) {
		return fmt.Errorf("distance weight must be below 1, got %v", a)
	}
	seen := make(map[int]int, len(in.Cells))
	for k, c := range in.Cells {
		if c.Village < 0 || c.Village >= nv || c.Sector < 0 || c.Sector >= ns {
			return fmt.Errorf("cell %d: village %d or sector %d out of range", k, c.Village, c.Sector)
		}
		if !(c.Households >= 0) || !(c.Weight >= 0) || math.IsInf(c.Households, 0) || math.IsInf(c.Weight, 0) {
			return fmt.Errorf("cell %d (%s, %s): households and weight must be non-negative numbers", k, in.Villages[c.Village].Code, in.Sectors[c.Sector])
		}
		key := c.Village*ns + c.Sector
		if j, dup := seen[key]; dup {
			return fmt.Errorf("cells %d and %d are both (%s, %s)", j, k, in.Villages[c.Village].Code, in.Sectors[c.Sector])
		}
		seen[key] = k
	}
	for i, co := range in.Companies {
		if !(co.Budget >= 0) || math.IsInf(co.Budget, 0) || !(co.ReachKm >= 0) {
			return fmt.Errorf("company %d (%s): budget and reach must be non-negative", i, co.Name)
		}
		for s, b := range co.SectorBudget {
			if s < 0 || s >= ns || !(b >= 0) {
				return fmt.Errorf("company %d (%s): sector budget %d=%v invalid", i, co.Name, s, b)
			}
		}
		for _, s := range co.Sectors {
			if s < 0 || s >= ns {
				return fmt.Errorf("company %d (%s): sector %d out of range", i, co.Name, s)
			}
		}
		for _, r := range co.Reach {
			if r.Village < 0 || r.Village >= nv || !(r.DistKm >= 0) {
				return fmt.Errorf("company %d (%s): reach entry village %d dist %v invalid", i, co.Name, r.Village, r.DistKm)
			}
		}
	}
	for _, list := range [][]MatchRule{in.Pins, in.Exclusions} {
		for _, p := range list {
			if p.Company < 0 || p.Company >= len(in.Companies) || p.Village < 0 || p.Village >= nv || p.Sector >= ns {
				return fmt.Errorf("pin/exclusion %+v out of range", p)
			}
		}
	}
	for _, v := range in.Priority {
		if v < 0 || v >= nv {
			return fmt.Errorf("priority village %d out of range", v)
		}
	}
	return nil
}

// cellWeight is w_c with the 0-means-1 default.
func cellWeight(c MatchCell) float64 {
	if c.Weight == 0 {
		return 1
	}
	return c.Weight
}
