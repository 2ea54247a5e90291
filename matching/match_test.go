package matching

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// tinyInput: three villages, two sectors, two companies.
//
//	v0 (A's ring 1), v1 (both reach), v2 (only B reaches, 9 km)
func tinyInput() MatchInput {
	return MatchInput{
		Mode:     ModeSector,
		Sectors:  []string{"kesehatan", "ekonomi"},
		UnitCost: []float64{1e6, 2e6},
		Villages: []MatchVillage{{Code: "V0"}, {Code: "V1"}, {Code: "V2"}},
		Cells: []MatchCell{
			{Village: 0, Sector: 0, Households: 50},
			{Village: 1, Sector: 0, Households: 100},
			{Village: 1, Sector: 1, Households: 20},
			{Village: 2, Sector: 0, Households: 80},
		},
		Companies: []MatchCompany{
			{ID: 1, Name: "A", Budget: 120e6, Sectors: []int{0}, ReachKm: 5,
				Reach: []MatchReach{{Village: 0, DistKm: 0}, {Village: 1, DistKm: 3}}},
			{ID: 2, Name: "B", Budget: 100e6, Sectors: []int{0, 1}, ReachKm: 10,
				Reach: []MatchReach{{Village: 1, DistKm: 1}, {Village: 2, DistKm: 9}}},
		},
	}
}

func mustCheck(t *testing.T, in MatchInput, p *Proposal) CheckReport {
	t.Helper()
	r := CheckProposal(in, p)
	if !r.OK() {
		t.Fatalf("checker: %s", strings.Join(r.Violations, "; "))
	}
	if math.Abs(r.Objective-p.Objective) > 1e-6*math.Max(1, r.Objective) {
		t.Fatalf("solver objective %.9g, checker %.9g", p.Objective, r.Objective)
	}
	return r
}

func amountOf(p *Proposal, company, village, sector int) float64 {
	var q float64
	for _, a := range p.Assignments {
		if a.Company == company && a.Village == village && a.Sector == sector {
			q += a.Households
		}
	}
	return q
}

func TestSectorTinyConstraints(t *testing.T) {
	in := tinyInput()
	p, err := SolveSector(in)
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, in, p)
	// A cannot reach V2 and has no ekonomi interest
	if q := amountOf(p, 0, 2, 0) + amountOf(p, 0, 1, 1); q != 0 {
		t.Fatalf("A funds cells outside its reach or interests: %v", q)
	}
	// Money is scarce (220 M for 250 M of kesehatan + 40 M ekonomi): every rupiah is spent.
	for _, c := range p.Companies {
		if c.Budget-c.Used > 1 {
			t.Errorf("%s leaves Rp %.0f unspent while reachable need remains", c.Name, c.Budget-c.Used)
		}
	}
	// Shared cell V1/kesehatan: need counted once.
	if q := amountOf(p, 0, 1, 0) + amountOf(p, 1, 1, 0); q > 100+1e-9 {
		t.Fatalf("V1/kesehatan funded %v > 100 households", q)
	}
	for _, a := range p.Assignments {
		if a.Reason == "" {
			t.Fatalf("assignment without a reason: %+v", a)
		}
	}
}

func TestSectorExclusionAndPin(t *testing.T) {
	in := tinyInput()
	in.Exclusions = []MatchRule{{Company: 0, Village: 0, Sector: -1}}
	in.Pins = []MatchRule{{Company: 1, Village: 1, Sector: 1}}
	p, err := SolveSector(in)
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, in, p)
	if q := amountOf(p, 0, 0, 0); q != 0 {
		t.Fatalf("excluded pair funded: %v", q)
	}
	if q := amountOf(p, 1, 1, 1); q < 1 {
		t.Fatalf("pin B→V1/ekonomi not kept: %v", q)
	}
	pinned := false
	for _, a := range p.Assignments {
		pinned = pinned || (a.Pinned && a.Company == 1 && a.Village == 1)
	}
	if !pinned {
		t.Fatal("pinned assignment not marked")
	}
	// An infeasible pin (A has no ekonomi interest) is dropped with a note.
	in.Pins = []MatchRule{{Company: 0, Village: 1, Sector: 1}}
	p, _ = SolveSector(in)
	mustCheck(t, in, p)
	if len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "pin") {
		t.Fatalf("no note for a dropped pin: %v", p.Notes)
	}
}

func TestSectorMaxPerCell(t *testing.T) {
	in := tinyInput()
	in.MaxPerCell = 1
	p, _ := SolveSector(in)
	mustCheck(t, in, p)
	if amountOf(p, 0, 1, 0) > 0 && amountOf(p, 1, 1, 0) > 0 {
		t.Fatal("two companies in one cell with m = 1")
	}
}

func TestCheckerCatchesViolations(t *testing.T) {
	in := tinyInput()
	cases := map[string][]CheckAmount{
		"budget":    {{Company: 0, Village: 0, Sector: 0, Households: 50}, {Company: 0, Village: 1, Sector: 0, Households: 100}},
		"reach":     {{Company: 0, Village: 2, Sector: 0, Households: 1}},
		"interest":  {{Company: 0, Village: 1, Sector: 1, Households: 1}},
		"cover":     {{Company: 0, Village: 1, Sector: 0, Households: 60}, {Company: 1, Village: 1, Sector: 0, Households: 60}},
		"no cell":   {{Company: 1, Village: 2, Sector: 1, Households: 1}},
		"negative":  {{Company: 1, Village: 2, Sector: 0, Households: -5}},
		"exclusion": {{Company: 1, Village: 2, Sector: 0, Households: 1}},
	}
	for name, xs := range cases {
		in := in
		if name == "exclusion" {
			in.Exclusions = []MatchRule{{Company: 1, Village: 2, Sector: 0}}
		}
		if r := CheckAmounts(in, xs); r.OK() {
			t.Errorf("%s: checker accepted %+v", name, xs)
		}
	}
	m1 := in
	m1.MaxPerCell = 1
	if r := CheckAmounts(m1, []CheckAmount{{Company: 0, Village: 1, Sector: 0, Households: 10}, {Company: 1, Village: 1, Sector: 0, Households: 10}}); r.OK() {
		t.Error("checker accepted two companies with m = 1")
	}
	pin := in
	pin.Pins = []MatchRule{{Company: 1, Village: 2, Sector: 0}}
	if r := CheckAmounts(pin, nil); r.OK() {
		t.Error("checker accepted a dropped feasible pin")
	}
}

func TestLocusTeamsCompleteOrExplained(t *testing.T) {
	in := tinyInput()
	in.Mode = ModeLocus
	in.Priority = []int{1, 2, 0}
	p, err := SolveLocus(in)
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, in, p)
	// V1 needs kesehatan (100 M) + ekonomi (40 M, only B): feasible together.
	if amountOf(p, 1, 1, 1) < 20-1e-9 {
		t.Fatalf("V1's ekonomi cell not fully funded: %+v", p.Assignments)
	}
	for _, tm := range p.Teams {
		if !tm.Complete {
			t.Fatalf("incomplete team %+v", tm)
		}
	}
	// Locus with a sector nobody takes: a reason names it.
	in.Cells = append(in.Cells, MatchCell{Village: 0, Sector: 1, Households: 5})
	in.Priority = []int{0}
	p, _ = SolveLocus(in)
	mustCheck(t, in, p)
	if len(p.Assignments) != 0 || len(p.Notes) == 0 || !strings.Contains(p.Notes[len(p.Notes)-1], "ekonomi") {
		t.Fatalf("V0 has an ekonomi need nobody within reach takes; want no team and a reason, got %+v %v", p.Assignments, p.Notes)
	}
	// Budget too small: the reason says so.
	in = tinyInput()
	in.Mode = ModeLocus
	in.Priority = []int{2}
	in.Companies[1].Budget = 10e6
	p, _ = SolveLocus(in)
	mustCheck(t, in, p)
	if len(p.Assignments) != 0 || len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "tidak cukup") {
		t.Fatalf("want a budget reason, got %v", p.Notes)
	}
}

func TestRandomInstancesPassChecker(t *testing.T) {
	for seed := uint64(100); seed < 140; seed++ {
		for _, mode := range []string{ModeSector, ModeLocus} {
			o := genOptions{Villages: 40 + int(seed%20), Companies: 5 + int(seed%15), SideKm: 30, Pins: 3, Exclusions: 4,
				SectorCaps: true, Mode: mode}
			in := genInstance(seed, o)
			in.MaxPerCell = 1 + int(seed%3)
			p, err := Solve(in)
			if err != nil {
				t.Fatal(err)
			}
			r := CheckProposal(in, p)
			if !r.OK() {
				t.Fatalf("seed %d %s: %s", seed, mode, strings.Join(r.Violations, "; "))
			}
			if math.Abs(r.Objective-p.Objective) > 1e-6*math.Max(1, r.Objective) {
				t.Fatalf("seed %d %s: objective %v vs checker %v", seed, mode, p.Objective, r.Objective)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, mode := range []string{ModeSector, ModeLocus} {
		in := genInstance(7, genOptions{Villages: 60, Companies: 15, SideKm: 30, Pins: 2, Exclusions: 2, SectorCaps: true, Mode: mode})
		a, _ := Solve(in)
		b, _ := Solve(in)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("%s mode: two runs differ", mode)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	in := tinyInput()
	in.Cells = append(in.Cells, MatchCell{Village: 0, Sector: 0, Households: 1})
	if _, err := Solve(in); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("duplicate cell: %v", err)
	}
	in = tinyInput()
	in.UnitCost[0] = 0
	if _, err := Solve(in); err == nil {
		t.Fatal("zero unit cost accepted")
	}
	in = tinyInput()
	in.Mode = "x"
	if _, err := Solve(in); err == nil {
		t.Fatal("unknown mode accepted")
	}
}
