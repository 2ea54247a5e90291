package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// TestMatchLocusPriorityList: POST /match with priority_list_id runs locus mode on
// the saved list's villages; misuse is a 400 and an unknown list a 404.
func TestMatchLocusPriorityList(t *testing.T) {
	f, _, _ := companiesFixture(t)
	l, err := f.owner.SavePriorityList(context.Background(), geo.PriorityInput{Name: "lokus", Year: 2026,
		Items: []geo.PriorityItem{{VillageCode: "99.01.01.2001"}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	pl := f.tokens[geo.RolePlanner]
	resp, body := f.do(t, "POST", "/api/v1/match", pl, fmt.Sprintf(`{"mode":"locus","year":2026,"priority_list_id":%d}`, l.ID))
	if resp.StatusCode != 201 {
		t.Fatalf("match with priority list: %d %s", resp.StatusCode, body)
	}
	var m struct {
		ID       int64
		Proposal struct {
			Teams []struct {
				VillageCode string `json:"village_code"`
				Complete    bool   `json:"complete"`
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || len(m.Proposal.Teams) != 1 || m.Proposal.Teams[0].VillageCode != "99.01.01.2001" || !m.Proposal.Teams[0].Complete {
		t.Fatalf("want one complete team in 99.01.01.2001: %s", body)
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{fmt.Sprintf(`{"mode":"sector","year":2026,"priority_list_id":%d}`, l.ID), 400},
		{fmt.Sprintf(`{"mode":"locus","year":2026,"priority_list_id":%d,"villages":["99.01.01.2001"]}`, l.ID), 400},
		{`{"mode":"locus","year":2026,"priority_list_id":-1}`, 400},
		{fmt.Sprintf(`{"mode":"locus","year":2026,"priority_list_id":%d}`, l.ID+1000), 404},
	} {
		if resp, body := f.do(t, "POST", "/api/v1/match", pl, tc.body); resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.body, resp.StatusCode, body, tc.status)
		}
	}
}
