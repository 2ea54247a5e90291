package geo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
	"github.com/bapeda-bekasi/sinergi/matching"
)

func scoreSquare(code string, x0, y0, dx, dy float64) geo.BoundaryFeature {
	ring := orb.Ring{{x0, y0}, {x0 + dx, y0}, {x0 + dx, y0 + dy}, {x0, y0 + dy}, {x0, y0}}
	return geo.BoundaryFeature{Code: code, Name: "Desa " + code[len(code)-4:], KecCode: code[:8], KecName: "Kec " + code[6:8],
		Kind: "desa", Geom: orb.MultiPolygon{{ring}}}
}

func activate(t *testing.T, s *geo.Store, feats []geo.BoundaryFeature) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := s.CreateBoundarySet(ctx, geo.LevelDesa, "test", "test", feats)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ActivateBoundarySet(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	return id
}

func importRecs(t *testing.T, s *geo.Store, register, period string, recs []geo.HouseholdRecord) {
	t.Helper()
	i := 0
	_, err := s.ImportHouseholds(context.Background(), geo.ImportSpec{Register: register, Period: period, File: register + ".csv"},
		func() (geo.HouseholdRecord, bool, error) {
			if i == len(recs) {
				return geo.HouseholdRecord{}, false, nil
			}
			i++
			return recs[i-1], true, nil
		})
	if err != nil {
		t.Fatal(err)
	}
}

// grid4 is four 0.01° villages in two kecamatan: 2001 2002 / 2003 2004 (row-major).
func grid4() []geo.BoundaryFeature {
	return []geo.BoundaryFeature{
		scoreSquare("99.01.01.2001", 107.00, -6.19, 0.01, 0.01),
		scoreSquare("99.01.01.2002", 107.01, -6.19, 0.01, 0.01),
		scoreSquare("99.01.02.2003", 107.00, -6.20, 0.01, 0.01),
		scoreSquare("99.01.02.2004", 107.01, -6.20, 0.01, 0.01),
	}
}

// TestScoresSQLAgreesWithGo generates random households over two registers that
// share link keys, aggregates them in SQL and in Go (merging linked records by
// hand), and requires identical indicators and scores.
func TestScoresSQLAgreesWithGo(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	feats := grid4()
	activate(t, owner, feats)
	key := geotest.HashKey()
	for _, seed := range []uint64{1, 2, 3} {
		r := rand.New(rand.NewPCG(seed, 99))
		period := fmt.Sprintf("20%02d", 20+seed)
		type fam struct {
			village       int
			dep           matching.Deprivations
			cu5, st, ua   int
			inA, inB      bool
			aFlags, bFlag matching.Deprivations
		}
		var recsA, recsB []geo.HouseholdRecord
		want := make([]matching.VillageIndicators, 4)
		for i, f := range feats {
			want[i] = matching.VillageIndicators{Code: f.Code, KecamatanCode: f.KecCode}
		}
		for i := range 300 + r.IntN(300) {
			v := r.IntN(4)
			x0, y0 := 107.0+0.01*float64(v%2), -6.19-0.01*float64(v/2)
			lon, lat := x0+0.001+0.008*r.Float64(), y0+0.001+0.008*r.Float64()
			kk := key.Sum(fmt.Sprintf("99%02d%012d", seed, i))
			// Register A (e-PPGBM-like) knows children; register B (P3KE-like) poverty
			// and unemployment. Some families are in both, linked by the KK hash.
			inA, inB := r.Float64() < 0.7, r.Float64() < 0.6
			if !inA && !inB {
				inA = true
			}
			cu5 := r.IntN(3)
			st := 0
			if cu5 > 0 && r.Float64() < 0.3 {
				st = 1 + r.IntN(cu5)
			}
			poor, ua := r.Float64() < 0.25, 0
			if r.Float64() < 0.3 {
				ua = 1 + r.IntN(2)
			}
			var d matching.Deprivations
			var wcu5, wst, wua int64
			if inA {
				recsA = append(recsA, geo.HouseholdRecord{ExternalID: fmt.Sprintf("a%d", i), KKHash: kk, Lon: lon, Lat: lat,
					Members: 5, ChildrenU5: cu5, Stunted: st})
				d[0] = st > 0
				wcu5, wst = int64(cu5), int64(st)
			}
			if inB {
				recsB = append(recsB, geo.HouseholdRecord{ExternalID: fmt.Sprintf("b%d", i), KKHash: kk, Lon: lon, Lat: lat,
					Members: 5, ExtremePoor: poor, UnemployedAdults: ua})
				d[1], d[2] = poor, ua > 0
				wua = int64(ua)
			}
			want[v].Patterns[d.Pattern()]++
			want[v].ChildrenU5 += wcu5
			want[v].StuntedChildren += wst
			want[v].UnemployedAdults += wua
		}
		importRecs(t, owner, "eppgbm", period, recsA)
		importRecs(t, owner, "p3ke", period, recsB)
		setID, _ := owner.ActiveSetID(ctx, geo.LevelDesa)
		got, err := owner.VillageIndicators(ctx, period, setID, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			g := got[i]
			g.AreaKm2 = 0
			if g.Code != want[i].Code || g.Patterns != want[i].Patterns || g.ChildrenU5 != want[i].ChildrenU5 ||
				g.StuntedChildren != want[i].StuntedChildren || g.UnemployedAdults != want[i].UnemployedAdults {
				t.Fatalf("seed %d village %s:\n SQL %+v\n Go  %+v", seed, want[i].Code, g, want[i])
			}
		}
		runs, err := owner.RecomputeScoresWith(ctx, geo.ScoreOptions{Period: period, By: "test"})
		if err != nil || len(runs) != 1 || !runs[0].Linked {
			t.Fatalf("recompute: %+v %v", runs, err)
		}
		rk, err := web.Ranking(ctx, period)
		if err != nil || rk.Run == nil || rk.Stale {
			t.Fatalf("ranking: %+v %v", rk.Run, err)
		}
		for i := range want {
			want[i].AreaKm2 = got[i].AreaKm2
		}
		goScores := matching.ScoreVillages(want, rk.Weights)
		for i, gs := range goScores {
			st := rk.Villages[i].Score
			if st == nil || st.Code != gs.Code || st.InNeed != gs.InNeed || math.Abs(float64(st.M0-gs.M0)) > 1e-9*float64(gs.M0) ||
				math.Abs(float64(st.M0EB-gs.M0EB)) > 1e-9*float64(gs.M0EB) || st.Rank != gs.Rank {
				t.Fatalf("seed %d: stored score %+v\nGo score %+v", seed, st, gs)
			}
		}
	}
	// Weight changes make the stored runs stale until recomputed.
	w, _ := owner.CurrentWeights(ctx)
	w.K = 0.5
	if _, err := web.SaveWeights(ctx, w, "planner", "uji"); err != nil {
		t.Fatal(err)
	}
	rk, _ := web.Ranking(ctx, "2021")
	if !rk.Stale {
		t.Fatal("ranking not stale after a weight change")
	}
}

// TestScoresFollowBoundaryActivation: moving a border moves households between
// villages; after the recompute exactly the villages whose households moved
// change score.
func TestScoresFollowBoundaryActivation(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	activate(t, owner, grid4())
	var recs []geo.HouseholdRecord
	r := rand.New(rand.NewPCG(5, 5))
	for i := range 400 {
		v := i % 4
		x0, y0 := 107.0+0.01*float64(v%2), -6.19-0.01*float64(v/2)
		recs = append(recs, geo.HouseholdRecord{ExternalID: fmt.Sprint(i), Lon: x0 + 0.0005 + 0.009*r.Float64(),
			Lat: y0 + 0.0005 + 0.009*r.Float64(), Members: 4, ChildrenU5: 1, Stunted: int(i % 3 / 2), ExtremePoor: i%5 == 0})
	}
	importRecs(t, owner, "survey", "2026", recs)
	if _, err := owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	before, _ := web.Ranking(ctx, "")
	// New set: the border between 2001 and 2002 moves east by 0.005°; 2003/2004 unchanged.
	f := grid4()
	f[0] = scoreSquare("99.01.01.2001", 107.00, -6.19, 0.015, 0.01)
	f[1] = scoreSquare("99.01.01.2002", 107.015, -6.19, 0.005, 0.01)
	activate(t, owner, f)
	stale, _ := web.Ranking(ctx, "")
	if stale.Run == nil || stale.Run.SetID == before.Run.SetID {
		// A new set has no run yet: the ranking is empty of scores until recompute.
		if stale.Run != nil {
			t.Fatalf("run of the old set served for the new one: %+v", stale.Run)
		}
	}
	if _, err := owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	after, _ := web.Ranking(ctx, "")
	if after.Run.SetID == before.Run.SetID {
		t.Fatal("no run for the new set")
	}
	for i, v := range after.Villages {
		b, a := before.Villages[i].Score, v.Score
		moved := v.Code == "99.01.01.2001" || v.Code == "99.01.01.2002"
		if moved && a.Households == b.Households {
			t.Errorf("%s: households %d unchanged after its border moved", v.Code, a.Households)
		}
		if !moved && (a.Households != b.Households || a.M0 != b.M0) {
			t.Errorf("%s: score changed (%v→%v) though its households did not move", v.Code, b.M0, a.M0)
		}
	}
	if after.Villages[0].Score.Households+after.Villages[1].Score.Households != 200 {
		t.Errorf("households lost in the move: %d + %d", after.Villages[0].Score.Households, after.Villages[1].Score.Households)
	}
}

// TestAdjacencyRealBekasi builds the adjacency of the real village layer. Its
// polygons were simplified one by one, so true neighbours may not touch; the
// snapping tolerance must connect every village without linking far ones.
func TestAdjacencyRealBekasi(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	path := filepath.Join(geotest.SharedData(t), "bekasi_desa.geojson")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	feats, err := geo.ReadBoundaryGeoJSON(f, path, geo.LevelDesa, geo.FieldMap{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	id := activate(t, owner, feats)
	counts := map[float64]int{}
	for _, tol := range []float64{0.001, 1, 5, 50} {
		n, err := owner.EnsureAdjacency(ctx, id, tol)
		if err != nil {
			t.Fatal(err)
		}
		counts[tol] = n
	}
	t.Logf("adjacent pairs by tolerance: %v", counts)
	if !(counts[0.001] <= counts[1] && counts[1] <= counts[5] && counts[5] <= counts[50]) {
		t.Fatalf("pairs must grow with the tolerance: %v", counts)
	}
	if _, err := owner.EnsureAdjacency(ctx, id, geo.DefaultAdjacencyTolerance); err != nil {
		t.Fatal(err)
	}
	adj, err := owner.Adjacency(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	isolated := 0
	deg := 0
	for _, ft := range feats {
		if len(adj[ft.Code]) == 0 {
			isolated++
			t.Logf("isolated: %s %s", ft.Code, ft.Name)
		}
		deg += len(adj[ft.Code])
	}
	mean := float64(deg) / float64(len(feats))
	if isolated > 0 || mean < 4 || mean > 8 {
		t.Fatalf("%d isolated villages, mean degree %.2f (planar village maps have about 5–6)", isolated, mean)
	}
	// Villages of different kecamatan far apart are never neighbours: Muaragembong
	// (32.16.17, north coast) and Bojongmangu (32.16.23, south).
	for _, n := range adj["32.16.17.2003"] {
		if n[:8] == "32.16.23" {
			t.Fatalf("Pantai Bakti adjacent to %s", n)
		}
	}
}

// TestScoresStoredBeforeVectorsStillRead: runs written before migration 010
// hold the explained score as JSON (detail) instead of the explain vector; they
// read back exactly as the vector form of the same run does, the constraint
// keeps a row from holding neither, and deleting a run deletes its rows.
func TestScoresStoredBeforeVectorsStillRead(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	activate(t, owner, grid4())
	var recs []geo.HouseholdRecord
	for i := range 120 {
		v := i % 4
		recs = append(recs, geo.HouseholdRecord{ExternalID: fmt.Sprint("h", i), Lon: 107.005 + 0.01*float64(v%2),
			Lat: -6.185 - 0.01*float64(v/2), Members: 4, ChildrenU5: i % 2, Stunted: i % 2 * (i % 3 % 2), ExtremePoor: i%5 == 0,
			UnemployedAdults: i / 4 % 2})
	}
	importRecs(t, owner, "survey", "2026", recs)
	if _, err := owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	rk, err := web.Ranking(ctx, "")
	if err != nil || rk.Run == nil {
		t.Fatalf("ranking: %+v %v", rk.Run, err)
	}
	for _, k := range []string{"aggregate", "index", "hotspots", "write", "total"} {
		if _, ok := rk.Run.Timings[k]; !ok {
			t.Errorf("stored run timings lack %q: %v", k, rk.Run.Timings)
		}
	}
	fromVector, err := web.RunScores(ctx, rk.Run.ID)
	if err != nil || len(fromVector) != 4 {
		t.Fatalf("run scores: %d %v", len(fromVector), err)
	}
	for code, sc := range fromVector {
		detail, _ := json.Marshal(sc)
		if _, err := owner.Pool.Exec(ctx, `UPDATE village_score SET detail = $3, x = NULL, village_indicators = NULL
			WHERE run_id = $1 AND code = $2`, rk.Run.ID, code, string(detail)); err != nil {
			t.Fatal(err)
		}
	}
	fromJSON, err := web.RunScores(ctx, rk.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	for code, sc := range fromVector {
		a, _ := json.Marshal(sc)
		b, _ := json.Marshal(fromJSON[code])
		if string(a) != string(b) {
			t.Errorf("%s:\n vector %s\n json   %s", code, a, b)
		}
	}
	if _, err := owner.Pool.Exec(ctx, `UPDATE village_score SET detail = NULL WHERE run_id = $1`, rk.Run.ID); err == nil {
		t.Error("a village score without detail or explain vector was accepted")
	}
	// Deleting a run deletes its village rows (the statement-level cascade of
	// migration 010, which replaced the foreign key).
	if _, err := owner.Pool.Exec(ctx, `DELETE FROM score_run WHERE id = $1`, rk.Run.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM village_score WHERE run_id = $1`, rk.Run.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("village scores left after their run was deleted: %d %v", left, err)
	}
}

// TestScoreRunsKeptPerPeriod: a period keeps its ten newest runs, and the rows
// of the pruned ones go with them.
func TestScoreRunsKeptPerPeriod(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	activate(t, owner, grid4())
	importRecs(t, owner, "survey", "2026", []geo.HouseholdRecord{{ExternalID: "a", Lon: 107.005, Lat: -6.185, Members: 3, ExtremePoor: true}})
	for range 12 {
		if _, err := owner.RecomputeScores(ctx, "test"); err != nil {
			t.Fatal(err)
		}
	}
	var runs, rows, orphans int
	if err := owner.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM score_run WHERE period = '2026'),
		(SELECT count(*) FROM village_score), (SELECT count(*) FROM village_score WHERE run_id NOT IN (SELECT id FROM score_run))`).
		Scan(&runs, &rows, &orphans); err != nil {
		t.Fatal(err)
	}
	if runs != 10 || rows != 40 || orphans != 0 {
		t.Fatalf("after 12 recomputes: %d runs (want 10), %d village rows (want 40), %d orphans", runs, rows, orphans)
	}
}
