package matching

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzMatchInput decodes a matcher input as the API and CLI do (JSON), then:
// Validate never panics; a valid small input solves without panicking, and any
// proposal the solver returns passes the independent checker.
func FuzzMatchInput(f *testing.F) {
	tiny := tinyInput()
	b, _ := json.Marshal(tiny)
	f.Add(b)
	tiny.Mode = ModeLocus
	b, _ = json.Marshal(tiny)
	f.Add(b)
	for _, s := range []string{
		`{"mode":"sector","sectors":["a"],"unit_cost":[1],"villages":[{"code":"V"}],"cells":[{"village":0,"sector":0,"households":1}],"companies":[{"id":1,"budget":10,"sectors":[0],"reach":[{"village":0}]}]}`,
		`{"mode":"sector","sectors":["a"],"unit_cost":[0],"villages":[{"code":"V"}]}`,
		`{"mode":"sector","sectors":["a"],"unit_cost":[1],"villages":[{"code":"V"}],"cells":[{"village":5,"sector":0,"households":1}]}`,
		`{"mode":"locus","sectors":["a"],"unit_cost":[1],"villages":[{"code":"V"}],"cells":[{"village":0,"sector":0,"households":1e308}],"companies":[{"id":1,"budget":1e308,"sectors":[0,0,-1],"reach":[{"village":0,"dist_km":-3}]}],"pins":[{"company":0,"village":0,"sector":-1}],"priority":[0,0,7]}`,
		`{"mode":"sector","sectors":["a"],"unit_cost":[1],"villages":[{"code":"V"}],"companies":[{"id":1,"budget":10,"sector_budget":{"9":-1},"sectors":[0]}],"exclusions":[{"company":3,"village":0,"sector":0}]}`,
		`{"mode":"sector","distance_weight":0.99,"team_charge":-1,"max_per_cell":-5}`,
		`{"mode":"x"}`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in MatchInput
		if err := json.Unmarshal(raw, &in); err != nil {
			return
		}
		if err := in.Validate(); err != nil {
			if err.Error() == "" {
				t.Fatal("empty validation error")
			}
			return
		}
		// Keep the solver's work small: the fuzzer is after panics and wrong answers.
		if len(in.Villages) > 12 || len(in.Companies) > 6 || len(in.Sectors) > 4 || len(in.Cells) > 40 || len(in.Priority) > 40 {
			return
		}
		for _, c := range in.Companies {
			if len(c.Reach) > 40 || len(c.Sectors) > 8 {
				return
			}
		}
		p, err := Solve(in)
		if err != nil || p == nil {
			return
		}
		if r := CheckProposal(in, p); !r.OK() {
			t.Fatalf("valid input, solver proposal fails the checker: %s\ninput: %s", strings.Join(r.Violations, "; "), raw)
		}
	})
}
