package api

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// companyViewer says whose budgets the caller may see (DESIGN.md: companies never
// see other companies' budgets).
func companyViewer(c *fiber.Ctx) geo.CompanyViewer {
	u, _ := currentUser(c)
	if u.Role == geo.RolePlanner {
		return geo.CompanyViewer{AllBudgets: true}
	}
	if u.Role == geo.RoleCompany {
		return geo.CompanyViewer{Own: u.CompanyID}
	}
	return geo.CompanyViewer{}
}

// companyIDParam parses the :id route parameter.
func companyIDParam(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem(fiber.StatusBadRequest, "id harus bilangan bulat positif (id must be a positive whole number)")
	}
	return id, nil
}

// ownCompanyOnly refuses a company user acting on another company.
func ownCompanyOnly(c *fiber.Ctx, companyID int64) error {
	u, _ := currentUser(c)
	if u.Role == geo.RoleCompany && (u.CompanyID == nil || *u.CompanyID != companyID) {
		return problem(fiber.StatusForbidden, "akun perusahaan hanya boleh mengakses perusahaannya sendiri (a company account may only access its own company)")
	}
	return nil
}

// matchStoreError maps the store's typed errors to problems; others stay internal.
func matchStoreError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, geo.ErrNotFound):
		return &Error{Status: fiber.StatusNotFound, Detail: err.Error(), Err: err}
	case errors.Is(err, geo.ErrCompanyExists), errors.Is(err, geo.ErrPlanStatus), errors.Is(err, geo.ErrProposalState),
		errors.Is(err, geo.ErrCompanyInUse):
		return &Error{Status: fiber.StatusConflict, Detail: err.Error(), Err: err}
	case errors.Is(err, geo.ErrUnknownVillage), errors.Is(err, geo.ErrUnitCost), errors.Is(err, geo.ErrMatchRequest):
		return &Error{Status: fiber.StatusBadRequest, Detail: err.Error(), Err: err}
	case errors.Is(err, geo.ErrNoScores):
		// The need comes from the scores: nothing to match until `sinergi score` ran.
		return &Error{Status: fiber.StatusConflict, Detail: err.Error(), Err: err}
	}
	return err
}

func (s *Server) listCompanies(c *fiber.Ctx) error {
	cs, err := s.web.Companies(c.UserContext(), companyViewer(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"companies": cs, "count": len(cs)})
}

func (s *Server) getCompany(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	co, err := s.web.CompanyByID(c.UserContext(), id, companyViewer(c))
	if err != nil {
		return matchStoreError(err)
	}
	return c.JSON(co)
}

// companyRequest is the body of POST and PUT /companies: area and sites as GeoJSON geometries.
type companyRequest struct {
	Key            string           `json:"key"`
	Name           string           `json:"name"`
	Sectors        []string         `json:"sectors"`
	BudgetPerYear  int64            `json:"budget_per_year"`
	BudgetBySector map[string]int64 `json:"budget_by_sector"`
	ReachKm        *float64         `json:"reach_km"`
	Area           json.RawMessage  `json:"area"`
	Sites          json.RawMessage  `json:"sites"`
}

func (r companyRequest) company() (geo.Company, error) {
	co := geo.Company{Key: r.Key, Name: r.Name, Sectors: r.Sectors, BudgetPerYear: r.BudgetPerYear,
		BudgetBySector: r.BudgetBySector, ReachKm: 5}
	if r.ReachKm != nil {
		co.ReachKm = *r.ReachKm
	}
	if len(r.Area) > 0 && string(r.Area) != "null" {
		g, err := geojson.UnmarshalGeometry(r.Area)
		if err != nil {
			return co, problem(fiber.StatusBadRequest, "area bukan geometri GeoJSON (area is not a GeoJSON geometry): "+err.Error())
		}
		switch t := g.Geometry().(type) {
		case orb.Polygon:
			co.Area = orb.MultiPolygon{t}
		case orb.MultiPolygon:
			co.Area = t
		default:
			return co, problem(fiber.StatusBadRequest, "area harus Polygon atau MultiPolygon (area must be a Polygon or MultiPolygon)")
		}
	}
	if len(r.Sites) > 0 && string(r.Sites) != "null" {
		g, err := geojson.UnmarshalGeometry(r.Sites)
		if err != nil {
			return co, problem(fiber.StatusBadRequest, "sites bukan geometri GeoJSON (sites is not a GeoJSON geometry): "+err.Error())
		}
		switch t := g.Geometry().(type) {
		case orb.Point:
			co.Sites = []orb.Point{t}
		case orb.MultiPoint:
			co.Sites = []orb.Point(t)
		default:
			return co, problem(fiber.StatusBadRequest, "sites harus Point atau MultiPoint (sites must be a Point or MultiPoint)")
		}
	}
	if err := sitesProblem(co.Sites); err != nil {
		return co, err
	}
	if err := areaProblem(co.Area); err != nil {
		return co, err
	}
	if err := co.Validate(); err != nil {
		return co, problem(fiber.StatusBadRequest, err.Error())
	}
	return co, nil
}

func (s *Server) createCompany(c *fiber.Ctx) error {
	var req companyRequest
	if err := c.BodyParser(&req); err != nil {
		return problem(fiber.StatusBadRequest, "body harus JSON perusahaan (body must be a company JSON): {key, name, sectors, budget_per_year, reach_km, area?, sites?}")
	}
	co, err := req.company()
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	id, err := s.web.CreateCompany(c.UserContext(), co, u.Name)
	if err != nil {
		return matchStoreError(err)
	}
	out, err := s.web.CompanyByID(c.UserContext(), id, companyViewer(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) updateCompany(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	if err := ownCompanyOnly(c, id); err != nil {
		return err
	}
	var req companyRequest
	if err := c.BodyParser(&req); err != nil {
		return problem(fiber.StatusBadRequest, "body harus JSON perusahaan (body must be a company JSON)")
	}
	co, err := req.company()
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	if err := s.web.UpdateCompany(c.UserContext(), id, co, u.Name); err != nil {
		return matchStoreError(err)
	}
	out, err := s.web.CompanyByID(c.UserContext(), id, companyViewer(c))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) deleteCompany(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	if err := s.web.DeleteCompany(c.UserContext(), id, u.Name); err != nil {
		return matchStoreError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) companyRings(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	if err := ownCompanyOnly(c, id); err != nil {
		return err
	}
	if _, err := s.web.CompanyByID(c.UserContext(), id, geo.CompanyViewer{}); err != nil {
		return matchStoreError(err)
	}
	rs, err := s.web.CompanyRings(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"company_id": id, "villages": rs})
}

func (s *Server) companyNeighbours(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	if err := ownCompanyOnly(c, id); err != nil {
		return err
	}
	within := c.QueryFloat("within_km", 5)
	if !(within > 0) || within > 100 {
		return problem(fiber.StatusBadRequest, "within_km harus antara 0 dan 100 (within_km must be between 0 and 100)")
	}
	rep, err := s.web.CompanyNeighbours(c.UserContext(), id, within)
	if err != nil {
		return matchStoreError(err)
	}
	return c.JSON(rep)
}

func (s *Server) companySuggestions(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	if err := ownCompanyOnly(c, id); err != nil {
		return err
	}
	year, err := queryYear(c, "year")
	if err != nil {
		return err
	}
	sug, err := s.web.Suggestions(c.UserContext(), id, year)
	if err != nil {
		return matchStoreError(err)
	}
	return c.JSON(fiber.Map{"company_id": id, "year": year, "suggestions": sug})
}
