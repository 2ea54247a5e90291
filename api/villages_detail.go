package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/matching"
)

// villageDetail serves GET /api/v1/villages/{code}: all indicators and
// contributions, ranks overall and in the kecamatan, a score card against the
// kecamatan and regency, the trend over periods, the hot-spot label and the
// neighbours. Disclosure control as in the ranking.
func (s *Server) villageDetail(c *fiber.Ctx) error {
	code := c.Params("code")
	exact, err := wantExact(c, false)
	if err != nil {
		return err
	}
	v, err := s.loadRanking(c, c.Query("period"), exact)
	if err != nil {
		return err
	}
	var me *villageRow
	var kec, all []matching.NeedScore
	for i := range v.rows {
		r := &v.rows[i]
		if r.Code == code {
			me = r
		}
	}
	if me == nil {
		return problem(fiber.StatusNotFound, "kode desa tidak dikenal: "+code+" (unknown village code in the active boundary set)")
	}
	for _, r := range v.rows {
		if r.Score == nil {
			continue
		}
		all = append(all, *r.Score)
		if r.KecamatanCode == me.KecamatanCode {
			kec = append(kec, *r.Score)
		}
	}
	out := v.meta()
	out["village"] = me
	out["kecamatan"] = matching.Summarise(kec)
	out["regency"] = matching.Summarise(all)
	ctx := c.UserContext()
	trend := []fiber.Map{}
	neighbours := []fiber.Map{}
	if run := v.rk.Run; run != nil {
		// The trend shows each period's newest run; controlled views control each
		// period's whole table, so every number stays derived from shown counts.
		for _, p := range v.rk.Periods {
			var sc *matching.NeedScore
			if p == run.Period {
				sc = me.Score
			} else {
				pv, err := s.loadRanking(c, p, exact)
				if err != nil {
					return err
				}
				for _, r := range pv.rows {
					if r.Code == code {
						sc = r.Score
					}
				}
			}
			if sc != nil {
				trend = append(trend, fiber.Map{"period": p, "m0": sc.M0, "m0_eb": sc.M0EB, "h": sc.H, "in_need": sc.InNeed,
					"households": sc.Households, "rank": sc.Rank, "sectors": sc.Sectors})
			}
		}
		ns, err := s.web.VillageNeighbours(ctx, code, run.SetID)
		if err != nil {
			return err
		}
		byCode := map[string]*matching.NeedScore{}
		for _, r := range v.rows {
			byCode[r.Code] = r.Score
		}
		for _, n := range ns {
			m := fiber.Map{"code": n.Code, "name": n.Name, "kecamatan_name": n.KecamatanName}
			if sc := byCode[n.Code]; sc != nil {
				m["m0_eb"], m["rank"], m["hotspot"] = sc.M0EB, sc.Rank, sc.HotSpot.Label
			}
			neighbours = append(neighbours, m)
		}
	}
	out["trend"] = trend
	out["neighbours"] = neighbours
	return c.JSON(out)
}
