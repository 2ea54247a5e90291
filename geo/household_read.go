package geo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Household fields a register file may carry, in a fixed order.
const (
	fID = iota
	fKK
	fNIK
	fName
	fAddress
	fVillage
	fLon
	fLat
	fMembers
	fU5
	fStunted
	fPoor
	fDecile
	fUnemployed
	numFields
)

// fieldNames are the canonical (generator) column names, used in reject reasons.
var fieldNames = [numFields]string{"id_keluarga", "no_kk", "nik", "nama_kepala", "alamat", "kode_desa", "longitude",
	"latitude", "jumlah_anggota", "balita", "balita_stunting", "miskin_ekstrem", "desil", "penganggur"}

// fieldAliases maps a normalised column name (lower case, letters and digits only)
// to a field. The generator's Indonesian header, common English names and the
// spellings seen in P3KE/e-PPGBM exports are all accepted.
var fieldAliases = func() map[string]int {
	m := map[string]int{}
	add := func(f int, names ...string) {
		for _, n := range names {
			m[normHeader(n)] = f
		}
	}
	add(fID, "id_keluarga", "id", "external_id", "household_id", "id_rumah_tangga", "id_rt", "idrt", "id_keluarga_p3ke", "id_household", "record_id")
	add(fKK, "no_kk", "nomor_kk", "kk", "no_kartu_keluarga", "family_card", "family_card_number", "kk_number")
	add(fNIK, "nik", "nik_kepala", "nik_kepala_keluarga", "head_nik", "national_id")
	add(fName, "nama_kepala", "nama_kepala_keluarga", "nama_krt", "nama", "head_name", "name", "head_of_household")
	add(fAddress, "alamat", "alamat_lengkap", "address")
	add(fVillage, "kode_desa", "kode_desa_kemendagri", "kode_kelurahan", "kode_wilayah", "village_code", "desa_code")
	add(fLon, "longitude", "lon", "lng", "long", "bujur", "x")
	add(fLat, "latitude", "lat", "lintang", "y")
	add(fMembers, "jumlah_anggota", "jumlah_anggota_keluarga", "jumlah_art", "jml_art", "anggota", "members", "household_size", "family_size")
	add(fU5, "balita", "jumlah_balita", "jml_balita", "children_u5", "children_under_five", "under_five", "under5")
	add(fStunted, "balita_stunting", "jumlah_stunting", "stunting", "stunted", "stunted_children")
	add(fPoor, "miskin_ekstrem", "kemiskinan_ekstrem", "status_miskin_ekstrem", "extreme_poor", "extreme_poverty")
	add(fDecile, "desil", "desil_kesejahteraan", "decile", "poverty_decile", "welfare_decile")
	add(fUnemployed, "penganggur", "jumlah_penganggur", "pengangguran", "unemployed", "unemployed_adults")
	return m
}()

func normHeader(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Reject is one row of a register file that was not loaded. It never holds a NIK,
// No. KK, name or address: only the row, the household id and the reason.
type Reject struct {
	Row    int64  `json:"row"` // line in a CSV (the header is line 1), feature number in GeoJSON
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// Extent is a lon/lat box; rows outside it are rejected as outside the regency.
type Extent struct{ MinLon, MinLat, MaxLon, MaxLat float64 }

func (e *Extent) contains(lon, lat float64) bool {
	return e != nil && lon >= e.MinLon && lon <= e.MaxLon && lat >= e.MinLat && lat <= e.MaxLat
}

// ReaderOptions configure a HouseholdReader.
type ReaderOptions struct {
	Key HashKey // hashes NIK and No. KK as they are read; required
	// Extent, when set, rejects rows outside it (the regency plus a margin).
	Extent *Extent
	// OnReject receives every rejected row as it is found (e.g. to stream a report).
	OnReject func(Reject)
}

// HouseholdReader reads households from a CSV or GeoJSON register file one row at
// a time, in constant memory. Identity numbers are hashed on the way in; rows that
// fail a check become Rejects and reading goes on.
type HouseholdReader struct {
	name  string
	opt   ReaderOptions
	br    *bufio.Reader
	count *countingReader
	// CSV
	cr   *csv.Reader
	cols [numFields]int // column index per field, -1 when absent
	nhdr int
	// GeoJSON
	dec  *json.Decoder
	feat int64

	geojson  bool
	hasher   *IDHasher
	Rows     int64 // data rows seen
	Rejected int64
	NoCoords int64 // rows loaded without a location
	// Ignored lists header columns that map to no field.
	Ignored []string
	raw     [numFields]string
	has     [numFields]bool
	// Extra yes/no flags: columns (or properties) named flag_<name> or bendera_<name>.
	flagCols []flagCol
	flagRaw  []flagCol
}

// flagCol is an extra flag column: its name and, per row, its index or raw value.
type flagCol struct {
	name string
	idx  int
	raw  string
}

var flagNameRe = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// flagName returns the flag a header names ("flag_disabilitas" → "disabilitas"), or "".
func flagName(header string) string {
	h := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header, "\ufeff")))
	for _, p := range []string{"flag_", "bendera_"} {
		if n, ok := strings.CutPrefix(h, p); ok && flagNameRe.MatchString(n) {
			return n
		}
	}
	return ""
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// BytesRead is how much of the input has been consumed (for progress and ETA).
func (h *HouseholdReader) BytesRead() int64 { return h.count.n }

// NewHouseholdReader opens a register for reading. name (the file name) appears in
// every error. The format is GeoJSON when the content starts with '{', else CSV
// (UTF-8 with or without BOM; comma or semicolon separated, detected from the header).
func NewHouseholdReader(r io.Reader, name string, opt ReaderOptions) (*HouseholdReader, error) {
	if len(opt.Key) == 0 {
		return nil, errors.New("household reader: no hash key")
	}
	h := &HouseholdReader{name: name, opt: opt, count: &countingReader{r: r}, hasher: opt.Key.NewHasher()}
	h.br = bufio.NewReaderSize(h.count, 1<<16)
	if b, err := h.br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = h.br.Discard(3)
	}
	if b, _ := h.br.Peek(2); bytes.Equal(b, []byte("\xff\xfe")) || bytes.Equal(b, []byte("\xfe\xff")) {
		return nil, fmt.Errorf("%s: berkas UTF-16; simpan sebagai CSV UTF-8 (the file is UTF-16: save it as CSV UTF-8)", name)
	}
	first, err := h.firstNonSpace()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: berkas kosong (the file is empty)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if first == '{' {
		h.geojson = true
		return h, h.openGeoJSON()
	}
	return h, h.openCSV()
}

func (h *HouseholdReader) firstNonSpace() (byte, error) {
	for i := 1; ; i++ {
		b, err := h.br.Peek(i)
		if len(b) < i {
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		c := b[i-1]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, nil
		}
		if i > 4096 {
			return 0, io.EOF
		}
	}
}

func (h *HouseholdReader) openCSV() error {
	// Detect the separator from the header line: whichever of ';' and ',' is more frequent.
	line, _ := h.br.Peek(h.br.Buffered())
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	comma := ','
	if bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		comma = ';'
	}
	h.cr = csv.NewReader(h.br)
	h.cr.Comma = comma
	h.cr.FieldsPerRecord = -1
	h.cr.ReuseRecord = true
	header, err := h.cr.Read()
	if err != nil {
		return fmt.Errorf("%s: baris 1 (header): %w", h.name, err)
	}
	h.nhdr = len(header)
	for i := range h.cols {
		h.cols[i] = -1
	}
	for i, c := range header {
		if !utf8.ValidString(c) {
			return fmt.Errorf("%s: baris 1 (header): kolom %d bukan UTF-8 (column %d is not UTF-8; save the file as UTF-8)", h.name, i+1, i+1)
		}
		if n := flagName(c); n != "" {
			h.flagCols = append(h.flagCols, flagCol{name: n, idx: i})
			continue
		}
		f, ok := fieldAliases[normHeader(c)]
		if !ok {
			h.Ignored = append(h.Ignored, strings.TrimSpace(c))
			continue
		}
		if h.cols[f] >= 0 {
			return fmt.Errorf("%s: baris 1 (header): kolom %q dan %q sama-sama berarti %s (columns %q and %q both mean %s)",
				h.name, header[h.cols[f]], c, fieldNames[f], header[h.cols[f]], c, fieldNames[f])
		}
		h.cols[f] = i
	}
	return h.checkColumns()
}

func (h *HouseholdReader) checkColumns() error {
	if h.cols[fID] < 0 {
		return fmt.Errorf("%s: header tanpa kolom id rumah tangga (the header has no household id column, e.g. id_keluarga)", h.name)
	}
	if h.cols[fLon] < 0 || h.cols[fLat] < 0 {
		return fmt.Errorf("%s: header tanpa kolom koordinat (the header has no longitude/latitude columns)", h.name)
	}
	return nil
}

func (h *HouseholdReader) openGeoJSON() error {
	h.dec = json.NewDecoder(h.br)
	h.dec.UseNumber()
	for i := range h.cols {
		h.cols[i] = i // every field may come from properties or the geometry
	}
	// Walk to the "features" array without decoding the whole document.
	tok, err := h.dec.Token()
	if err != nil || tok != json.Delim('{') {
		return fmt.Errorf("%s: bukan GeoJSON (not a GeoJSON object): %v", h.name, err)
	}
	for h.dec.More() {
		k, err := h.dec.Token()
		if err != nil {
			return fmt.Errorf("%s: GeoJSON: %w", h.name, err)
		}
		if k == "features" {
			t, err := h.dec.Token()
			if err != nil || t != json.Delim('[') {
				return fmt.Errorf("%s: GeoJSON: features is not an array", h.name)
			}
			return nil
		}
		var skip json.RawMessage
		if err := h.dec.Decode(&skip); err != nil {
			return fmt.Errorf("%s: GeoJSON: %w", h.name, err)
		}
	}
	return fmt.Errorf("%s: GeoJSON tanpa features (no features array)", h.name)
}

func (h *HouseholdReader) reject(row int64, id, reason string) {
	h.Rejected++
	if h.opt.OnReject != nil {
		h.opt.OnReject(Reject{Row: row, ID: safeID(id), Reason: reason})
	}
}

// safeID keeps an id for the reject report unless it could be an identity number
// (a register that uses the NIK or No. KK as its id must not leak it).
func safeID(id string) string {
	digits := 0
	for i := 0; i < len(id); i++ {
		if id[i] >= '0' && id[i] <= '9' {
			digits++
		}
	}
	if digits >= 12 || len(id) > 64 || !utf8.ValidString(id) {
		return ""
	}
	return id
}

// Next returns the next good record; ok is false at the end. Rejected rows are
// reported through OnReject (and the returned rejected record, with Rejected set, so
// the importer can tell that the id was present). A non-nil error ends the file.
func (h *HouseholdReader) Next() (rec HouseholdRecord, ok bool, err error) {
	if h.geojson {
		return h.nextGeoJSON()
	}
	for {
		fields, err := h.cr.Read()
		if err == io.EOF {
			return rec, false, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			h.Rows++
			h.reject(int64(pe.StartLine), "", "CSV rusak (malformed CSV): "+pe.Err.Error())
			continue
		}
		if err != nil {
			return rec, false, fmt.Errorf("%s: setelah %d baris (after %d rows): %w", h.name, h.Rows, h.Rows, err)
		}
		line, _ := h.cr.FieldPos(0)
		row := int64(line)
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // blank line
		}
		h.Rows++
		if len(fields) != h.nhdr {
			id := ""
			if h.cols[fID] < len(fields) {
				id = strings.TrimSpace(fields[h.cols[fID]])
			}
			h.reject(row, id, fmt.Sprintf("%d kolom, header punya %d (%d fields, the header has %d)", len(fields), h.nhdr, len(fields), h.nhdr))
			return HouseholdRecord{ExternalID: id, Line: row, Rejected: true}, true, nil
		}
		for f := range numFields {
			c := h.cols[f]
			h.has[f] = c >= 0
			if c >= 0 {
				h.raw[f] = fields[c]
			} else {
				h.raw[f] = ""
			}
		}
		h.flagRaw = h.flagRaw[:0]
		for _, fc := range h.flagCols {
			h.flagRaw = append(h.flagRaw, flagCol{name: fc.name, raw: fields[fc.idx]})
		}
		rec := h.convert(row)
		return rec, true, nil
	}
}

func (h *HouseholdReader) nextGeoJSON() (HouseholdRecord, bool, error) {
	if !h.dec.More() {
		return HouseholdRecord{}, false, nil
	}
	h.feat++
	h.Rows++
	var f struct {
		Type       string         `json:"type"`
		ID         any            `json:"id"`
		Properties map[string]any `json:"properties"`
		Geometry   *struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	}
	if err := h.dec.Decode(&f); err != nil {
		return HouseholdRecord{}, false, fmt.Errorf("%s: fitur %d (feature %d): %w", h.name, h.feat, h.feat, err)
	}
	for i := range h.raw {
		h.raw[i], h.has[i] = "", false
	}
	h.flagRaw = h.flagRaw[:0]
	for k, v := range f.Properties {
		if n := flagName(k); n != "" && v != nil {
			h.flagRaw = append(h.flagRaw, flagCol{name: n, raw: fmt.Sprint(v)})
			continue
		}
		fi, ok := fieldAliases[normHeader(k)]
		if !ok || v == nil {
			continue
		}
		h.has[fi] = true
		switch x := v.(type) {
		case string:
			h.raw[fi] = x
		case json.Number:
			h.raw[fi] = x.String()
		case bool:
			h.raw[fi] = strconv.FormatBool(x)
		default:
			h.raw[fi] = fmt.Sprint(x)
		}
	}
	if !h.has[fID] && f.ID != nil {
		h.raw[fID], h.has[fID] = fmt.Sprint(f.ID), true
	}
	if f.Geometry != nil {
		var xy []json.Number
		if f.Geometry.Type != "Point" || json.Unmarshal(f.Geometry.Coordinates, &xy) != nil || len(xy) < 2 {
			id := strings.TrimSpace(h.raw[fID])
			h.reject(h.feat, id, "geometri bukan titik (geometry is not a Point)")
			return HouseholdRecord{ExternalID: id, Line: h.feat, Rejected: true}, true, nil
		}
		h.raw[fLon], h.raw[fLat] = xy[0].String(), xy[1].String()
		h.has[fLon], h.has[fLat] = true, true
	}
	return h.convert(h.feat), true, nil
}

// fail returns the rejected form of a record: only its id and line go on, so the
// importer knows the id was present in the file (for --retire-missing).
func (h *HouseholdRecord) fail() HouseholdRecord {
	return HouseholdRecord{ExternalID: h.ExternalID, Line: h.Line, Rejected: true}
}

// convert checks h.raw and builds a record, or a rejected record.
func (h *HouseholdReader) convert(row int64) HouseholdRecord {
	rec := HouseholdRecord{Line: row, Lon: math.NaN(), Lat: math.NaN()}
	for f := range numFields {
		if h.has[f] && !utf8.ValidString(h.raw[f]) {
			rec.ExternalID = strings.TrimSpace(h.raw[fID])
			if !utf8.ValidString(rec.ExternalID) {
				rec.ExternalID = ""
			}
			h.reject(row, rec.ExternalID, fmt.Sprintf("%s bukan UTF-8 (%s is not UTF-8: mixed encodings?)", fieldNames[f], fieldNames[f]))
			return rec.fail()
		}
	}
	rec.ExternalID = strings.TrimSpace(h.raw[fID])
	if rec.ExternalID == "" {
		h.reject(row, "", "id kosong (empty household id)")
		return rec.fail()
	}
	bad := func(reason string) HouseholdRecord {
		h.reject(row, rec.ExternalID, reason)
		return rec.fail()
	}
	ints := [...]struct {
		f   int
		dst *int
	}{{fMembers, &rec.Members}, {fU5, &rec.ChildrenU5}, {fStunted, &rec.Stunted}, {fUnemployed, &rec.UnemployedAdults}, {fDecile, &rec.Decile}}
	for _, x := range ints {
		n, err := parseWhole(h.raw[x.f])
		if err != nil {
			return bad(numberReason(fieldNames[x.f], h.raw[x.f], err))
		}
		*x.dst = n
	}
	if rec.Decile > 10 {
		return bad(fmt.Sprintf("desil %d di luar 1–10 (decile %d is outside 1–10)", rec.Decile, rec.Decile))
	}
	if rec.Stunted > rec.ChildrenU5 {
		return bad(fmt.Sprintf("balita_stunting %d > balita %d (more stunted children than children under five)", rec.Stunted, rec.ChildrenU5))
	}
	if rec.Members > 0 && rec.ChildrenU5 > rec.Members {
		return bad(fmt.Sprintf("balita %d > jumlah_anggota %d (more under-fives than members)", rec.ChildrenU5, rec.Members))
	}
	if rec.Members > 0 && rec.UnemployedAdults > rec.Members-rec.ChildrenU5 {
		return bad(fmt.Sprintf("penganggur %d > anggota dewasa %d (more unemployed than adult members)", rec.UnemployedAdults, rec.Members-rec.ChildrenU5))
	}
	poor, err := parseFlag(h.raw[fPoor])
	if err != nil {
		return bad("miskin_ekstrem bukan ya/tidak (miskin_ekstrem is not a yes/no value)")
	}
	rec.ExtremePoor = poor
	for _, fc := range h.flagRaw {
		b, err := parseFlag(fc.raw)
		if err != nil || !utf8.ValidString(fc.raw) {
			return bad(fmt.Sprintf("flag_%s bukan ya/tidak (flag_%s is not a yes/no value)", fc.name, fc.name))
		}
		if rec.Flags == nil {
			rec.Flags = make(map[string]bool, len(h.flagRaw))
		}
		rec.Flags[fc.name] = b
	}
	ls, ts := strings.TrimSpace(h.raw[fLon]), strings.TrimSpace(h.raw[fLat])
	switch {
	case ls == "" && ts == "":
		h.NoCoords++ // kept without a location: counted as unassigned, never dropped
	case ls == "" || ts == "":
		return bad("hanya satu koordinat terisi (only one of longitude/latitude is given)")
	default:
		lon, err1 := parseCoord(ls)
		lat, err2 := parseCoord(ts)
		if err1 != nil {
			return bad(numberReason("longitude", ls, err1))
		}
		if err2 != nil {
			return bad(numberReason("latitude", ts, err2))
		}
		if r := h.checkCoords(lon, lat); r != "" {
			return bad(r)
		}
		rec.Lon, rec.Lat = lon, lat
	}
	rec.ReportedVillage = strings.TrimSpace(h.raw[fVillage])
	rec.HeadName = strings.TrimSpace(h.raw[fName])
	rec.Address = strings.TrimSpace(h.raw[fAddress])
	rec.KKHash = h.hasher.Sum(h.raw[fKK])
	rec.NIKHash = h.hasher.Sum(h.raw[fNIK])
	return rec
}

func (h *HouseholdReader) checkCoords(lon, lat float64) string {
	if lon == 0 && lat == 0 {
		return "koordinat 0,0 (coordinates 0,0: no location recorded)"
	}
	if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		if lat >= -180 && lat <= 180 && lon >= -90 && lon <= 90 {
			return "lintang dan bujur tertukar (latitude and longitude swapped)"
		}
		return "koordinat di luar rentang (coordinates out of range)"
	}
	e := h.opt.Extent
	if e == nil || e.contains(lon, lat) {
		return ""
	}
	if e.contains(lat, lon) {
		return "lintang dan bujur tertukar (latitude and longitude swapped)"
	}
	return fmt.Sprintf("di luar wilayah kabupaten (outside the regency's extent %.3f,%.3f – %.3f,%.3f)", e.MinLon, e.MinLat, e.MaxLon, e.MaxLat)
}

// numberReason says which field is not a number; the value is quoted only when it
// is short and cannot be an identity number or a name.
func numberReason(field, v string, err error) string {
	v = strings.TrimSpace(v)
	show := len(v) <= 12
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-.,eE ", r):
		default:
			show = false
		}
	}
	if digits >= 12 {
		show = false
	}
	what := err.Error()
	if show {
		return fmt.Sprintf("%s %q %s", field, v, what)
	}
	return field + " " + what
}

var (
	errNotNumber = errors.New("bukan angka (not a number)")
	errNegative  = errors.New("negatif (negative)")
)

// parseWhole parses a non-negative whole number; empty is 0. "3.0" is accepted.
func parseWhole(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1e6 {
			return 0, errNotNumber
		}
		n = int(f)
	}
	if n < 0 {
		return 0, errNegative
	}
	if n > 1000 {
		return 0, errors.New("terlalu besar (implausibly large)")
	}
	return n, nil
}

// parseCoord parses a decimal degree; a decimal comma ("107,1234", common in
// Indonesian spreadsheets) is accepted when there is no decimal point.
func parseCoord(s string) (float64, error) {
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errNotNumber
	}
	return v, nil
}

// parseFlag reads yes/no values: 1/0, ya/tidak, y/t, true/false, yes/no; empty is no.
func parseFlag(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "tidak", "n", "no", "false", "bukan":
		return false, nil
	case "1", "ya", "y", "yes", "true", "iya":
		return true, nil
	}
	return false, errNotNumber
}

// Pipelined runs next in its own goroutine, a batch of rows ahead, so that parsing
// and hashing overlap with encoding rows for COPY. Memory stays constant (a few
// batches). stop must be called when the consumer is done, even after an error.
func Pipelined(ctx context.Context, next func() (HouseholdRecord, bool, error)) (pull func() (HouseholdRecord, bool, error), stop func()) {
	const batch = 512
	type chunk struct {
		recs []HouseholdRecord
		err  error
	}
	ch := make(chan chunk, 8)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		for {
			c := chunk{recs: make([]HouseholdRecord, 0, batch)}
			done := false
			for len(c.recs) < batch {
				r, ok, err := next()
				if err != nil {
					c.err, done = err, true
					break
				}
				if !ok {
					done = true
					break
				}
				c.recs = append(c.recs, r)
			}
			select {
			case ch <- c:
			case <-quit:
				return
			case <-ctx.Done():
				return
			}
			if done {
				return
			}
		}
	}()
	var cur []HouseholdRecord
	var finalErr error
	finished := false
	pull = func() (HouseholdRecord, bool, error) {
		for len(cur) == 0 {
			if finished {
				return HouseholdRecord{}, false, finalErr
			}
			c, ok := <-ch
			if !ok {
				finished = true
				if finalErr == nil && ctx.Err() != nil {
					finalErr = ctx.Err()
				}
				continue
			}
			cur = c.recs
			if c.err != nil {
				finalErr = c.err
			}
		}
		r := cur[0]
		cur = cur[1:]
		return r, true, nil
	}
	var once sync.Once
	stop = func() {
		once.Do(func() { close(quit) })
		wg.Wait()
	}
	return pull, stop
}
