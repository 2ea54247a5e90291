package api

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func (s *Server) listUsers(c *fiber.Ctx) error {
	us, err := s.web.Users(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"users": us})
}

type addUserRequest struct {
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	CompanyID *int64   `json:"company_id"`
	Area      []string `json:"area"`
	Password  string   `json:"password"`
}

func (s *Server) addUser(c *fiber.Ctx) error {
	var req addUserRequest
	if err := c.BodyParser(&req); err != nil {
		return problem(fiber.StatusBadRequest, "body must be JSON {name, role, company_id?, area?, password?}")
	}
	role, err := geo.ParseRole(req.Role)
	if err != nil {
		return problem(fiber.StatusBadRequest, err.Error())
	}
	if req.Password != "" && len(req.Password) < 8 {
		return problem(fiber.StatusBadRequest, "password too short: use at least 8 characters")
	}
	admin, _ := currentUser(c)
	u, token, err := s.web.AddUser(c.UserContext(), geo.NewUser{Name: req.Name, Role: role, CompanyID: req.CompanyID,
		Area: req.Area, Password: req.Password, By: admin.Name})
	if errors.Is(err, geo.ErrUserExists) {
		return problem(fiber.StatusConflict, err.Error())
	}
	if err != nil {
		return &Error{Status: fiber.StatusBadRequest, Detail: err.Error()}
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"user": u, "token": token})
}

func (s *Server) audit(c *fiber.Ctx) error {
	f := geo.AuditFilter{Action: c.Query("action"), Actor: c.Query("actor"), Limit: c.QueryInt("limit", 100)}
	if since := c.Query("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return problem(fiber.StatusBadRequest, "since must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z")
		}
		f.Since = t
	}
	es, err := s.web.AuditLog(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"entries": es})
}
