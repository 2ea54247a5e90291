// Package demo loads the synthetic demo regency (code 99.01, made by package synth)
// into a Sinergi database: boundaries, households, companies, plans and one user per
// role. Loading is idempotent: a second run with the same seed writes no row.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/synth"
)

// Options control the demo load.
type Options struct {
	Seed       uint64
	Households int
	// CredentialsFile keeps the demo users' passwords and tokens (mode 0600) so a
	// second run can print them again without writing to the database.
	CredentialsFile string
	// Progress, when set, receives one line per step.
	Progress func(string)
}

// DefaultOptions returns the documented demo: seed 1, 200,000 households.
func DefaultOptions() Options { return Options{Seed: 1, Households: 200000} }

// Credential is one demo user's sign-in.
type Credential struct {
	Name     string   `json:"name"`
	Role     geo.Role `json:"role"`
	Password string   `json:"password"`
	Token    string   `json:"token"`
	Company  string   `json:"company,omitempty"`
}

// Result summarises a demo load.
type Result struct {
	Regency          string           `json:"regency"`
	DesaSet          int64            `json:"desa_set"`
	KecamatanSet     int64            `json:"kecamatan_set"`
	Villages         int              `json:"villages"`
	Kecamatan        int              `json:"kecamatan"`
	Households       geo.ImportResult `json:"households"`
	Companies        int              `json:"companies"`
	CompaniesWritten int              `json:"companies_written"`
	Plans            int              `json:"plans"`
	PlansWritten     int              `json:"plans_written"`
	Users            []Credential     `json:"users"`
	UsersWritten     int              `json:"users_written"`
	ScoresComputed   bool             `json:"scores_computed"`
}

// ErrNotDemo is returned when the database holds data that is not the demo's.
var ErrNotDemo = errors.New("this database holds non-demo data; the demo only loads into an empty or demo database")

const register = "demo"
const period = "2026"

// Load migrates nothing (call geo.Migrate first) and loads the demo.
func Load(ctx context.Context, st *geo.Store, key geo.HashKey, opt Options) (Result, error) {
	progress := opt.Progress
	if progress == nil {
		progress = func(string) {}
	}
	var res Result
	if err := checkDemoOnly(ctx, st); err != nil {
		return res, err
	}
	reg := synth.NewRegency(opt.Seed)
	res.Regency = reg.Code
	res.Villages, res.Kecamatan = len(reg.Villages), len(reg.Kecamatan)
	source := fmt.Sprintf("demo:%s:seed=%d", reg.Code, opt.Seed)

	progress(fmt.Sprintf("batas wilayah / boundaries: %d desa, %d kecamatan", len(reg.Villages), len(reg.Kecamatan)))
	var err error
	if res.KecamatanSet, err = ensureSet(ctx, st, geo.LevelKecamatan, source, kecFeatures(reg)); err != nil {
		return res, err
	}
	if res.DesaSet, err = ensureSet(ctx, st, geo.LevelDesa, source, villageFeatures(reg)); err != nil {
		return res, err
	}

	progress(fmt.Sprintf("rumah tangga / households: %d", opt.Households))
	hopt := synth.HouseholdOptions{N: opt.Households, Seed: opt.Seed}
	ch := make(chan synth.Household, 1024)
	errc := make(chan error, 1)
	genCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(ch)
		errc <- synth.Households(reg.Villages, hopt, func(h synth.Household) error {
			select {
			case ch <- h:
				return nil
			case <-genCtx.Done():
				return genCtx.Err()
			}
		})
	}()
	res.Households, err = st.ImportHouseholds(ctx, geo.ImportSpec{Register: register, Period: period,
		Source: source, File: source, By: "demo"}, func() (geo.HouseholdRecord, bool, error) {
		h, ok := <-ch
		if !ok {
			return geo.HouseholdRecord{}, false, nil
		}
		return geo.HouseholdRecord{
			ExternalID: h.ExternalID, KKHash: key.Sum(h.KK), NIKHash: key.Sum(h.NIK),
			HeadName: h.HeadName, Address: h.Address, ReportedVillage: h.VillageCode,
			Lon: h.Lon, Lat: h.Lat, Members: h.Members, ChildrenU5: h.ChildrenU5, Stunted: h.Stunted,
			ExtremePoor: h.ExtremePoor, Decile: h.Decile, UnemployedAdults: h.UnemployedAdults,
		}, true, nil
	})
	cancel()
	if gerr := <-errc; gerr != nil && err == nil && !errors.Is(gerr, context.Canceled) {
		err = gerr
	}
	if err != nil {
		return res, fmt.Errorf("demo households: %w", err)
	}

	companies := synth.Companies(reg, opt.Seed)
	progress(fmt.Sprintf("perusahaan / companies: %d", len(companies)))
	ids := map[string]int64{}
	for _, c := range companies {
		id, written, err := st.UpsertCompany(ctx, geo.Company{Key: "demo:" + c.Key, Name: c.Name, Sectors: c.Sectors,
			BudgetPerYear: c.BudgetPerYear, Area: c.Area, Sites: c.Sites, ReachKm: c.ReachKm}, "demo")
		if err != nil {
			return res, err
		}
		ids[c.Key] = id
		res.Companies++
		if written {
			res.CompaniesWritten++
		}
	}
	for _, p := range synth.Plans(reg, companies, opt.Seed) {
		written, err := st.EnsurePlan(ctx, geo.Plan{CompanyID: ids[p.CompanyKey], Year: p.Year, VillageCode: p.VillageCode,
			Sector: p.Sector, Budget: p.Budget, TargetHouseholds: p.TargetHouseholds, Status: p.Status}, "demo")
		if err != nil {
			return res, err
		}
		res.Plans++
		if written {
			res.PlansWritten++
		}
	}

	// Scores, so the map has a ranking at once; only when missing or stale, so a
	// repeated demo writes nothing.
	if _, err := st.SetMeta(ctx, geo.MetaRegencyName, reg.Name+" ("+reg.Code+", data demo)"); err != nil {
		return res, err
	}

	progress("skor kebutuhan / need scores")
	if res.ScoresComputed, err = st.RefreshScores(ctx, "demo"); err != nil {
		return res, fmt.Errorf("demo scores: %w", err)
	}

	progress("pengguna / users")
	firstCompany := companies[0]
	area := []string{}
	for _, v := range reg.Villages {
		if v.KecCode == reg.Villages[0].KecCode {
			area = append(area, v.Code)
		}
	}
	res.Users, res.UsersWritten, err = ensureUsers(ctx, st, opt.CredentialsFile, ids[firstCompany.Key], firstCompany.Name, area)
	if err != nil {
		return res, err
	}
	return res, nil
}

// checkDemoOnly refuses databases holding anything but the demo regency.
func checkDemoOnly(ctx context.Context, st *geo.Store) error {
	var foreign string
	err := st.Pool.QueryRow(ctx, `
		SELECT coalesce(
			(SELECT 'boundary set ' || id || ' (' || source_file || ')' FROM boundary_set WHERE source_file NOT LIKE 'demo:%' LIMIT 1),
			(SELECT 'household register ' || register FROM household WHERE register <> 'demo' LIMIT 1),
			(SELECT 'company ' || key FROM company WHERE key NOT LIKE 'demo:%' LIMIT 1),
			'')`).Scan(&foreign)
	if err != nil {
		return err
	}
	if foreign != "" {
		return fmt.Errorf("%w (found %s)", ErrNotDemo, foreign)
	}
	return nil
}

// ensureSet loads and activates a set unless an identical demo set is already active.
func ensureSet(ctx context.Context, st *geo.Store, level, source string, feats []geo.BoundaryFeature) (int64, error) {
	var id int64
	err := st.Pool.QueryRow(ctx, `SELECT id FROM boundary_set WHERE level = $1 AND source_file = $2 AND status = 'active'`,
		level, source).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	id, err = st.CreateBoundarySet(ctx, level, source, "demo", feats)
	if err != nil {
		return 0, err
	}
	return id, st.ActivateBoundarySet(ctx, id, "demo")
}

func villageFeatures(r *synth.Regency) []geo.BoundaryFeature {
	out := make([]geo.BoundaryFeature, len(r.Villages))
	for i, v := range r.Villages {
		out[i] = geo.BoundaryFeature{Code: v.Code, Name: v.Name, KecCode: v.KecCode, KecName: v.KecName, Kind: v.Kind,
			Geom: v.Geom, Props: map[string]any{"demo": true}}
	}
	return out
}

func kecFeatures(r *synth.Regency) []geo.BoundaryFeature {
	out := make([]geo.BoundaryFeature, len(r.Kecamatan))
	for i, k := range r.Kecamatan {
		out[i] = geo.BoundaryFeature{Code: k.Code, Name: k.Name, Geom: k.Geom, Props: map[string]any{"demo": true}}
	}
	return out
}

// ensureUsers makes one demo user per role. Credentials saved by an earlier run are
// reused when they still sign in, so a repeated demo writes nothing.
func ensureUsers(ctx context.Context, st *geo.Store, file string, companyID int64, companyName string, area []string) ([]Credential, int, error) {
	saved := map[string]Credential{}
	if file != "" {
		if b, err := os.ReadFile(file); err == nil {
			var cs []Credential
			if json.Unmarshal(b, &cs) == nil {
				for _, c := range cs {
					saved[c.Name] = c
				}
			}
		}
	}
	var out []Credential
	written := 0
	for _, role := range geo.Roles {
		name := "demo-" + string(role)
		if c, ok := saved[name]; ok {
			if u, err := st.CheckToken(ctx, c.Token); err == nil && u.Name == name && u.Role == role {
				out = append(out, c)
				continue
			}
		}
		c := Credential{Name: name, Role: role, Password: randomPassword()}
		nu := geo.NewUser{Name: name, Role: role, Password: c.Password, By: "demo"}
		if role == geo.RoleCompany {
			nu.CompanyID = &companyID
			c.Company = companyName
		}
		if role == geo.RoleOfficer {
			nu.Area = area
		}
		if _, err := st.UserByName(ctx, name); err == nil {
			// The user exists but we lost its secrets: issue new ones.
			if err := st.SetPassword(ctx, name, c.Password, "demo"); err != nil {
				return nil, written, err
			}
			if _, err := st.RevokeTokens(ctx, name, "demo"); err != nil {
				return nil, written, err
			}
			tok, err := st.NewToken(ctx, name, "demo", "demo")
			if err != nil {
				return nil, written, err
			}
			c.Token = tok
		} else {
			_, tok, err := st.AddUser(ctx, nu)
			if err != nil {
				return nil, written, err
			}
			c.Token = tok
		}
		written++
		out = append(out, c)
	}
	if file != "" && written > 0 {
		b, _ := json.MarshalIndent(out, "", "  ")
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, written, err
		}
		if err := os.WriteFile(file, b, 0o600); err != nil {
			return nil, written, fmt.Errorf("save demo credentials: %w", err)
		}
	}
	return out, written, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return strings.ReplaceAll(base64.RawURLEncoding.EncodeToString(b), "-", "x")
}
