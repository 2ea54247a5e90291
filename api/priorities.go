package api

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// getPriorities serves GET /api/v1/priorities: the newest version of every list
// (?year=), or one list (?id=, optional &version=).
func (s *Server) getPriorities(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if id := c.QueryInt("id", 0); id > 0 {
		l, err := s.web.PriorityListVersion(ctx, int64(id), c.QueryInt("version", 0))
		if errors.Is(err, pgx.ErrNoRows) {
			return problem(fiber.StatusNotFound, "daftar prioritas "+strconv.Itoa(id)+" tidak ada (no such priority list or version)")
		}
		if err != nil {
			return err
		}
		return c.JSON(l)
	}
	year, err := queryYear(c, "year")
	if err != nil {
		return err
	}
	ls, err := s.web.PriorityLists(ctx, year)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"lists": ls})
}

// postPriorities serves POST /api/v1/priorities: {name, year, note, items: [{code,
// note}]} creates a list or a new version of the list with that name and year.
func (s *Server) postPriorities(c *fiber.Ctx) error {
	var in geo.PriorityInput
	if err := c.BodyParser(&in); err != nil {
		return problem(fiber.StatusBadRequest, "body harus JSON {name, year, note, items: [{code, note}]} (body must be JSON)")
	}
	u, _ := currentUser(c)
	l, err := s.web.SavePriorityList(c.UserContext(), in, u.Name)
	if errors.Is(err, geo.ErrPriorityInvalid) {
		return problem(fiber.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(l)
}
