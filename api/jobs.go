package api

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// Background jobs (household imports started with Prefer: respond-async) live in
// memory: bounded in number, forgotten jobExpiry after they end. A server restart
// loses them — and cancels a running import, which rolls back as a whole because
// the import is one transaction — so a client that sees 404 for a job it started
// must look at the data (or the audit log) to learn whether it committed.
const (
	maxJobs         = 64
	jobExpiry       = time.Hour
	jobRejectsShown = 20 // rejects in GET /jobs/{id}; the CSV has all kept ones
)

// Job states.
const (
	jobRunning   = "running"
	jobDone      = "done"
	jobFailed    = "failed"
	jobCancelled = "cancelled"
)

// job is one background task and what it reported so far.
type job struct {
	id      string
	kind    string
	ownerID int64
	owner   string
	started time.Time
	cancel  context.CancelFunc

	rows       atomic.Int64 // rows handed to the store so far
	bytesRead  atomic.Int64
	bytesTotal int64

	mu          sync.Mutex
	phase       string
	state       string
	finished    time.Time
	status      int    // the HTTP status the synchronous call would have answered
	detail      string // failure or summary sentence
	result      *householdImportResponse
	cancelAsked bool
}

// jobStore holds a server's jobs.
type jobStore struct {
	mu   sync.Mutex
	jobs map[string]*job
}

// serverJobs keeps each Server's job store beside it rather than in a field, so the
// job code stays in this file.
var serverJobs sync.Map // *Server → *jobStore

func (s *Server) jobs() *jobStore {
	v, _ := serverJobs.LoadOrStore(s, &jobStore{jobs: map[string]*job{}})
	return v.(*jobStore)
}

// errTooManyJobs refuses a job while maxJobs are still running or recent.
var errTooManyJobs = problem(fiber.StatusServiceUnavailable,
	"terlalu banyak pekerjaan berjalan; coba lagi nanti (too many jobs are running; try again later)")

// add registers a new running job for u, forgetting expired ones first.
func (js *jobStore) add(kind string, u geo.User, cancel context.CancelFunc) (*job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	now := time.Now()
	var oldest *job
	for id, j := range js.jobs {
		j.mu.Lock()
		ended, fin := j.state != jobRunning, j.finished
		j.mu.Unlock()
		if ended && now.Sub(fin) > jobExpiry {
			delete(js.jobs, id)
			continue
		}
		if ended && (oldest == nil || fin.Before(oldest.finished)) {
			oldest = j
		}
	}
	if len(js.jobs) >= maxJobs {
		if oldest == nil {
			return nil, errTooManyJobs
		}
		delete(js.jobs, oldest.id)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	j := &job{id: hex.EncodeToString(b), kind: kind, ownerID: u.ID, owner: u.Name, started: now, cancel: cancel, state: jobRunning}
	js.jobs[j.id] = j
	return j, nil
}

// get returns job id if u may see it: its owner, or an admin. Others get the same
// 404 as for a job that does not exist, so ids cannot be probed.
func (js *jobStore) get(id string, u geo.User) (*job, error) {
	js.mu.Lock()
	j := js.jobs[id]
	js.mu.Unlock()
	if j == nil || (j.ownerID != u.ID && u.Role != geo.RoleAdmin) {
		return nil, problem(fiber.StatusNotFound, "pekerjaan "+id+" tidak ada atau sudah kedaluwarsa (no such job, or it expired; jobs are kept in memory and lost on a server restart)")
	}
	return j, nil
}

// setPhase records the phase a job reports (geo.ImportSpec.Progress).
func (j *job) setPhase(p string) {
	j.mu.Lock()
	j.phase = p
	j.mu.Unlock()
}

// finish records the outcome: status/detail of the synchronous answer, and the
// import summary when there is one.
func (j *job) finish(status int, detail string, res *householdImportResponse) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.finished = time.Now()
	j.status, j.detail, j.result = status, detail, res
	switch {
	case j.cancelAsked && status != fiber.StatusOK:
		j.state = jobCancelled
		j.detail = "dibatalkan; tidak ada yang dimuat (cancelled; nothing was loaded)"
	case status == fiber.StatusOK:
		j.state = jobDone
	default:
		j.state = jobFailed
	}
	j.phase = ""
}

// jobView is the body of GET /api/v1/jobs/{id}.
type jobView struct {
	ID             string                   `json:"id"`
	Kind           string                   `json:"kind"`
	State          string                   `json:"state"`
	Phase          string                   `json:"phase,omitempty"`
	Rows           int64                    `json:"rows"`
	RowsPerSecond  float64                  `json:"rows_per_second"`
	BytesRead      int64                    `json:"bytes_read"`
	BytesTotal     int64                    `json:"bytes_total"`
	StartedBy      string                   `json:"started_by"`
	StartedAt      time.Time                `json:"started_at"`
	FinishedAt     *time.Time               `json:"finished_at,omitempty"`
	ElapsedSeconds float64                  `json:"elapsed_seconds"`
	Status         int                      `json:"status,omitempty"`
	Detail         string                   `json:"detail,omitempty"`
	Result         *householdImportResponse `json:"result,omitempty"`
	RejectsTotal   int64                    `json:"rejects_total"`
	RejectsURL     string                   `json:"rejects_url,omitempty"`
}

func (j *job) view() jobView {
	j.mu.Lock()
	defer j.mu.Unlock()
	end := time.Now()
	v := jobView{ID: j.id, Kind: j.kind, State: j.state, Phase: j.phase, Rows: j.rows.Load(), BytesRead: j.bytesRead.Load(),
		BytesTotal: j.bytesTotal, StartedBy: j.owner, StartedAt: j.started, Status: j.status, Detail: j.detail}
	if j.state != jobRunning {
		end = j.finished
		v.FinishedAt = &j.finished
	}
	v.ElapsedSeconds = end.Sub(j.started).Seconds()
	if v.ElapsedSeconds > 0 {
		v.RowsPerSecond = float64(v.Rows) / v.ElapsedSeconds
	}
	if v.BytesTotal > 0 && v.BytesRead > v.BytesTotal {
		v.BytesRead = v.BytesTotal // the reader buffers ahead of the rows
	}
	if j.result != nil {
		r := *j.result
		v.RejectsTotal = r.Rejected
		if len(r.Rejects) > jobRejectsShown {
			r.Rejects = r.Rejects[:jobRejectsShown]
			r.RejectsTruncated = true
		}
		v.Result = &r
		if len(j.result.Rejects) > 0 {
			v.RejectsURL = "/api/v1/jobs/" + j.id + "/rejects.csv"
		}
	}
	return v
}

// getJob serves GET /api/v1/jobs/{id}: phase, rows read, rows/s, and when it
// ended the outcome with the first rejects.
func (s *Server) getJob(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	j, err := s.jobs().get(c.Params("id"), u)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(j.view())
}

// cancelJob serves DELETE /api/v1/jobs/{id}: a running import's context is
// cancelled and its transaction rolls back, so nothing of it appears. A job that
// already ended is left as it is (409).
func (s *Server) cancelJob(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	j, err := s.jobs().get(c.Params("id"), u)
	if err != nil {
		return err
	}
	j.mu.Lock()
	running := j.state == jobRunning
	if running {
		j.cancelAsked = true
	}
	j.mu.Unlock()
	if !running {
		return problem(fiber.StatusConflict, "pekerjaan sudah selesai (the job has already ended)")
	}
	j.cancel()
	c.Status(fiber.StatusAccepted)
	return c.JSON(j.view())
}

// jobRejects serves GET /api/v1/jobs/{id}/rejects.csv: the reject report (row,
// id, reason — never identity numbers or names) as CSV.
func (s *Server) jobRejects(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	j, err := s.jobs().get(c.Params("id"), u)
	if err != nil {
		return err
	}
	j.mu.Lock()
	res := j.result
	j.mu.Unlock()
	if res == nil {
		return problem(fiber.StatusConflict, "laporan penolakan belum ada (no reject report yet: the job is running or failed before reading rows)")
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="penolakan-`+j.id[:8]+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	w := csv.NewWriter(c.Response().BodyWriter())
	_ = w.Write([]string{"baris_row", "id", "alasan_reason"})
	for _, r := range res.Rejects {
		_ = w.Write([]string{strconv.FormatInt(r.Row, 10), r.ID, r.Reason})
	}
	w.Flush()
	return w.Error()
}

// jobFailure turns a job's error into the status and sentence the synchronous
// call would have answered.
func (s *Server) jobFailure(err error) (int, string) {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Status, ae.Detail
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fiber.StatusServiceUnavailable, "impor dihentikan (the import was stopped: " + err.Error() + ")"
	}
	s.log.Error("background job", "err", err)
	return fiber.StatusInternalServerError, "kesalahan server; lihat log (internal error; see the server log)"
}
