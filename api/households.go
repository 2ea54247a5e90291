package api

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// maxRejectsInResponse bounds the reject report returned by the import route; the
// total is always given.
const maxRejectsInResponse = 1000

// importTimeout bounds an upload's import; the per-request timeout is far too
// short for a register of a million rows.
const importTimeout = 30 * time.Minute

// householdImportResponse is the body of POST /api/v1/households/import.
type householdImportResponse struct {
	File     string `json:"file"`
	Register string `json:"register"`
	Period   string `json:"period"`
	Source   string `json:"source"`
	geo.ImportResult
	IgnoredColumns   []string     `json:"ignored_columns,omitempty"`
	Rejects          []geo.Reject `json:"rejects"`
	RejectsTruncated bool         `json:"rejects_truncated,omitempty"`
	HashKeyID        string       `json:"hash_key_id"`
}

// importHouseholds loads a register uploaded as multipart form data: field "file"
// (CSV or GeoJSON points) and fields register, period, optional source, strict,
// retire_missing, gap (metres). It runs on the owner store (the web role cannot
// write personal data) and returns the summary with the reject report (row, id,
// reason — never identity numbers or names).
func (s *Server) importHouseholds(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if s.owner == nil {
		return problem(fiber.StatusServiceUnavailable, "impor tidak tersedia di server ini (imports are not enabled on this server)")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return problem(fiber.StatusBadRequest, "unggah berkas di kolom 'file' (upload the register as multipart field 'file')")
	}
	register, period := strings.TrimSpace(c.FormValue("register")), strings.TrimSpace(c.FormValue("period"))
	if register == "" || period == "" {
		return problem(fiber.StatusBadRequest, "register dan period wajib diisi (register and period are required)")
	}
	strict, _ := strconv.ParseBool(c.FormValue("strict", "false"))
	retire, _ := strconv.ParseBool(c.FormValue("retire_missing", "false"))
	gap, err := strconv.ParseFloat(c.FormValue("gap", "50"), 64)
	if err != nil || gap <= 0 || gap > 1000 {
		return problem(fiber.StatusBadRequest, "gap harus 0–1000 meter (gap must be 0–1000 metres)")
	}
	name := filepath.Base(fh.Filename)
	source := strings.TrimSpace(c.FormValue("source", name))
	key, _, err := geo.LoadHashKey(false)
	if err != nil {
		s.log.Error("hash key", "err", err)
		return problem(fiber.StatusServiceUnavailable, "kunci hash belum dikonfigurasi di server (the hash key is not configured: set SINERGI_HASH_KEY_FILE)")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()

	// An import outlives the request timeout; it still ends with the server.
	ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
	defer cancel()
	extent, err := s.owner.RegencyExtent(ctx, geo.DefaultExtentMargin)
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		rejects []geo.Reject
		total   int
	)
	onReject := func(r geo.Reject) {
		mu.Lock()
		defer mu.Unlock()
		total++
		if len(rejects) < maxRejectsInResponse {
			rejects = append(rejects, r)
		}
	}
	rd, err := geo.NewHouseholdReader(f, name, geo.ReaderOptions{Key: key, Extent: extent, OnReject: onReject})
	if err != nil {
		return problem(fiber.StatusUnprocessableEntity, err.Error())
	}
	pull, stop := geo.Pipelined(ctx, rd.Next)
	res, err := s.owner.ImportHouseholds(ctx, geo.ImportSpec{Register: register, Period: period, Source: source, File: name,
		By: u.Name, GapTolerance: gap, Strict: strict, RetireMissing: retire, KeyID: key.ID(), OnReject: onReject}, pull)
	stop()
	mu.Lock()
	defer mu.Unlock()
	if rejects == nil {
		rejects = []geo.Reject{}
	}
	body := householdImportResponse{File: name, Register: register, Period: period, Source: source, ImportResult: res,
		IgnoredColumns: rd.Ignored, Rejects: rejects, RejectsTruncated: total > len(rejects), HashKeyID: key.ID()}
	switch {
	case errors.Is(err, geo.ErrRejected):
		c.Status(fiber.StatusUnprocessableEntity)
		return c.JSON(fiber.Map{"detail": name + ": " + strconv.Itoa(total) + " baris ditolak, tidak ada yang dimuat (" +
			strconv.Itoa(total) + " rows rejected in a strict import; nothing loaded)", "report": body})
	case errors.Is(err, geo.ErrKeyMismatch):
		return problem(fiber.StatusConflict, err.Error())
	case err != nil && isInputError(err):
		return problem(fiber.StatusUnprocessableEntity, err.Error())
	case err != nil:
		return err
	}
	s.refreshScores(ctx, u.Name)
	return c.JSON(body)
}

// isInputError tells errors about the uploaded file or the form (which the user can
// fix) from failures of the server.
func isInputError(err error) bool {
	m := err.Error()
	for _, s := range []string{"tidak dikenal (unknown register", "periode ", "baris ", "fitur "} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// officerHouseholdsResponse is the body of GET /api/v1/villages/{code}/households.
type officerHouseholdsResponse struct {
	Village    string                 `json:"village"`
	Purpose    string                 `json:"purpose"`
	Count      int                    `json:"count"`
	Households []geo.OfficerHousehold `json:"households"`
}

// officerHouseholds is the by-name-by-address list of one village for an officer.
// The purpose comes as ?purpose= or the X-Purpose header. Everything that matters —
// credential, role, assigned area, purpose, hourly limit, audit row — is decided by
// the database function behind OfficerHouseholds, in the same transaction as the
// read, so this handler (running as the web role) never reads schema pii itself.
// Refusals are audited here too.
func (s *Server) officerHouseholds(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	code := strings.Clone(c.Params("code"))
	purpose := strings.TrimSpace(c.Query("purpose", c.Get("X-Purpose")))
	cred := ""
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		cred = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if sid, ok := c.Locals(localSession).(string); ok {
		cred = sid
	}
	rows, err := s.web.OfficerHouseholds(c.UserContext(), geo.OfficerRequest{Credential: cred, Village: code,
		Purpose: purpose, RemoteAddr: c.IP(), Register: c.Query("register"), Period: c.Query("period")})
	if err != nil {
		status := 0
		switch {
		case errors.Is(err, geo.ErrUnauthenticated):
			status = fiber.StatusUnauthorized
		case errors.Is(err, geo.ErrOfficerForbidden):
			status = fiber.StatusForbidden
		case errors.Is(err, geo.ErrOfficerBadRequest):
			status = fiber.StatusBadRequest
		case errors.Is(err, geo.ErrOfficerRateLimit):
			status = fiber.StatusTooManyRequests
		default:
			return err
		}
		if aerr := s.web.Audit(c.UserContext(), geo.AuditEntry{Actor: u.Name, Role: u.Role, Action: "households.read",
			Object: "village:" + code, Purpose: purpose, RemoteAddr: c.IP(), Failed: true,
			Detail: map[string]any{"status": status}}); aerr != nil {
			s.log.Error("audit refused officer read", "err", aerr)
		}
		return problem(status, err.Error())
	}
	if rows == nil {
		rows = []geo.OfficerHousehold{}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(officerHouseholdsResponse{Village: code, Purpose: purpose, Count: len(rows), Households: rows})
}
