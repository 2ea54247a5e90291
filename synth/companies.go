package synth

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/bapeda-bekasi/sinergi/data"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// CSR sector keys (Indonesian words, as stored by the project).
const (
	SectorPendidikan    = "pendidikan"    // education
	SectorKesehatan     = "kesehatan"     // health
	SectorLingkungan    = "lingkungan"    // environment
	SectorInfrastruktur = "infrastruktur" // infrastructure
	SectorEkonomi       = "ekonomi"       // economy, livelihoods
)

// Sectors lists every sector key in canonical order.
var Sectors = []string{SectorPendidikan, SectorKesehatan, SectorLingkungan, SectorInfrastruktur, SectorEkonomi}

// Plan statuses.
const (
	StatusSubmitted = "submitted"
	StatusApproved  = "approved"
	StatusRunning   = "running"
	StatusDone      = "done"
)

// Company is a fictional company with a CSR budget.
type Company struct {
	Key           string           // stable slug of Name, e.g. "pt-sinar-cikarang-abadi"
	Name          string           // e.g. "PT Sinar Cikarang Abadi"
	Sectors       []string         // 1–3 sector keys, in the order of Sectors
	BudgetPerYear int64            // rupiah, 500 million – 15 billion, multiple of 50 million
	Area          orb.MultiPolygon // operating area: one disc-like polygon (0.4–1.2 km radius) per site
	Sites         []orb.Point      // 1–2 sites; the first inside an industrial estate
	ReachKm       float64          // 3–15, how far from its sites the company works
}

// Plan is a CSR plan of a company in one village.
type Plan struct {
	CompanyKey       string
	Year             int // 2025 or 2026
	VillageCode      string
	Sector           string // one of the company's sectors
	Budget           int64  // rupiah, multiple of 10 million
	TargetHouseholds int
	Status           string // StatusSubmitted, StatusApproved, StatusRunning or StatusDone
}

// numCompanies is the number of companies Companies returns.
const numCompanies = 13

// Companies returns exactly 13 fictional companies clustered around the
// regency's industrial estates (at least two per estate, the rest in
// proportion to estate area), deterministic for (r, seed). About a third have
// a second site elsewhere in the regency.
func Companies(r *Regency, seed uint64) []Company {
	rnd := newRand(seed, tagCompanies, 0)
	f := newFrame(orb.Point{centreLon, centreLat})
	outline := r.Outline
	if len(r.Estates) == 0 {
		return nil
	}

	perEstate := make([]int, len(r.Estates))
	base := min(2, numCompanies/len(r.Estates))
	areas := make([]float64, len(r.Estates))
	for i, e := range r.Estates {
		perEstate[i] = base
		areas[i] = planar.Area(e.Area)
	}
	for i, n := range largestRemainder(numCompanies-base*len(r.Estates), areas) {
		perEstate[i] += n
	}

	words, industries, endings, forms := data.CompanyWords(), data.CompanyIndustries(), data.CompanyEndings(), data.CompanyForms()
	usedKeys := map[string]bool{}
	var out []Company
	for ei, e := range r.Estates {
		place := ""
		for _, k := range r.Kecamatan {
			if planar.MultiPolygonContains(k.Geom, e.Center) {
				place = k.Name
				break
			}
		}
		for range perEstate[ei] {
			var c Company
			for {
				var proper string
				switch rnd.IntN(4) {
				case 0:
					if place != "" && !strings.Contains(place, " ") {
						proper = pick(rnd, words) + " " + place + " " + pick(rnd, endings)
						break
					}
					fallthrough
				case 1:
					proper = pick(rnd, words) + " " + pick(rnd, industries) + " " + pick(rnd, endings)
				case 2:
					w1, w2 := pick(rnd, words), pick(rnd, words)
					if w1 == w2 {
						continue
					}
					proper = w1 + " " + w2 + " " + pick(rnd, industries)
				default:
					proper = pick(rnd, words) + " " + pick(rnd, endings)
				}
				c.Name = strings.Replace(pick(rnd, forms), "{}", proper, 1)
				c.Key = slug(c.Name)
				if !usedKeys[c.Key] {
					usedKeys[c.Key] = true
					break
				}
			}

			// Sectors: a random non-empty subset of up to three, canonical order.
			perm := rnd.Perm(len(Sectors))[:1+rnd.IntN(3)]
			slices.Sort(perm)
			for _, i := range perm {
				c.Sectors = append(c.Sectors, Sectors[i])
			}

			// Budget: log-uniform between 0.5 and 15 billion, in 50 million steps.
			b := math.Exp(math.Log(5e8) + rnd.Float64()*(math.Log(1.5e10)-math.Log(5e8)))
			c.BudgetPerYear = min(max(int64(math.Round(b/5e7))*5e7, 5e8), 1.5e10)
			c.ReachKm = math.Round((3+12*rnd.Float64())*2) / 2

			// Sites: one inside the estate, maybe one more 4–12 km away.
			home := randomPointInPolygon(rnd, e.Area)
			c.Sites = []orb.Point{home}
			if rnd.Float64() < 0.35 {
				for range 200 {
					d := 4 + 8*rnd.Float64()
					th := 2 * math.Pi * rnd.Float64()
					x, y := f.km(home)
					p := roundPoint(f.deg(x+d*math.Cos(th), y+d*math.Sin(th)))
					if planar.PolygonContains(outline, p) {
						c.Sites = append(c.Sites, p)
						break
					}
				}
			}
			for _, s := range c.Sites {
				c.Area = append(c.Area, orb.Polygon{closeRing(disc(rnd, f, s, 0.4+0.8*rnd.Float64()))})
			}
			out = append(out, c)
		}
	}
	return out
}

// slug turns a name into a lower-case key of letters, digits and dashes.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// randomPointInPolygon draws a rounded point inside p by rejection.
func randomPointInPolygon(r *rand.Rand, p orb.Polygon) orb.Point {
	b := p.Bound()
	for range 10000 {
		q := roundPoint(orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])})
		if planar.PolygonContains(p, q) {
			return q
		}
	}
	return roundPoint(interiorPoint([][]orb.Point{openRing(p[0])}))
}

// disc returns a slightly irregular 24-gon of about radiusKm around c,
// counter-clockwise, open.
func disc(r *rand.Rand, f frame, c orb.Point, radiusKm float64) []orb.Point {
	const n = 24
	cx, cy := f.km(c)
	out := make([]orb.Point, n)
	for i := range n {
		th := 2 * math.Pi * float64(i) / n
		rad := radiusKm * (1 + 0.08*(2*r.Float64()-1))
		out[i] = roundPoint(f.deg(cx+rad*math.Cos(th), cy+rad*math.Sin(th)))
	}
	return out
}

// Plans returns 18–26 CSR plans for the companies: one to three each, in
// distinct villages near the company's sites (within ReachKm where
// possible), for 2025 (done or running) and 2026 (submitted, approved or
// running). A company's plans in one year never exceed its BudgetPerYear.
// Plans are ordered by company (in the given order), year and village code.
func Plans(r *Regency, companies []Company, seed uint64) []Plan {
	if len(companies) == 0 || len(r.Villages) == 0 {
		return nil
	}
	rnd := newRand(seed, tagPlans, 0)
	f := newFrame(orb.Point{centreLon, centreLat})
	total := min(18+rnd.IntN(9), 3*len(companies))
	counts := make([]int, len(companies))
	n := 0
	for i := range counts {
		counts[i] = 1
		n++
	}
	for n < total {
		i := rnd.IntN(len(counts))
		if counts[i] < 3 {
			counts[i]++
			n++
		}
	}

	centroids := make([]orb.Point, len(r.Villages))
	for i, v := range r.Villages {
		centroids[i], _ = planar.CentroidArea(v.Geom)
	}

	var plans []Plan
	for ci, c := range companies {
		if len(c.Sites) == 0 || len(c.Sectors) == 0 {
			continue
		}
		dist := make([]float64, len(r.Villages))
		order := make([]int, len(r.Villages))
		for i := range r.Villages {
			order[i] = i
			dist[i] = math.Inf(1)
			for _, s := range c.Sites {
				dist[i] = min(dist[i], f.distKm(centroids[i], s))
			}
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(dist[a], dist[b]) })
		near := 0
		for near < len(order) && near < 8 && dist[order[near]] <= c.ReachKm {
			near++
		}
		near = max(near, min(counts[ci], len(order)))
		choice := rnd.Perm(near)[:min(counts[ci], near)]
		var own []Plan
		for _, k := range choice {
			v := r.Villages[order[k]]
			p := Plan{
				CompanyKey:  c.Key,
				Year:        2025 + rnd.IntN(2),
				VillageCode: v.Code,
				Sector:      c.Sectors[rnd.IntN(len(c.Sectors))],
			}
			p.Budget = max(int64(math.Round(float64(c.BudgetPerYear)*(0.08+0.22*rnd.Float64())/1e7))*1e7, 5e7)
			perHousehold := 2e6 + 6e6*rnd.Float64()
			p.TargetHouseholds = min(max(int(math.Round(float64(p.Budget)/perHousehold/5))*5, 20), 2000)
			x := rnd.Float64()
			if p.Year == 2025 {
				p.Status = StatusDone
				if x < 0.4 {
					p.Status = StatusRunning
				}
			} else {
				switch {
				case x < 0.4:
					p.Status = StatusSubmitted
				case x < 0.75:
					p.Status = StatusApproved
				default:
					p.Status = StatusRunning
				}
			}
			own = append(own, p)
		}
		slices.SortStableFunc(own, func(a, b Plan) int {
			if a.Year != b.Year {
				return cmp.Compare(a.Year, b.Year)
			}
			return strings.Compare(a.VillageCode, b.VillageCode)
		})
		plans = append(plans, own...)
	}
	return plans
}
