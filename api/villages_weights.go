package api

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/matching"
)

// getWeights serves GET /api/v1/weights: the current version and the history.
func (s *Server) getWeights(c *fiber.Ctx) error {
	vs, err := s.web.WeightsVersions(c.UserContext(), c.QueryInt("limit", 20))
	if err != nil {
		return err
	}
	var cur any
	if len(vs) > 0 {
		cur = vs[0]
	}
	return c.JSON(fiber.Map{"current": cur, "versions": vs, "defaults": matching.DefaultWeights()})
}

type weightsRequest struct {
	K                 float64                                  `json:"k"`
	Indicators        map[string]float64                       `json:"indicators"`
	Sectors           map[string]map[string]float64            `json:"sectors"`
	VillageIndicators map[string]matching.VillageIndicatorSpec `json:"village_indicators"`
	Note              string                                   `json:"note"`
}

// putWeights serves PUT /api/v1/weights: validates and stores a new version (the
// old ones stay), then recomputes the scores with the owner pool (aggregation is
// an owner task) so the next ranking names the new version.
func (s *Server) putWeights(c *fiber.Ctx) error {
	var req weightsRequest
	if err := c.BodyParser(&req); err != nil {
		return problem(fiber.StatusBadRequest, "body harus JSON {indicators, k, sectors?, village_indicators?, note?} (body must be JSON)")
	}
	if req.Indicators == nil && req.K == 0 && req.Sectors == nil && req.VillageIndicators == nil {
		// null, {} or only unknown fields: saving would add a version that changes nothing.
		return problem(fiber.StatusBadRequest, "body tidak berisi bobot: isi indicators, k, sectors atau village_indicators (no weights in the body)")
	}
	for sec := range req.Sectors {
		if !geo.ValidSector(sec) {
			return problem(fiber.StatusBadRequest, "sektor "+strconv.Quote(sec)+" tidak dikenal (unknown sector; use "+strings.Join(geo.Sectors, ", ")+")")
		}
	}
	cur, err := s.web.CurrentWeights(c.UserContext())
	if err != nil {
		return err
	}
	w := cur
	if req.Indicators != nil {
		w.Indicators = req.Indicators
	}
	if req.K != 0 {
		w.K = req.K
	}
	if req.Sectors != nil {
		w.Sectors = req.Sectors
	}
	for k, v := range req.VillageIndicators {
		if w.VillageIndicators == nil {
			w.VillageIndicators = map[string]matching.VillageIndicatorSpec{}
		}
		w.VillageIndicators[k] = v
	}
	if err := w.Normalize(); err != nil {
		return problem(fiber.StatusBadRequest, err.Error())
	}
	u, _ := currentUser(c)
	saved, err := s.web.SaveWeights(c.UserContext(), w, u.Name, req.Note)
	if err != nil {
		return err
	}
	out := fiber.Map{"weights": saved}
	if s.owner != nil {
		runs, err := s.owner.RecomputeScoresWith(c.UserContext(), geo.ScoreOptions{By: u.Name, Reason: "weights.update"})
		switch {
		case errors.Is(err, geo.ErrNoActiveVillages):
			out["recompute"] = "skipped: " + err.Error()
		case err != nil:
			s.log.Error("recompute after weight change", "err", err)
			out["recompute"] = "failed; run `sinergi score`"
		default:
			out["recompute"] = runs
		}
	}
	return c.JSON(out)
}
