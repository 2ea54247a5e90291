package geo

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// OfficerHousehold is one row of an officer's by-name-by-address list.
type OfficerHousehold struct {
	Register         string   `json:"register"`
	Period           string   `json:"period"`
	ExternalID       string   `json:"id"`
	HeadName         string   `json:"head_name"`
	Address          string   `json:"address"`
	Lon              *float64 `json:"lon"`
	Lat              *float64 `json:"lat"`
	Members          int      `json:"members"`
	ChildrenU5       int      `json:"children_u5"`
	Stunted          int      `json:"stunted"`
	ExtremePoor      bool     `json:"extreme_poor"`
	Decile           *int16   `json:"poverty_decile"`
	UnemployedAdults int      `json:"unemployed_adults"`
	AssignMethod     *string  `json:"assign_method"`
}

// OfficerRequest is one officer read: the caller's credential (bearer token or
// session id, as presented), the village, the stated purpose.
type OfficerRequest struct {
	Credential       string
	Village, Purpose string
	RemoteAddr       string
	Register, Period string // optional filters
}

// Officer read refusals, mapped from the database function's SQLSTATEs.
var (
	ErrOfficerBadRequest = errors.New("officer read: bad request")
	ErrOfficerForbidden  = errors.New("officer read: forbidden")
	ErrOfficerRateLimit  = errors.New("officer read: rate limit")
)

// OfficerHouseholds returns the households of one village for an officer. It works
// through the database function officer_households (SECURITY DEFINER), which
// authenticates the credential itself, checks role, purpose, assigned area and the
// hourly limit, and writes the audit row in the same transaction as the read — so it
// is safe to call from the web store, whose role cannot read schema pii. Refusals
// wrap ErrUnauthenticated, ErrOfficerForbidden, ErrOfficerBadRequest or
// ErrOfficerRateLimit with the function's bilingual message.
func (s *Store) OfficerHouseholds(ctx context.Context, r OfficerRequest) ([]OfficerHousehold, error) {
	if r.Credential == "" || len(r.Credential) > 128 {
		return nil, ErrUnauthenticated
	}
	rows, err := s.Pool.Query(ctx, `SELECT * FROM officer_households($1, $2, $3, $4, $5, $6)`,
		r.Credential, r.Village, r.Purpose, r.RemoteAddr, nullStr(r.Register), nullStr(r.Period))
	if err != nil {
		return nil, officerError(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OfficerHousehold])
	if err != nil {
		return nil, officerError(err)
	}
	return out, nil
}

// OfficerError is a refusal of the officer read path: Kind is one of the sentinel
// errors above (or ErrUnauthenticated); the message is the function's bilingual
// sentence, fit to show the officer.
type OfficerError struct {
	Kind error
	Msg  string
}

func (e *OfficerError) Error() string { return e.Msg }

// Unwrap lets errors.Is match Kind.
func (e *OfficerError) Unwrap() error { return e.Kind }

func officerError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	kinds := map[string]error{"SN401": ErrUnauthenticated, "SN403": ErrOfficerForbidden, "SN400": ErrOfficerBadRequest,
		"SN429": ErrOfficerRateLimit}
	if k, ok := kinds[pe.Code]; ok {
		return &OfficerError{Kind: k, Msg: pe.Message}
	}
	return fmt.Errorf("officer read: %w", err)
}
