package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bapeda-bekasi/sinergi/api"
	"github.com/bapeda-bekasi/sinergi/geo"
)

// jobBody is the part of GET /api/v1/jobs/{id} the tests read.
type jobBody struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	Phase      string `json:"phase"`
	Rows       int64  `json:"rows"`
	BytesTotal int64  `json:"bytes_total"`
	StartedBy  string `json:"started_by"`
	Status     int    `json:"status"`
	Detail     string `json:"detail"`
	Result     *struct {
		Inserted int64        `json:"inserted"`
		Rejected int64        `json:"rejected"`
		Rejects  []geo.Reject `json:"rejects"`
	} `json:"result"`
	RejectsTotal int64  `json:"rejects_total"`
	RejectsURL   string `json:"rejects_url"`
}

// uploadAsync starts an import job and returns its first state and Location.
func (f *fixture) uploadAsync(t *testing.T, token, content string, fields map[string]string) (jobBody, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "reg.csv")
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/households/import", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Prefer", "respond-async")
	resp, err := f.srv.App().Test(req, 60000)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var j jobBody
	if resp.StatusCode != 202 || json.Unmarshal(body, &j) != nil || j.ID == "" {
		t.Fatalf("async upload: %d %s", resp.StatusCode, body)
	}
	return j, resp.Header.Get("Location")
}

// waitJob polls a job until it ends.
func (f *fixture) waitJob(t *testing.T, token, id string) jobBody {
	t.Helper()
	for {
		resp, body := f.do(t, "GET", "/api/v1/jobs/"+id, token, "")
		var j jobBody
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &j) != nil {
			t.Fatalf("job %s: %d %s", id, resp.StatusCode, body)
		}
		if j.State != "running" {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHouseholdImportJob(t *testing.T) {
	t.Setenv("SINERGI_HASH_KEY", strings.Repeat("ab", 32))
	f := newFixture(t)
	ctx := context.Background()
	_, otherGIS, err := f.owner.AddUser(ctx, geo.NewUser{Name: "gis-lain", Role: geo.RoleGIS})
	if err != nil {
		t.Fatal(err)
	}
	gis := f.tokens[geo.RoleGIS]

	first, loc := f.uploadAsync(t, gis, registerCSV, map[string]string{"register": "survey", "period": "2026"})
	if loc != "/api/v1/jobs/"+first.ID || first.StartedBy != "u-gis" || first.BytesTotal != int64(len(registerCSV)) {
		t.Errorf("202 answer: %+v, Location %q", first, loc)
	}
	j := f.waitJob(t, gis, first.ID)
	if j.State != "done" || j.Status != 200 || j.Rows != 4 || j.Result == nil || j.Result.Inserted != 3 || j.Result.Rejected != 1 ||
		len(j.Result.Rejects) != 1 || j.Result.Rejects[0].Row != 5 || j.RejectsTotal != 1 || j.RejectsURL == "" {
		t.Fatalf("finished job: %+v", j)
	}
	// The reject report as CSV: row, id, reason; no identity numbers.
	resp, csv := f.do(t, "GET", j.RejectsURL, gis, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(csv, "baris_row,id,alasan_reason\n5,R4,") || strings.Contains(csv, "3216015505800008") {
		t.Errorf("rejects.csv: %d %q", resp.StatusCode, csv)
	}
	// Only the user who started it, and admin, see the job; others get 404 or 403.
	if resp, _ := f.do(t, "GET", "/api/v1/jobs/"+first.ID, otherGIS, ""); resp.StatusCode != 404 {
		t.Errorf("another GIS user: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", j.RejectsURL, otherGIS, ""); resp.StatusCode != 404 {
		t.Errorf("another GIS user's CSV: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/jobs/"+first.ID, f.tokens[geo.RoleAdmin], ""); resp.StatusCode != 200 {
		t.Errorf("admin: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/jobs/"+first.ID, f.tokens[geo.RolePlanner], ""); resp.StatusCode != 403 {
		t.Errorf("planner: %d", resp.StatusCode)
	}
	if resp, body := f.do(t, "DELETE", "/api/v1/jobs/"+first.ID, gis, ""); resp.StatusCode != 409 {
		t.Errorf("cancelling an ended job: %d %s", resp.StatusCode, body)
	}

	// Failures end the job with the status the synchronous call would answer.
	j, _ = f.uploadAsync(t, gis, registerCSV, map[string]string{"register": "nope", "period": "2026"})
	if j = f.waitJob(t, gis, j.ID); j.State != "failed" || j.Status != 422 || !strings.Contains(j.Detail, "unknown register") {
		t.Errorf("unknown register: %+v", j)
	}
	j, _ = f.uploadAsync(t, gis, registerCSV, map[string]string{"register": "survey", "period": "2025", "strict": "true"})
	if j = f.waitJob(t, gis, j.ID); j.State != "failed" || j.Status != 422 || !strings.Contains(j.Detail, "nothing loaded") || j.RejectsTotal != 1 {
		t.Errorf("strict: %+v", j)
	}
}

func TestHouseholdImportJobCancelLoadsNothing(t *testing.T) {
	t.Setenv("SINERGI_HASH_KEY", strings.Repeat("ab", 32))
	f := newFixture(t)
	gis := f.tokens[geo.RoleGIS]
	reached := make(chan struct{})
	api.SetImportRowHook(func(ctx context.Context, n int64) {
		if n == 2 {
			close(reached)
			<-ctx.Done() // hold the import mid-COPY until it is cancelled
		}
	})
	t.Cleanup(func() { api.SetImportRowHook(nil) })

	j, _ := f.uploadAsync(t, gis, registerCSV, map[string]string{"register": "survey", "period": "2024"})
	<-reached
	resp, body := f.do(t, "GET", "/api/v1/jobs/"+j.ID, gis, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"state":"running"`) || !strings.Contains(body, `"rows":2`) ||
		!strings.Contains(body, "reading rows") {
		t.Fatalf("progress mid-import: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "DELETE", "/api/v1/jobs/"+j.ID, f.tokens[geo.RolePlanner], ""); resp.StatusCode != 403 {
		t.Errorf("planner cancelling: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "DELETE", "/api/v1/jobs/"+j.ID, gis, ""); resp.StatusCode != 202 {
		t.Fatalf("cancel: %d %s", resp.StatusCode, body)
	}
	if j = f.waitJob(t, gis, j.ID); j.State != "cancelled" || !strings.Contains(j.Detail, "nothing was loaded") {
		t.Fatalf("after cancel: %+v", j)
	}
	// The import is one transaction: not one row of it is visible.
	var n int64
	if err := f.owner.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM household WHERE period = '2024')
		+ (SELECT count(*) FROM import_batch WHERE period = '2024')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows of a cancelled import: %d %v", n, err)
	}
}
