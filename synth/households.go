package synth

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/bapeda-bekasi/sinergi/data"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Household is one generated family card (Kartu Keluarga) row.
type Household struct {
	ExternalID        string // "HH-0000001", unique, in generation order
	KK, NIK           string // 16 digits starting with "9901"; NIK is the head's
	HeadName, Address string
	VillageCode       string // the village the household was placed in
	Lon, Lat          float64
	// Members is 1–9 (mean ≈ 3.8); ChildrenU5 is 0–3 (mean ≈ 0.45);
	// Stunted ≤ ChildrenU5; UnemployedAdults ≤ Members − ChildrenU5.
	Members, ChildrenU5, Stunted, UnemployedAdults int
	ExtremePoor                                    bool
	Decile                                         int // 1..10, 0 = unknown (not registered)
}

// Adults returns the number of members who count as adults for the
// unemployment rate: every member who is not an under-five child.
func (h Household) Adults() int { return h.Members - h.ChildrenU5 }

// HouseholdOptions configure Households and WriteHouseholdsCSV.
type HouseholdOptions struct {
	N    int    // number of households
	Seed uint64 // random seed
	// Population optionally maps village code to population weight; villages
	// missing from the map get no households. When nil, Village.Population
	// is used, and when all of those are zero every village weighs the same.
	Population map[string]int
	// Dirty is the share (0..1) of CSV rows that WriteHouseholdsCSV spoils.
	Dirty float64
}

// HouseholdCSVHeader is the header row written by WriteHouseholdsCSV.
var HouseholdCSVHeader = []string{"id_keluarga", "no_kk", "nik", "nama_kepala", "alamat", "kode_desa", "longitude", "latitude", "jumlah_anggota", "balita", "balita_stunting", "miskin_ekstrem", "desil", "penganggur"}

// Distribution of household sizes 1..9 (mean 3.84).
var memberWeights = [...]float64{0.07, 0.15, 0.22, 0.25, 0.16, 0.08, 0.04, 0.02, 0.01}

// Households streams opt.N households over villages, calling fn for each in
// order; it stops at and returns the first error from fn. Households are
// allocated to villages in proportion to their population weights
// (largest-remainder rounding) and emitted village by village in the order
// of villages. Points are clustered around the villages' settlements and
// always lie inside the village polygon. Memory use is O(len(villages)).
//
// Each village draws its own rates (under-fives, stunting, extreme poverty,
// unemployment) from a stream seeded by (opt.Seed, village code), so a
// village's households do not depend on the other villages.
func Households(villages []Village, opt HouseholdOptions, fn func(Household) error) error {
	if opt.N < 0 {
		return fmt.Errorf("synth: negative household count %d", opt.N)
	}
	if opt.N == 0 {
		return nil
	}
	if len(villages) == 0 {
		return errors.New("synth: no villages to place households in")
	}
	weights := make([]float64, len(villages))
	var sum float64
	for i, v := range villages {
		if opt.Population != nil {
			weights[i] = float64(max(opt.Population[v.Code], 0))
		} else {
			weights[i] = float64(max(v.Population, 0))
		}
		sum += weights[i]
	}
	if sum == 0 {
		if opt.Population != nil {
			return errors.New("synth: the population map gives no weight to any village")
		}
		for i := range weights {
			weights[i] = 1
		}
	}
	counts := largestRemainder(opt.N, weights)
	w := newWords()
	ids := newIdentity(opt.Seed)
	idx := 0
	for vi, v := range villages {
		if counts[vi] == 0 {
			continue
		}
		if len(v.Geom) == 0 {
			return fmt.Errorf("synth: village %s has no geometry", v.Code)
		}
		g := newVillageGen(opt.Seed, v, w)
		r := newRand(opt.Seed, tagHouseholds, hashString(v.Code))
		for range counts[vi] {
			if err := fn(g.next(r, ids, idx)); err != nil {
				return err
			}
			idx++
		}
	}
	return nil
}

// words are the data lists used for households.
type words struct {
	male, female, family, kampung, street []string
}

func newWords() *words {
	return &words{data.MaleNames(), data.FemaleNames(), data.FamilyNames(), data.KampungNames(), data.StreetNames()}
}

// settlement is a cluster of households: a kampung with its RW numbers.
type settlement struct {
	centre  orb.Point
	weight  float64 // cumulative
	kampung string
	rws     []int
}

// villageGen generates the households of one village.
type villageGen struct {
	v                                    Village
	w                                    *words
	kec                                  string // two kecamatan digits for KK/NIK
	label                                string // "Desa X" / "Kelurahan X"
	settlements                          []settlement
	u5Factor, stunt, poor, unemp, sigmaM float64
	urban                                bool
	degLon, degLat                       float64 // degrees per metre
}

func newVillageGen(seed uint64, v Village, w *words) *villageGen {
	r := newRand(seed, tagRates, hashString(v.Code))
	g := &villageGen{v: v, w: w, kec: kecDigits(v.Code), urban: v.Kind == KindKelurahan}
	g.label = "Desa " + v.Name
	if g.urban {
		g.label = "Kelurahan " + v.Name
	}
	g.u5Factor = 0.75 + 0.5*beta(r, 3, 3)
	g.stunt = 0.08 + 0.27*beta(r, 2.2, 2.9)
	g.poor = 0.005 + 0.075*beta(r, 2, 4)
	g.unemp = 0.04 + 0.10*beta(r, 2, 3)
	g.sigmaM = 300 + 500*r.Float64()
	if g.urban {
		g.poor *= 0.7
	}

	centres := make([]orb.Point, 0, len(v.Settlements))
	for _, s := range v.Settlements {
		if planar.MultiPolygonContains(v.Geom, s) {
			centres = append(centres, s)
		}
	}
	if len(centres) == 0 {
		centres = makeSettlements(newRand(seed, tagSettlements, hashString(v.Code)), v.Geom, 1)
	}
	kp := pickDistinct(r, w.kampung, len(centres))
	rw := 1
	var cum float64
	for i, c := range centres {
		wt := 0.5 + r.Float64()
		if i == 0 {
			wt *= 1.5
		}
		cum += wt
		s := settlement{centre: c, weight: cum, kampung: kp[i]}
		for range 1 + r.IntN(3) {
			s.rws = append(s.rws, rw)
			rw++
		}
		g.settlements = append(g.settlements, s)
	}
	lat := centres[0][1]
	g.degLat = 1 / (kmPerDegLat * 1000)
	g.degLon = 1 / (kmPerDegLonEq * 1000 * math.Cos(lat*math.Pi/180))
	return g
}

// pickDistinct returns n entries of list, distinct while the list lasts.
func pickDistinct(r *rand.Rand, list []string, n int) []string {
	perm := r.Perm(len(list))
	out := make([]string, n)
	for i := range out {
		out[i] = list[perm[i%len(perm)]]
	}
	return out
}

// kecDigits returns the two kecamatan digits of a village code such as
// "99.01.07.2003" (or "3216072003"), "00" when there are none.
func kecDigits(code string) string {
	parts := strings.Split(code, ".")
	if len(parts) >= 3 && len(parts[2]) == 2 && isDigits(parts[2]) {
		return parts[2]
	}
	if len(code) >= 6 && isDigits(code[:6]) {
		return code[4:6]
	}
	return "00"
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// next generates the household with global index idx.
func (g *villageGen) next(r *rand.Rand, ids *identity, idx int) Household {
	u := r.Float64() // welfare rank inside the village: 0 = poorest
	poor := u < g.poor
	ux := 0.0 // rank among the non-poor, 0..1
	if !poor {
		ux = (u - g.poor) / (1 - g.poor)
	}

	members := 1
	x := r.Float64()
	for i, p := range memberWeights {
		if x < p || i == len(memberWeights)-1 {
			members = i + 1
			break
		}
		x -= p
	}
	if poor && members < 9 && r.Float64() < 0.3 {
		members++
	}

	u5 := 0
	if trials := min(3, members-1); trials > 0 {
		p := g.u5Factor * 0.158 * float64(members-1) / float64(trials)
		if poor {
			p *= 1.3
		}
		p = min(p, 0.9)
		for range trials {
			if r.Float64() < p {
				u5++
			}
		}
	}

	// Poorer households carry more stunting and more unemployment; the
	// gradient over the non-poor averages to 1 so village rates hold.
	sf, ef := 1.9, 1.8
	if !poor {
		sf = 0.6 + 0.8*(1-ux)
		ef = 0.65 + 0.7*(1-ux)
	}
	stunted := 0
	ps := min(g.stunt*sf, 0.95)
	for range u5 {
		if r.Float64() < ps {
			stunted++
		}
	}
	unemployed := 0
	pe := min(g.unemp*ef, 0.9)
	for range members - u5 {
		if r.Float64() < pe {
			unemployed++
		}
	}

	decile := 0
	registered := r.Float64() < 0.69
	if poor {
		registered = r.Float64() < 0.95
	}
	if registered {
		switch {
		case poor && r.Float64() < 0.92:
			decile = 1
		case poor:
			decile = 2
		case r.Float64() < 0.01:
			decile = 1 // registered as desil 1 without the extreme-poverty flag
		default:
			decile = 2 + min(int(ux*9), 8)
		}
	}

	female := r.Float64() < 0.14
	if poor && r.Float64() < 0.15 {
		female = true
	}
	given := pick(r, g.w.male)
	if female {
		given = pick(r, g.w.female)
	}
	name := given
	if r.Float64() < 0.65 {
		name += " " + pick(r, g.w.family)
	}

	// Settlement, point and address.
	sx := r.Float64() * g.settlements[len(g.settlements)-1].weight
	s := &g.settlements[len(g.settlements)-1]
	for i := range g.settlements {
		if sx < g.settlements[i].weight {
			s = &g.settlements[i]
			break
		}
	}
	pt := s.centre
	for range 30 {
		c := roundPoint(orb.Point{
			s.centre[0] + r.NormFloat64()*g.sigmaM*g.degLon,
			s.centre[1] + r.NormFloat64()*g.sigmaM*g.degLat,
		})
		if planar.MultiPolygonContains(g.v.Geom, c) {
			pt = c
			break
		}
	}

	return Household{
		ExternalID:       string(appendPad([]byte("HH-"), idx+1, 7)),
		KK:               ids.kk(g.kec, idx),
		NIK:              ids.nik(g.kec, idx, female),
		HeadName:         name,
		Address:          g.address(r, s),
		VillageCode:      g.v.Code,
		Lon:              pt[0],
		Lat:              pt[1],
		Members:          members,
		ChildrenU5:       u5,
		Stunted:          stunted,
		UnemployedAdults: unemployed,
		ExtremePoor:      poor,
		Decile:           decile,
	}
}

// address formats e.g. "Kp. Cibeureum RT 003/RW 007, Desa Sukamekar".
func (g *villageGen) address(r *rand.Rand, s *settlement) string {
	var b strings.Builder
	style := r.IntN(100)
	kpShare, jlShare := 65, 85
	if g.urban {
		kpShare, jlShare = 30, 70
	}
	switch {
	case style < kpShare:
		b.WriteString("Kp. ")
		b.WriteString(s.kampung)
	case style < jlShare:
		if r.IntN(3) == 0 {
			b.WriteString("Jl. Raya ")
			b.WriteString(g.v.Name)
		} else {
			b.WriteString("Jl. ")
			b.WriteString(pick(r, g.w.street))
		}
		b.WriteString(" No. ")
		b.WriteString(strconv.Itoa(1 + r.IntN(120)))
	default:
		b.WriteString("Gg. ")
		b.WriteString(pick(r, g.w.street))
		if r.IntN(2) == 0 {
			b.WriteString(" No. ")
			b.WriteString(strconv.Itoa(1 + r.IntN(60)))
		}
	}
	b.WriteString(" RT ")
	b.WriteString(pad(1+r.IntN(12), 3))
	b.WriteString("/RW ")
	b.WriteString(pad(s.rws[r.IntN(len(s.rws))], 3))
	b.WriteString(", ")
	b.WriteString(g.label)
	return b.String()
}

// identity issues KK and NIK numbers that are unique for up to ~10⁸
// households: the date and serial blocks are an affine bijection of the
// household index.
//
// KK:  9901 KK DDMMYY SSSS (issue date 1995–2024, serial)
// NIK: 9901 KK DDMMYY SSSS (head's birth date 1950–2005, +40 on the day for women)
type identity struct {
	kkA, kkB, kkM    uint64
	nikA, nikB, nikM uint64
	kkBase, nikBase  time.Time
}

const (
	kkDays  = 10950 // 1995-01-01 + 30 years
	nikDays = 20454 // 1950-01-01 + 56 years
	serials = 9999
)

func newIdentity(seed uint64) *identity {
	id := &identity{
		kkM:     kkDays * serials,
		nikM:    nikDays * serials,
		kkBase:  time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC),
		nikBase: time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	h := mix64(seed ^ mix64(tagIdentity))
	// Multipliers near M/φ spread consecutive households far apart (a Weyl
	// sequence), so neighbouring rows do not get neighbouring dates.
	id.kkA = coprime(uint64(float64(id.kkM)*0.6180339887)+2*(h%1000), id.kkM)
	id.kkB = mix64(h+1) % id.kkM
	id.nikA = coprime(uint64(float64(id.nikM)*0.6180339887)+2*(mix64(h+2)%1000), id.nikM)
	id.nikB = mix64(h+3) % id.nikM
	return id
}

// coprime returns the first odd number ≥ a that is coprime with m.
func coprime(a, m uint64) uint64 {
	a |= 1
	for gcd(a, m) != 1 {
		a += 2
	}
	return a
}

// mulMod returns a*b mod m without overflow.
func mulMod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, rem := bits.Div64(hi%m, lo, m)
	return rem
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (id *identity) kk(kec string, idx int) string {
	x := mulMod(uint64(idx)%id.kkM, id.kkA, id.kkM) + id.kkB
	x %= id.kkM
	return idNumber(kec, id.kkBase.AddDate(0, 0, int(x/serials)), 0, int(x%serials)+1)
}

func (id *identity) nik(kec string, idx int, female bool) string {
	x := mulMod(uint64(idx)%id.nikM, id.nikA, id.nikM) + id.nikB
	x %= id.nikM
	dayOffset := 0
	if female {
		dayOffset = 40
	}
	return idNumber(kec, id.nikBase.AddDate(0, 0, int(x/serials)), dayOffset, int(x%serials)+1)
}

// idNumber formats "9901" + kec + DDMMYY (DD + dayOffset) + serial (4 digits).
func idNumber(kec string, d time.Time, dayOffset, serial int) string {
	var b [16]byte
	buf := append(b[:0], "9901"...)
	buf = append(buf, kec...)
	buf = appendPad(buf, d.Day()+dayOffset, 2)
	buf = appendPad(buf, int(d.Month()), 2)
	buf = appendPad(buf, d.Year()%100, 2)
	buf = appendPad(buf, serial, 4)
	return string(buf)
}

// appendPad appends the non-negative n with at least width digits.
func appendPad(b []byte, n, width int) []byte {
	var d [20]byte
	i := len(d)
	for n > 0 || i == len(d) {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	for len(d)-i < width {
		i--
		d[i] = '0'
	}
	return append(b, d[i:]...)
}

// Ways WriteHouseholdsCSV spoils rows, used in rotation.
const (
	spoilSwapped      = iota // latitude and longitude swapped
	spoilWordCount           // a count written as a word ("tiga")
	spoilFarCoords           // 0,0 or far outside the regency
	spoilStunted             // more stunted children than under-fives
	spoilDuplicateID         // the id of an earlier row
	spoilMissingField        // one column fewer
	spoilDecimalComma        // "107,123456"
	spoilBlankCoords         // empty longitude and latitude
	spoilLatin1              // the head's name in Latin-1 (Windows-1252) inside a UTF-8 file
	numSpoils
)

var numberWords = [...]string{"nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"}

// WriteHouseholdsCSV writes the households of Households(villages, opt, …)
// as CSV with HouseholdCSVHeader first: coordinates with 6 decimals,
// miskin_ekstrem as 1/0, penganggur = UnemployedAdults.
//
// A share opt.Dirty of the rows (chosen by a hash of seed and row number) is
// spoiled the way real registers are, in rotation: latitude/longitude
// swapped; a count written as a word ("tiga"); coordinates 0,0 or far
// outside (sign dropped, decimal point shifted); balita_stunting greater
// than balita; the id of an earlier row; a missing column; a decimal comma
// in the coordinates ("107,123456"); blank coordinates; the head's name in Latin-1
// (mixed encodings: the file is then not valid UTF-8). Quoting stays valid CSV.
func WriteHouseholdsCSV(w io.Writer, villages []Village, opt HouseholdOptions) error {
	if !(opt.Dirty >= 0 && opt.Dirty <= 1) {
		return fmt.Errorf("synth: Dirty must be in [0, 1], got %v", opt.Dirty)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(HouseholdCSVHeader); err != nil {
		return err
	}
	dr := newRand(opt.Seed, tagDirty, 0)
	dirtySalt := mix64(opt.Seed ^ mix64(tagDirty))
	var recent [16]string
	row, spoiled := 0, 0
	rec := make([]string, len(HouseholdCSVHeader))
	err := Households(villages, opt, func(h Household) error {
		rec = rec[:len(HouseholdCSVHeader)]
		householdRecord(rec, h)
		out := rec
		if opt.Dirty > 0 && unitFloat(mix64(dirtySalt+uint64(row)*0x9e3779b97f4a7c15)) < opt.Dirty {
			kind := spoiled % numSpoils
			if kind == spoilDuplicateID && row == 0 {
				kind = spoilSwapped
			}
			out = spoil(dr, rec, kind, recent[:min(row, len(recent))])
			spoiled++
		}
		recent[row%len(recent)] = out[0] // the id as written
		row++
		return cw.Write(out)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// householdRecord fills rec (len(HouseholdCSVHeader)) with h's fields.
func householdRecord(rec []string, h Household) {
	rec[0] = h.ExternalID
	rec[1] = h.KK
	rec[2] = h.NIK
	rec[3] = h.HeadName
	rec[4] = h.Address
	rec[5] = h.VillageCode
	rec[6] = strconv.FormatFloat(h.Lon, 'f', 6, 64)
	rec[7] = strconv.FormatFloat(h.Lat, 'f', 6, 64)
	rec[8] = strconv.Itoa(h.Members)
	rec[9] = strconv.Itoa(h.ChildrenU5)
	rec[10] = strconv.Itoa(h.Stunted)
	rec[11] = "0"
	if h.ExtremePoor {
		rec[11] = "1"
	}
	rec[12] = strconv.Itoa(h.Decile)
	rec[13] = strconv.Itoa(h.UnemployedAdults)
}

// spoil damages rec in the given way and returns the record to write.
func spoil(r *rand.Rand, rec []string, kind int, earlierIDs []string) []string {
	const lon, lat = 6, 7
	switch kind {
	case spoilSwapped:
		rec[lon], rec[lat] = rec[lat], rec[lon]
	case spoilWordCount:
		col := 8 // jumlah_anggota
		if r.IntN(3) == 0 {
			col = 9 // balita
		}
		n, _ := strconv.Atoi(rec[col])
		rec[col] = numberWords[min(max(n, 0), len(numberWords)-1)]
	case spoilFarCoords:
		switch r.IntN(3) {
		case 0:
			rec[lon], rec[lat] = "0", "0"
		case 1:
			rec[lat] = strings.TrimPrefix(rec[lat], "-") // sign dropped: northern hemisphere
		default:
			v, _ := strconv.ParseFloat(rec[lon], 64)
			rec[lon] = strconv.FormatFloat(v/10, 'f', 6, 64) // decimal point shifted
		}
	case spoilStunted:
		n, _ := strconv.Atoi(rec[9])
		rec[10] = strconv.Itoa(n + 1 + r.IntN(2))
	case spoilDuplicateID:
		rec[0] = earlierIDs[r.IntN(len(earlierIDs))]
	case spoilMissingField:
		cols := [...]int{4, 12, 13} // alamat, desil, penganggur
		c := cols[r.IntN(len(cols))]
		copy(rec[c:], rec[c+1:])
		rec = rec[:len(rec)-1]
	case spoilDecimalComma:
		rec[lon] = strings.Replace(rec[lon], ".", ",", 1)
		rec[lat] = strings.Replace(rec[lat], ".", ",", 1)
	case spoilBlankCoords:
		rec[lon], rec[lat] = "", ""
	case spoilLatin1:
		// A row pasted from a spreadsheet saved in Windows-1252: "é" as the single byte 0xE9.
		rec[3] += " Andr\xe9"
	}
	return rec
}
