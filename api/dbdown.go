package api

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgconn"
)

// dbUnavailable turns errors that mean "the database is not there right now" —
// refused or broken connections, a server shutting down or starting up — into a
// 503 with Retry-After, instead of a 500: the client may retry, nothing is wrong
// with its request, and load balancers take 503 as "try elsewhere".
func dbUnavailable(c *fiber.Ctx, err error) error {
	if err == nil || !databaseDown(err) {
		return err
	}
	c.Set(fiber.HeaderRetryAfter, "2")
	return &Error{Status: fiber.StatusServiceUnavailable,
		Detail: "basis data sedang tidak tersedia; coba lagi sebentar (the database is unavailable; please retry shortly)", Err: err}
}

// databaseDown reports whether err comes from an unreachable or restarting database.
func databaseDown(err error) bool {
	var ae *Error
	if errors.As(err, &ae) && ae.Status < 500 {
		return false // a refusal the handler chose
	}
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01–57P03: admin/crash shutdown, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	case pgconn.SafeToRetry(err):
		return true
	}
	m := err.Error()
	return strings.Contains(m, "conn closed") || strings.Contains(m, "connection refused") ||
		strings.Contains(m, "failed to connect") || strings.Contains(m, "unexpected EOF")
}
