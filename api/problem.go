package api

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgconn"
)

// Problem is an RFC 9457 problem detail, the body of every error response.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// Error is an error with an HTTP status and a sentence a user can act on.
type Error struct {
	Status int
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// problem makes an *Error.
func problem(status int, detail string) *Error { return &Error{Status: status, Detail: detail} }

// errorHandler turns every error into application/problem+json. Errors that are
// not *Error or *fiber.Error are internal: their text goes to the log, not the client.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	detail := "Terjadi kesalahan internal; silakan coba lagi. (internal error; please try again)"
	var ae *Error
	var fe *fiber.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ae):
		status, detail = ae.Status, ae.Detail
	case errors.As(err, &fe):
		status, detail = fe.Code, fe.Message
	case errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22"):
		// SQLSTATE class 22 (data exception: a NUL or invalid UTF-8 byte, a
		// number out of range) is the client's input, not a server fault.
		status, detail = fiber.StatusBadRequest, "nilai masukan tidak valid (invalid input value: "+pe.Message+")"
	case errors.Is(err, context.DeadlineExceeded):
		status, detail = fiber.StatusServiceUnavailable, "the database did not answer in time; please try again"
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", c.Locals(localRequestID), "method", c.Method(),
			"path", c.Path(), "status", status, "err", err)
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Status(status).JSON(Problem{
		Type:     "about:blank",
		Title:    statusTitle(status),
		Status:   status,
		Detail:   detail,
		Instance: c.Path(),
	}, "application/problem+json")
}

func statusTitle(status int) string {
	if t := fiberStatusMessage(status); t != "" {
		return t
	}
	return "Error"
}

func fiberStatusMessage(status int) string { return fiber.NewError(status).Message }
