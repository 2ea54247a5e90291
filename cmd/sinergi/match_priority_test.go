package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func TestMatchPriorityListCLI(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	for _, args := range [][]string{
		{"match", "--mode", "sector", "--priority-list", "1"},
		{"match", "--mode", "locus", "--priority-list", "1", "--villages", "99.01.01.2001"},
		{"match", "--mode", "locus", "--priority-list", "-1"},
	} {
		if code, _, errs := runCLI(t, "", args...); code != 2 || !strings.Contains(errs, "--priority-list") {
			t.Errorf("%v: %d %s, want a usage error", args, code, errs)
		}
	}

	st, id := matchFixture(t, 3)
	ctx := context.Background()
	// every village has stunting need; the list names only the last one
	for k := 0; k < 12; k++ {
		if _, err := st.Pool.Exec(ctx, `INSERT INTO household (register, period, external_id, children_u5, stunted, village_code, assigned_set)
			VALUES ('demo', '2026', $1, 1, 1, $2, $3)`, fmt.Sprint(k), fmt.Sprintf("99.01.01.%04d", 2001+k%3), id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RecomputeScores(ctx, "test"); err != nil { // the matcher's need comes from the scores
		t.Fatal(err)
	}
	if _, _, err := st.UpsertCompany(ctx, geo.Company{Key: "pt-a", Name: "PT A", Sectors: []string{"kesehatan"},
		BudgetPerYear: 900_000_000, Sites: []orb.Point{{107.015, -6.195}}, ReachKm: 5}, "test"); err != nil {
		t.Fatal(err)
	}
	l, err := st.SavePriorityList(ctx, geo.PriorityInput{Name: "lokus", Year: 2026,
		Items: []geo.PriorityItem{{VillageCode: "99.01.01.2003"}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "match", "--mode", "locus", "--year", "2026", "--priority-list", fmt.Sprint(l.ID), "--json")
	if code != 0 {
		t.Fatalf("match --priority-list: %d %s", code, errs)
	}
	var res struct {
		Proposal struct {
			Teams []struct {
				VillageCode string `json:"village_code"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Proposal.Teams) != 1 || res.Proposal.Teams[0].VillageCode != "99.01.01.2003" {
		t.Fatalf("want the one team in the listed village 99.01.01.2003: %s", out)
	}
	if code, _, errs := runCLI(t, "", "match", "--mode", "locus", "--year", "2026", "--priority-list", fmt.Sprint(l.ID+99)); code != 1 || !strings.Contains(errs, "not found") {
		t.Fatalf("unknown list: %d %s", code, errs)
	}
}
