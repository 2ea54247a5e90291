package synth

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

var slugRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestCompanies(t *testing.T) {
	for _, seed := range testSeeds {
		r := regencyFor(seed)
		cs := Companies(r, seed)
		if len(cs) != 13 {
			t.Fatalf("seed %d: %d companies, want 13", seed, len(cs))
		}
		keys := map[string]bool{}
		perEstate := map[string]int{}
		for _, c := range cs {
			if !slugRe.MatchString(c.Key) || c.Key != slug(c.Name) || keys[c.Key] {
				t.Errorf("company %q: key %q invalid or repeated", c.Name, c.Key)
			}
			keys[c.Key] = true
			if !strings.HasPrefix(c.Name, "PT ") {
				t.Errorf("company name %q", c.Name)
			}
			if len(c.Sectors) < 1 || len(c.Sectors) > 3 {
				t.Errorf("%s: sectors %v", c.Key, c.Sectors)
			}
			last := -1
			for _, s := range c.Sectors {
				i := slices.Index(Sectors, s)
				if i <= last {
					t.Errorf("%s: sectors %v unknown, repeated or out of order", c.Key, c.Sectors)
				}
				last = i
			}
			if c.BudgetPerYear < 500_000_000 || c.BudgetPerYear > 15_000_000_000 || c.BudgetPerYear%50_000_000 != 0 {
				t.Errorf("%s: budget %d", c.Key, c.BudgetPerYear)
			}
			if c.ReachKm < 3 || c.ReachKm > 15 {
				t.Errorf("%s: reach %v", c.Key, c.ReachKm)
			}
			if len(c.Sites) < 1 || len(c.Sites) != len(c.Area) {
				t.Fatalf("%s: %d sites, %d area polygons", c.Key, len(c.Sites), len(c.Area))
			}
			if err := checkMultiPolygon(c.Area); err != nil {
				t.Errorf("%s: area: %v", c.Key, err)
			}
			inEstate := ""
			for _, e := range r.Estates {
				if planar.PolygonContains(e.Area, c.Sites[0]) {
					inEstate = e.Name
				}
			}
			if inEstate == "" {
				t.Errorf("%s: first site %v not in an estate", c.Key, c.Sites[0])
			}
			perEstate[inEstate]++
			for _, s := range c.Sites {
				if !planar.PolygonContains(r.Outline, s) || !planar.MultiPolygonContains(c.Area, s) {
					t.Errorf("%s: site %v outside the regency or its area", c.Key, s)
				}
			}
		}
		for _, e := range r.Estates {
			if perEstate[e.Name] < 2 {
				t.Errorf("seed %d: estate %s has %d companies", seed, e.Name, perEstate[e.Name])
			}
		}
	}
}

func TestPlans(t *testing.T) {
	for _, seed := range testSeeds {
		r := regencyFor(seed)
		cs := Companies(r, seed)
		plans := Plans(r, cs, seed)
		if n := len(plans); n < 15 || n > 30 {
			t.Errorf("seed %d: %d plans, want 15–30", seed, n)
		}
		company := map[string]Company{}
		for _, c := range cs {
			company[c.Key] = c
		}
		village := map[string]Village{}
		for _, v := range r.Villages {
			village[v.Code] = v
		}
		f := newFrame(orb.Point{centreLon, centreLat})
		spent := map[string]int64{}
		seen := map[string]bool{}
		for _, p := range plans {
			c, ok := company[p.CompanyKey]
			if !ok {
				t.Fatalf("plan for unknown company %s", p.CompanyKey)
			}
			v, ok := village[p.VillageCode]
			if !ok {
				t.Fatalf("plan in unknown village %s", p.VillageCode)
			}
			if !slices.Contains(c.Sectors, p.Sector) {
				t.Errorf("plan sector %s not among %v", p.Sector, c.Sectors)
			}
			validStatus := map[int][]string{
				2025: {StatusDone, StatusRunning},
				2026: {StatusSubmitted, StatusApproved, StatusRunning},
			}[p.Year]
			if !slices.Contains(validStatus, p.Status) {
				t.Errorf("plan year %d status %q", p.Year, p.Status)
			}
			if p.Budget <= 0 || p.Budget%10_000_000 != 0 || p.TargetHouseholds < 20 || p.TargetHouseholds > 2000 {
				t.Errorf("plan budget %d target %d", p.Budget, p.TargetHouseholds)
			}
			key := p.CompanyKey + "|" + p.VillageCode
			if seen[key] {
				t.Errorf("company %s has two plans in %s", p.CompanyKey, p.VillageCode)
			}
			seen[key] = true
			spent[p.CompanyKey+"|"+strconv.Itoa(p.Year)] += p.Budget
			if spent[p.CompanyKey+"|"+strconv.Itoa(p.Year)] > c.BudgetPerYear {
				t.Errorf("company %s over budget in %d", p.CompanyKey, p.Year)
			}
			// Plans are near the company: within reach, or among its nearest villages.
			cen, _ := planar.CentroidArea(v.Geom)
			d := 1e9
			for _, s := range c.Sites {
				d = min(d, f.distKm(cen, s))
			}
			if d > max(c.ReachKm, 6) {
				t.Errorf("plan of %s in %s is %.1f km away (reach %.1f)", p.CompanyKey, p.VillageCode, d, c.ReachKm)
			}
		}
	}
}

func TestCompaniesAndPlansDeterministic(t *testing.T) {
	dump := func(seed uint64) string {
		r := regencyFor(1)
		cs := Companies(r, seed)
		b1, _ := json.Marshal(cs)
		b2, _ := json.Marshal(Plans(r, cs, seed))
		return string(b1) + string(b2)
	}
	if dump(5) != dump(5) {
		t.Error("same seed, different companies/plans")
	}
	if dump(5) == dump(6) {
		t.Error("different seeds, same companies/plans")
	}
}
