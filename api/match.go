package api

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/matching"
)

// matchRequest is the body of POST /match.
type matchRequest struct {
	Mode       string   `json:"mode"`
	Year       int      `json:"year"`
	Villages   []string `json:"villages"`
	LocusTop   int      `json:"locus_top"`
	MaxPerCell int      `json:"max_per_cell"`
	// PriorityListID (locus mode): candidates from the newest version of this saved list.
	PriorityListID int64 `json:"priority_list_id"`
	// NeedWeight weights a cell's households: sector (default), m0 or households.
	NeedWeight string `json:"need_weight"`
	// Save keeps the proposal (default true) so that it can be accepted later.
	Save *bool `json:"save"`
}

// match runs the matcher (planner): it builds the input from the database, solves,
// checks the proposal with the independent checker and saves it as a draft.
func (s *Server) match(c *fiber.Ctx) error {
	var req matchRequest
	if err := c.BodyParser(&req); err != nil {
		return problem(fiber.StatusBadRequest, "body harus JSON {mode: sector|locus, year, villages?, priority_list_id?, locus_top?, max_per_cell?, need_weight?, save?}")
	}
	if req.Mode != matching.ModeSector && req.Mode != matching.ModeLocus {
		return problem(fiber.StatusBadRequest, "mode harus sector atau locus (mode must be sector or locus)")
	}
	if req.Year < 2000 || req.Year > 2100 {
		return problem(fiber.StatusBadRequest, "year harus tahun 2000–2100 (year must be 2000–2100)")
	}
	if req.MaxPerCell < 0 || req.MaxPerCell > 10 || req.LocusTop < 0 || req.LocusTop > 1000 {
		return problem(fiber.StatusBadRequest, "max_per_cell 0–10 dan locus_top 0–1000 (out of range)")
	}
	if req.PriorityListID < 0 {
		return problem(fiber.StatusBadRequest, "priority_list_id harus positif (priority_list_id must be positive)")
	}
	if !matching.ValidNeedWeight(req.NeedWeight) {
		return problem(fiber.StatusBadRequest, "need_weight harus sector, m0 atau households (need_weight must be sector, m0 or households)")
	}
	mr := geo.MatchRequest{Mode: req.Mode, Year: req.Year, Villages: req.Villages, LocusTop: req.LocusTop, MaxPerCell: req.MaxPerCell,
		PriorityListID: req.PriorityListID, NeedWeight: req.NeedWeight}
	ctx := c.UserContext()
	in, basis, err := s.web.PrepareMatch(ctx, mr)
	if errors.Is(err, geo.ErrMatchRequest) {
		return &Error{Status: fiber.StatusBadRequest, Detail: err.Error(), Err: err}
	}
	if err != nil {
		return matchStoreError(err)
	}
	p, err := matching.Solve(in)
	if err != nil {
		return &Error{Status: fiber.StatusBadRequest, Detail: err.Error(), Err: err}
	}
	if rep := matching.CheckProposal(in, p); !rep.OK() {
		return &Error{Status: fiber.StatusInternalServerError, Detail: "usulan gagal diperiksa (proposal failed the checker)"}
	}
	out := fiber.Map{"proposal": p, "basis": basis}
	if req.Save != nil && !*req.Save {
		// Nothing was created: a plain 200 with the proposal.
		return c.JSON(out)
	}
	u, _ := currentUser(c)
	id, err := s.web.SaveProposal(ctx, mr, basis, p, u.Name)
	if err != nil {
		return err
	}
	out["id"] = id
	c.Location(fmt.Sprintf("/api/v1/match/%d", id))
	return c.Status(fiber.StatusCreated).JSON(out)
}

// unitCostsBody is the body of PUT /match/costs: the sectors to change (the others
// keep their cost) and an optional note.
type unitCostsBody struct {
	Costs map[string]float64 `json:"costs"`
	Note  string             `json:"note"`
}

// getUnitCosts returns the current unit costs and the previous versions (planner).
func (s *Server) getUnitCosts(c *fiber.Ctx) error {
	vs, err := s.web.UnitCostVersions(c.UserContext(), 20)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return problem(fiber.StatusNotFound, "biaya satuan belum diatur (no unit costs set)")
	}
	return c.JSON(fiber.Map{"current": vs[0], "versions": vs, "sectors": geo.Sectors})
}

// putUnitCosts changes some sectors' unit costs (planner): validated, recorded as a
// new version with who and when, audited. 200 with the current version; changed
// says whether a new version was written.
func (s *Server) putUnitCosts(c *fiber.Ctx) error {
	var body unitCostsBody
	if err := c.BodyParser(&body); err != nil {
		return problem(fiber.StatusBadRequest, `body harus JSON {"costs": {"kesehatan": 1500000, ...}, "note"?} (rupiah per in-need household)`)
	}
	if len(body.Note) > 500 {
		return problem(fiber.StatusBadRequest, "note paling panjang 500 karakter (note: at most 500 characters)")
	}
	u, _ := currentUser(c)
	cur, changed, err := s.web.SetUnitCosts(c.UserContext(), body.Costs, body.Note, u.Name)
	if err != nil {
		return matchStoreError(err)
	}
	return c.JSON(fiber.Map{"current": cur, "changed": changed})
}

func (s *Server) getProposal(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	r, err := s.web.Proposal(c.UserContext(), id)
	if err != nil {
		return matchStoreError(err)
	}
	return c.JSON(r)
}

func (s *Server) acceptProposal(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	n, err := s.web.AcceptProposal(c.UserContext(), id, u.Name)
	if err != nil {
		if e := matchStoreError(err); e != err {
			return e
		}
		return &Error{Status: fiber.StatusBadRequest, Detail: err.Error(), Err: err}
	}
	return c.JSON(fiber.Map{"id": id, "status": "accepted", "plans_created": n})
}

func (s *Server) listMatchRules(c *fiber.Ctx) error {
	year, err := queryYear(c, "year")
	if err != nil {
		return err
	}
	rs, err := s.web.MatchRules(c.UserContext(), year)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"rules": rs})
}

func (s *Server) addMatchRule(c *fiber.Ctx) error {
	var r geo.MatchRule
	if err := c.BodyParser(&r); err != nil {
		return problem(fiber.StatusBadRequest, "body harus JSON {kind: pin|exclude, company_id, village_code, sector?, year, note?}")
	}
	u, _ := currentUser(c)
	id, err := s.web.AddMatchRule(c.UserContext(), r, u.Name)
	if err != nil {
		if e := matchStoreError(err); e != err {
			return e
		}
		return &Error{Status: fiber.StatusBadRequest, Detail: err.Error(), Err: err}
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": id})
}
