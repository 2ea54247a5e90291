package geo_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// selCell is a 0.01° cell whose south-west corner is (x, y).
func selCell(x, y float64) orb.Polygon {
	return orb.Polygon{{{x, y}, {x + 0.01, y}, {x + 0.01, y + 0.01}, {x, y + 0.01}, {x, y}}}
}

// selectFixture activates a row of four villages west to east (codes …2001–2004)
// and, when ranked, a score run ranking them 4, 3, 2, 1.
func selectFixture(t *testing.T, ranked bool) (*geo.Store, *geo.Store) {
	t.Helper()
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	var feats []geo.BoundaryFeature
	for i := range 4 {
		code := "99.01.01.200" + string(rune('1'+i))
		feats = append(feats, geo.BoundaryFeature{Code: code, Name: "Desa " + code[len(code)-1:], KecCode: "99.01.01", KecName: "Uji",
			Kind: "desa", Geom: orb.MultiPolygon{selCell(107+0.01*float64(i), -6.2)}})
	}
	id, err := owner.CreateBoundarySet(ctx, geo.LevelDesa, "t", "test", feats)
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.ActivateBoundarySet(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	if ranked {
		var run int64
		if err := owner.Pool.QueryRow(ctx, `INSERT INTO score_run (period, set_id, weights_id, k)
			VALUES ('2026', $1, (SELECT min(id) FROM weights_version), 0.33) RETURNING id`, id).Scan(&run); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Pool.Exec(ctx, `INSERT INTO village_score (run_id, code, kecamatan_code, households, in_need, hotspot, rank, rank_kecamatan, detail)
			SELECT $1, code, kecamatan_code, 10, 1, 'not_significant', 5 - right(code, 1)::int, 1, '{}' FROM village WHERE set_id = $2`, run, id); err != nil {
			t.Fatal(err)
		}
	}
	return owner, web
}

func selCodes(vs []geo.SelectedVillage) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Code)
	}
	return out
}

func TestSelectVillagesInRankOrder(t *testing.T) {
	_, web := selectFixture(t, true)
	ctx := context.Background()
	// A rectangle over the first three villages (inside their interiors).
	rect := orb.Polygon{{{107.005, -6.195}, {107.025, -6.195}, {107.025, -6.192}, {107.005, -6.192}, {107.005, -6.195}}}
	got, err := web.SelectVillages(ctx, rect, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"99.01.01.2003", "99.01.01.2002", "99.01.01.2001"}; !slices.Equal(selCodes(got), want) {
		t.Fatalf("selected %v, want %v in rank order", selCodes(got), want)
	}
	if got[0].Rank == nil || *got[0].Rank != 2 || got[0].Name != "Desa 3" || got[0].KecamatanName != "Uji" {
		t.Errorf("first village %+v", got[0])
	}
	// An area that only touches village 4's western border does not select it.
	edge := orb.Polygon{{{107.025, -6.2}, {107.03, -6.2}, {107.03, -6.19}, {107.025, -6.19}, {107.025, -6.2}}}
	if got, err := web.SelectVillages(ctx, edge, ""); err != nil || !slices.Equal(selCodes(got), []string{"99.01.01.2003"}) {
		t.Errorf("area ending on a border: %v %v", selCodes(got), err)
	}
	// A MultiPolygon over villages 1 and 4; a bow-tie (self-intersecting) is repaired, not refused.
	small := func(x float64) orb.Polygon {
		return orb.Polygon{{{x, -6.198}, {x + 0.005, -6.198}, {x + 0.005, -6.193}, {x, -6.193}, {x, -6.198}}}
	}
	mp := orb.MultiPolygon{small(107.002), small(107.032)}
	if got, err := web.SelectVillages(ctx, mp, ""); err != nil || !slices.Equal(selCodes(got), []string{"99.01.01.2004", "99.01.01.2001"}) {
		t.Errorf("two parts: %v %v", selCodes(got), err)
	}
	bow := orb.Polygon{{{107.001, -6.199}, {107.018, -6.191}, {107.018, -6.199}, {107.001, -6.191}, {107.001, -6.199}}}
	if got, err := web.SelectVillages(ctx, bow, ""); err != nil || len(got) != 2 {
		t.Errorf("bow-tie: %v %v", selCodes(got), err)
	}
	// Outside every village: an empty list, not null.
	if got, err := web.SelectVillages(ctx, selCell(110, 0), ""); err != nil || got == nil || len(got) != 0 {
		t.Errorf("outside: %v %v", got, err)
	}
	// A period without scores: the villages come unranked, by code.
	if got, err := web.SelectVillages(ctx, rect, "1999"); err != nil || !slices.Equal(selCodes(got), []string{"99.01.01.2001", "99.01.01.2002", "99.01.01.2003"}) || got[0].Rank != nil {
		t.Errorf("unscored period: %v %v", selCodes(got), err)
	}
}

func TestSelectVillagesUnscored(t *testing.T) {
	_, web := selectFixture(t, false)
	got, err := web.SelectVillages(context.Background(), selCell(107.015, -6.195), "")
	if err != nil || !slices.Equal(selCodes(got), []string{"99.01.01.2002", "99.01.01.2003"}) || got[0].Rank != nil {
		t.Fatalf("before scoring: %v %v", got, err)
	}
}

func TestSelectionAreaRefuses(t *testing.T) {
	many := make(orb.Ring, geo.MaxSelectVertices+1)
	for i := range many {
		a := 2 * math.Pi * float64(i) / float64(len(many)-1)
		many[i] = orb.Point{107 + 0.01*math.Cos(a), -6.2 + 0.01*math.Sin(a)}
	}
	many[len(many)-1] = many[0]
	parts := make(orb.MultiPolygon, geo.MaxSelectParts+1)
	for i := range parts {
		parts[i] = selCell(107, -6.2)
	}
	for _, tc := range []struct {
		name string
		g    orb.Geometry
		want string
	}{
		{"point", orb.Point{107, -6.2}, "want Polygon or MultiPolygon"},
		{"nil", nil, "no geometry"},
		{"open ring", orb.Polygon{{{107, -6.2}, {107.01, -6.2}, {107.01, -6.19}, {107, -6.19}}}, "ring 1 is not closed"},
		{"short ring", orb.Polygon{{{107, -6.2}, {107.01, -6.2}, {107, -6.2}}}, "needs 4"},
		{"latitude", orb.Polygon{{{107, -6.2}, {107.01, 96}, {107.01, -6.19}, {107, -6.2}}}, "out of range"},
		{"longitude", orb.Polygon{{{-181, -6.2}, {107.01, -6.2}, {107.01, -6.19}, {-181, -6.2}}}, "out of range"},
		{"no ring", orb.Polygon{}, "has no ring"},
		{"empty", orb.MultiPolygon{}, "no polygon"},
		{"vertices", orb.Polygon{many}, "too many vertices"},
		{"parts", parts, "too many parts"},
		{"second part open", orb.MultiPolygon{selCell(107, -6.2), {{{107, -6.2}, {107.01, -6.2}, {107.01, -6.19}, {107, -6.1}}}}, "polygon 2 ring 1 is not closed"},
	} {
		_, err := geo.SelectionArea(tc.g)
		if !errors.Is(err, geo.ErrBadArea) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBadArea mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := geo.SelectionArea(selCell(107, -6.2)); err != nil {
		t.Errorf("a closed square: %v", err)
	}
}
