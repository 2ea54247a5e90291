package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func (s *Server) listPlans(c *fiber.Ctx) error {
	year, err := queryYear(c, "year")
	if err != nil {
		return err
	}
	company, err := queryID(c, "company")
	if err != nil {
		return err
	}
	f := geo.PlanFilter{Year: year, Village: c.Query("village"), Status: c.Query("status")}
	if v := company; v > 0 {
		f.CompanyID = int64(v)
	}
	ps, err := s.web.Plans(c.UserContext(), f, companyViewer(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"plans": ps, "count": len(ps)})
}

// planRequest is the body of POST /plans.
type planRequest struct {
	CompanyID        int64        `json:"company_id"`
	Year             int          `json:"year"`
	VillageCode      string       `json:"village_code"`
	Sector           string       `json:"sector"`
	Budget           int64        `json:"budget"`
	TargetHouseholds int          `json:"target_households"`
	Program          string       `json:"program"`
	Sites            [][2]float64 `json:"sites"` // [lon, lat] program points
}

func (s *Server) createPlan(c *fiber.Ctx) error {
	var req planRequest
	if err := c.BodyParser(&req); err != nil {
		return problem(fiber.StatusBadRequest, "body harus JSON rencana (body must be a plan JSON): {company_id, year, village_code, sector, budget, target_households, program?, sites?}")
	}
	u, _ := currentUser(c)
	if u.Role == geo.RoleCompany && req.CompanyID == 0 && u.CompanyID != nil {
		req.CompanyID = *u.CompanyID
	}
	if err := ownCompanyOnly(c, req.CompanyID); err != nil {
		return err
	}
	if len(req.Program) > 2000 {
		return problem(fiber.StatusBadRequest, "program terlalu panjang, maksimal 2000 karakter (program too long)")
	}
	p := geo.Plan{CompanyID: req.CompanyID, Year: req.Year, VillageCode: req.VillageCode, Sector: req.Sector,
		Budget: req.Budget, TargetHouseholds: req.TargetHouseholds, Program: req.Program}
	for _, pt := range req.Sites {
		p.Sites = append(p.Sites, orb.Point{pt[0], pt[1]})
	}
	if err := sitesProblem(p.Sites); err != nil {
		return err
	}
	id, err := s.web.CreatePlan(c.UserContext(), p, u.Name)
	if err != nil {
		if e := matchStoreError(err); e != err {
			return e
		}
		return &Error{Status: fiber.StatusBadRequest, Detail: err.Error(), Err: err}
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": id, "status": geo.PlanSubmitted})
}

func (s *Server) approvePlan(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	if err := s.web.SetPlanStatus(c.UserContext(), id, geo.PlanUpdate{Status: geo.PlanApproved}, u.Name, u.Role); err != nil {
		return matchStoreError(err)
	}
	return c.JSON(fiber.Map{"id": id, "status": geo.PlanApproved})
}

// planStatusRequest moves a plan on: running or done (the company or a planner),
// rejected (a planner).
type planStatusRequest struct {
	Status            string `json:"status"`
	RealisedBudget    *int64 `json:"realised_budget"`
	RealisationReport string `json:"realisation_report"`
}

func (s *Server) planStatus(c *fiber.Ctx) error {
	id, err := companyIDParam(c)
	if err != nil {
		return err
	}
	var req planStatusRequest
	if err := c.BodyParser(&req); err != nil {
		return problem(fiber.StatusBadRequest, "body harus JSON {status, realised_budget?, realisation_report?}")
	}
	u, _ := currentUser(c)
	switch req.Status {
	case geo.PlanRunning, geo.PlanDone:
	case geo.PlanRejected, geo.PlanApproved:
		if u.Role != geo.RolePlanner {
			return problem(fiber.StatusForbidden, "hanya perencana yang menyetujui atau menolak rencana (only planners approve or reject plans)")
		}
	default:
		return problem(fiber.StatusBadRequest, "status harus running, done, approved atau rejected (status must be running, done, approved or rejected)")
	}
	cid, err := s.web.PlanCompany(c.UserContext(), id)
	if err != nil {
		return matchStoreError(err)
	}
	if err := ownCompanyOnly(c, cid); err != nil {
		return err
	}
	if err := s.web.SetPlanStatus(c.UserContext(), id, geo.PlanUpdate{Status: req.Status, RealisedBudget: req.RealisedBudget,
		RealisationReport: req.RealisationReport}, u.Name, u.Role); err != nil {
		if e := matchStoreError(err); e != err {
			return e
		}
		return &Error{Status: fiber.StatusBadRequest, Detail: err.Error(), Err: err}
	}
	return c.JSON(fiber.Map{"id": id, "status": req.Status})
}

func (s *Server) coverage(c *fiber.Ctx) error {
	year, err := queryYear(c, "year")
	if err != nil {
		return err
	}
	if year == 0 {
		return problem(fiber.StatusBadRequest, "year wajib diisi, mis. ?year=2026 (year is required)")
	}
	cells, err := s.web.Coverage(c.UserContext(), year)
	if err != nil {
		return matchStoreError(err)
	}
	return c.JSON(fiber.Map{"year": year, "cells": cells})
}
