package api

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// maxRejectsInResponse bounds the reject report returned by the import route; the
// total is always given.
const maxRejectsInResponse = 1000

// maxRejectsInJob bounds the reject report a job keeps in memory for its CSV.
const maxRejectsInJob = 50000

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
//
// By default the call waits for the import and answers with the summary. With the
// header "Prefer: respond-async" (RFC 7240) or ?async=true it answers 202 at once
// with a job (Location: /api/v1/jobs/{id}) that reports phase, rows and rows/s
// while the import runs, and the same summary when it ends (api/jobs.go).
func (s *Server) importHouseholds(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if s.owner == nil {
		return problem(fiber.StatusServiceUnavailable, "impor tidak tersedia di server ini (imports are not enabled on this server)")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return problem(fiber.StatusBadRequest, "unggah berkas di kolom 'file' (upload the register as multipart field 'file')")
	}
	// Clones: the job outlives the request, whose buffers fasthttp reuses.
	register, period := strings.Clone(strings.TrimSpace(c.FormValue("register"))), strings.Clone(strings.TrimSpace(c.FormValue("period")))
	if register == "" || period == "" {
		return problem(fiber.StatusBadRequest, "register dan period wajib diisi (register and period are required)")
	}
	strict, _ := strconv.ParseBool(c.FormValue("strict", "false"))
	retire, _ := strconv.ParseBool(c.FormValue("retire_missing", "false"))
	gap, err := strconv.ParseFloat(c.FormValue("gap", "50"), 64)
	if err != nil || gap <= 0 || gap > 1000 {
		return problem(fiber.StatusBadRequest, "gap harus 0–1000 meter (gap must be 0–1000 metres)")
	}
	name := strings.Clone(filepath.Base(fh.Filename))
	source := strings.Clone(strings.TrimSpace(c.FormValue("source", name)))
	key, _, err := geo.LoadHashKey(false)
	if err != nil {
		s.log.Error("hash key", "err", err)
		return problem(fiber.StatusServiceUnavailable, "kunci hash belum dikonfigurasi di server (the hash key is not configured: set SINERGI_HASH_KEY_FILE)")
	}
	imp := householdImport{by: strings.Clone(u.Name), name: name, register: register, period: period, source: source,
		strict: strict, retire: retire, gap: gap, key: key}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()

	if !wantAsync(c) {
		// An import outlives the request timeout; it still ends with the server.
		ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
		defer cancel()
		out, err := s.runHouseholdImport(ctx, imp, f, nil)
		if err != nil {
			return err
		}
		if out.status == fiber.StatusUnprocessableEntity {
			c.Status(out.status)
			return c.JSON(fiber.Map{"detail": out.detail, "report": out.res})
		}
		return c.JSON(out.res)
	}

	// The upload's temporary file goes with the request: keep a copy for the job.
	tmp, err := os.CreateTemp("", "sinergi-import-*")
	if err != nil {
		return err
	}
	size, err := io.Copy(tmp, f)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
	j, err := s.jobs().add("households.import", u, cancel)
	if err != nil {
		cancel()
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	j.bytesTotal = size
	go func() {
		defer cancel()
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		out, err := s.runHouseholdImport(ctx, imp, tmp, j)
		s.settle(ctx) // the job reports its end only once every server sees it (geo.FreshnessLease)
		if err != nil {
			st, detail := s.jobFailure(err)
			j.finish(st, detail, nil)
			return
		}
		j.finish(out.status, out.detail, out.res)
	}()
	c.Location("/api/v1/jobs/" + j.id)
	c.Status(fiber.StatusAccepted)
	return c.JSON(j.view())
}

// wantAsync reports whether the caller asked for a job instead of waiting.
func wantAsync(c *fiber.Ctx) bool {
	if v, err := strconv.ParseBool(c.Query("async", "false")); err == nil && v {
		return true
	}
	for _, p := range strings.Split(c.Get("Prefer"), ",") {
		if strings.EqualFold(strings.TrimSpace(p), "respond-async") {
			return true
		}
	}
	return false
}

// householdImport is a parsed import request.
type householdImport struct {
	by, name, register, period, source string
	strict, retire                     bool
	gap                                float64
	key                                geo.HashKey
}

// importOutcome is a finished import: 200 with the summary, or 422 when a strict
// import found rejected rows (detail says so; the summary lists them).
type importOutcome struct {
	status int
	detail string
	res    *householdImportResponse
}

// importRowHook, when set (by tests), is called after each row is handed to the
// store by a job, so a test can cancel an import in the middle deterministically.
var importRowHook func(ctx context.Context, n int64)

// countingReader counts bytes for a job's progress (safely read by other goroutines).
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// runHouseholdImport reads and loads one register. j, when not nil, is told the
// phase, bytes and rows as they go. Errors the user can fix come back as *Error.
func (s *Server) runHouseholdImport(ctx context.Context, imp householdImport, r io.Reader, j *job) (importOutcome, error) {
	maxRejects := maxRejectsInResponse
	phase := func(string) {}
	if j != nil {
		r = countingReader{r: r, n: &j.bytesRead}
		maxRejects = maxRejectsInJob
		phase = j.setPhase
		phase("membaca baris / reading rows")
	}
	extent, err := s.owner.RegencyExtent(ctx, geo.DefaultExtentMargin)
	if err != nil {
		return importOutcome{}, err
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
		if len(rejects) < maxRejects {
			rejects = append(rejects, r)
		}
	}
	rd, err := geo.NewHouseholdReader(r, imp.name, geo.ReaderOptions{Key: imp.key, Extent: extent, OnReject: onReject})
	if err != nil {
		return importOutcome{}, problem(fiber.StatusUnprocessableEntity, err.Error())
	}
	pull, stop := geo.Pipelined(ctx, rd.Next)
	next := pull
	if j != nil {
		next = func() (geo.HouseholdRecord, bool, error) {
			rec, ok, err := pull()
			if ok {
				n := j.rows.Add(1)
				if importRowHook != nil {
					importRowHook(ctx, n)
				}
			}
			return rec, ok, err
		}
	}
	res, err := s.owner.ImportHouseholds(ctx, geo.ImportSpec{Register: imp.register, Period: imp.period, Source: imp.source,
		File: imp.name, By: imp.by, GapTolerance: imp.gap, Strict: imp.strict, RetireMissing: imp.retire, KeyID: imp.key.ID(),
		OnReject: onReject, Progress: phase}, next)
	stop()
	mu.Lock()
	if rejects == nil {
		rejects = []geo.Reject{}
	}
	body := &householdImportResponse{File: imp.name, Register: imp.register, Period: imp.period, Source: imp.source,
		ImportResult: res, IgnoredColumns: rd.Ignored, Rejects: rejects, RejectsTruncated: total > len(rejects), HashKeyID: imp.key.ID()}
	mu.Unlock()
	switch {
	case errors.Is(err, geo.ErrRejected):
		return importOutcome{status: fiber.StatusUnprocessableEntity, res: body, detail: imp.name + ": " + strconv.Itoa(total) +
			" baris ditolak, tidak ada yang dimuat (" + strconv.Itoa(total) + " rows rejected in a strict import; nothing loaded)"}, nil
	case errors.Is(err, geo.ErrKeyMismatch):
		return importOutcome{}, problem(fiber.StatusConflict, err.Error())
	case err != nil && ctx.Err() == nil && isInputError(err):
		return importOutcome{}, problem(fiber.StatusUnprocessableEntity, err.Error())
	case err != nil:
		return importOutcome{}, err
	}
	phase("menghitung ulang skor / recomputing scores")
	s.refreshScores(ctx, imp.by)
	return importOutcome{status: fiber.StatusOK, res: body}, nil
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
