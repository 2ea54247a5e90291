package geo_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/matching"
)

// TestMatchInputFromPriorityList: locus mode with priority_list_id takes the
// candidates from the list's newest version, in its order.
func TestMatchInputFromPriorityList(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	save := func(codes ...string) geo.PriorityList {
		in := geo.PriorityInput{Name: "lokus uji", Year: 2026}
		for _, c := range codes {
			in.Items = append(in.Items, geo.PriorityItem{VillageCode: c})
		}
		l, err := f.web.SavePriorityList(ctx, in, "planner")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	v1 := save(mfCode(8), mfCode(0))
	v2 := save(mfCode(1), mfCode(8), mfCode(4)) // newest version: this order
	if v1.ID != v2.ID || v2.Version != 2 {
		t.Fatalf("versions: %+v then %+v", v1, v2)
	}
	req := geo.MatchRequest{Mode: matching.ModeLocus, Year: 2026, PriorityListID: v2.ID}
	in, basis, err := f.web.PrepareMatch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range in.Priority {
		got = append(got, in.Villages[v].Code)
	}
	if want := []string{mfCode(1), mfCode(8), mfCode(4)}; !slices.Equal(got, want) {
		t.Fatalf("priority villages %v, want %v (newest version, list order)", got, want)
	}
	p, err := matching.Solve(in)
	if err != nil {
		t.Fatal(err)
	}
	if r := matching.CheckProposal(in, p); !r.OK() {
		t.Fatal(r.Violations)
	}
	for _, a := range p.Assignments {
		if !slices.Contains(got, a.VillageCode) {
			t.Fatalf("assignment outside the priority list: %+v", a)
		}
	}
	if _, err := f.web.SaveProposal(ctx, req, basis, p, "planner"); err != nil {
		t.Fatal(err)
	}

	for name, bad := range map[string]geo.MatchRequest{
		"sector mode":   {Mode: matching.ModeSector, Year: 2026, PriorityListID: v2.ID},
		"with villages": {Mode: matching.ModeLocus, Year: 2026, PriorityListID: v2.ID, Villages: []string{mfCode(0)}},
	} {
		if _, err := f.web.BuildMatchInput(ctx, bad); !errors.Is(err, geo.ErrMatchRequest) {
			t.Errorf("%s: err %v, want ErrMatchRequest", name, err)
		}
	}
	if _, err := f.web.BuildMatchInput(ctx, geo.MatchRequest{Mode: matching.ModeLocus, Year: 2026, PriorityListID: v2.ID + 1000}); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("missing list: err %v, want ErrNotFound", err)
	}
}
