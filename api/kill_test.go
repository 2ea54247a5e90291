package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bapeda-bekasi/sinergi/api"
	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// The kill tests run the server in a child process (this test binary again,
// in TestKillChildServer), start a register import or a boundary activation
// through it, and kill -9 it while the work's transaction is open. To land the
// kill inside the transaction every time, another session holds a SHARE lock on
// layer_version: reads go on, but the bump_layer() both operations make last
// waits. After the kill the database must be exactly as before, and after a
// restart the same request must succeed.

const childURLEnv, childAddrEnv = "SINERGI_KILL_CHILD_URL", "SINERGI_KILL_CHILD_ADDR"

// TestKillChildServer is the child: a server as `sinergi serve` builds it. It
// does nothing in a normal run.
func TestKillChildServer(t *testing.T) {
	url := os.Getenv(childURLEnv)
	if url == "" {
		t.Skip("helper process for TestKillDuring* (runs only as their child)")
	}
	ctx := context.Background()
	web, err := geo.Open(ctx, url, geo.Options{Web: true})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := geo.Open(ctx, url, geo.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.DefaultConfig(), web, owner, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen(ctx, os.Getenv(childAddrEnv)); err != nil {
		t.Fatal(err)
	}
}

type childServer struct {
	t    *testing.T
	url  string
	base string
	cmd  *exec.Cmd
}

func startChild(t *testing.T, dbURL string) *childServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChildServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), childURLEnv+"="+dbURL, childAddrEnv+"="+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childServer{t: t, url: dbURL, base: "http://" + addr, cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for range 600 {
		if resp, err := http.Get(c.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("child server not ready after 30 s")
	return nil
}

func (c *childServer) kill9() {
	_ = c.cmd.Process.Signal(os.Kill) // SIGKILL: no shutdown, no deferred code
	_ = c.cmd.Wait()
}

// holdLayerLock opens a transaction holding SHARE on layer_version; release ends it.
func holdLayerLock(t *testing.T, owner *geo.Store) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := owner.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE layer_version IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback(ctx) }
}

// waitBlocked returns the pid of a backend waiting on a lock (the held work).
func waitBlocked(t *testing.T, owner *geo.Store) int32 {
	t.Helper()
	for range 1200 {
		var pid int32
		err := owner.Pool.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' LIMIT 1`).Scan(&pid)
		if err == nil {
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the request never reached its last step (no backend waiting on layer_version after 60 s)")
	return 0
}

// waitGone waits until the killed client's backend has rolled back and ended.
func waitGone(t *testing.T, owner *geo.Store, pid int32) {
	t.Helper()
	for range 1200 {
		var n int
		if err := owner.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n); err == nil && n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("backend %d still there 60 s after its client was killed", pid)
}

// dbState is every number a half-applied import or activation would change.
func dbState(t *testing.T, owner *geo.Store) string {
	t.Helper()
	var s string
	err := owner.Pool.QueryRow(context.Background(), `SELECT concat_ws(' | ',
		'households ' || (SELECT count(*) FROM household),
		'persons ' || (SELECT count(*) FROM pii.household_person),
		'batches ' || (SELECT count(*) FROM import_batch),
		'assignment ' || (SELECT md5(coalesce(string_agg(v || ':' || n, ',' ORDER BY v), '')) FROM
			(SELECT coalesce(village_code, '-') AS v, count(*) n FROM household GROUP BY 1) x),
		'sets ' || (SELECT string_agg(id || ':' || level || ':' || status, ',' ORDER BY id) FROM boundary_set),
		'versions ' || (SELECT string_agg(layer || ':' || version, ',' ORDER BY layer) FROM layer_version),
		'crosswalk ' || (SELECT count(*) FROM code_crosswalk),
		'audit ' || (SELECT count(*) FROM audit_log))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func postRegister(base, token, csvText string) (int, string, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("register", "survey")
	_ = mw.WriteField("period", "2026")
	fw, _ := mw.CreateFormFile("file", "register.csv")
	_, _ = io.WriteString(fw, csvText)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/households/import", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return sendBearer(req, token)
}

func postActivate(base, token string, id int64) (int, string, error) {
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/boundaries/%d/activate", base, id), nil)
	return sendBearer(req, token)
}

// sendBearer sends req with the bearer token and returns the status and body.
func sendBearer(req *http.Request, token string) (int, string, error) {
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

func TestKillDuringImportAndActivation(t *testing.T) {
	if os.Getenv(childURLEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	t.Setenv("SINERGI_HASH_KEY", strings.Repeat("9d", 32)) // inherited by the child
	url, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	geotest.ActivateShared(t, owner, "bekasi_desa.geojson", geo.LevelDesa)
	_, gis, err := owner.AddUser(ctx, geo.NewUser{Name: "gis", Role: geo.RoleGIS})
	if err != nil {
		t.Fatal(err)
	}
	_, villages := canaryVillages(t, owner)
	var reg strings.Builder
	reg.WriteString(registerHeader)
	for vi, code := range villages {
		for i, p := range villagePoints(t, owner, code, 700, 3+vi) {
			fmt.Fprintf(&reg, "K-%d-%d,,,Warga %d,Jalan %d,%s,%.7f,%.7f,3,1,%d,0,5,0\n", vi, i, i, i, code, p[0], p[1], i%2)
		}
	}

	// ---- import
	srv := startChild(t, url)
	before := dbState(t, owner)
	release := holdLayerLock(t, owner)
	done := make(chan error, 1)
	go func() { _, _, err := postRegister(srv.base, gis, reg.String()); done <- err }()
	pid := waitBlocked(t, owner)
	srv.kill9()
	release()
	waitGone(t, owner, pid)
	if err := <-done; err == nil {
		t.Error("the upload answered although its server was killed")
	}
	if after := dbState(t, owner); after != before {
		t.Fatalf("kill -9 during an import left it half-applied:\nbefore %s\nafter  %s", before, after)
	}
	srv = startChild(t, url)
	code, body, err := postRegister(srv.base, gis, reg.String())
	if err != nil || code != 200 || !strings.Contains(body, `"inserted":2100`) {
		t.Fatalf("the same upload after restart: %d %v %.300s", code, err, body)
	}

	// ---- activation of a new desa set (a copy: every household is re-written)
	path := filepath.Join(geotest.SharedData(t), "bekasi_desa.geojson")
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	feats, err := geo.ReadBoundaryGeoJSON(fh, path, geo.LevelDesa, geo.FieldMap{})
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	newSet, err := owner.CreateBoundarySet(ctx, geo.LevelDesa, "copy.geojson", "test", feats)
	if err != nil {
		t.Fatal(err)
	}
	before = dbState(t, owner)
	release = holdLayerLock(t, owner)
	go func() { _, _, err := postActivate(srv.base, gis, newSet); done <- err }()
	pid = waitBlocked(t, owner)
	srv.kill9()
	release()
	waitGone(t, owner, pid)
	<-done
	if after := dbState(t, owner); after != before {
		t.Fatalf("kill -9 during an activation left it half-applied:\nbefore %s\nafter  %s", before, after)
	}
	srv = startChild(t, url)
	if code, body, err := postActivate(srv.base, gis, newSet); err != nil || code != 200 {
		t.Fatalf("activating after restart: %d %v %.300s", code, err, body)
	}
	var status string
	if err := owner.Pool.QueryRow(ctx, `SELECT status FROM boundary_set WHERE id = $1`, newSet).Scan(&status); err != nil || status != "active" {
		t.Fatalf("set %d after activation: %q %v", newSet, status, err)
	}
}
