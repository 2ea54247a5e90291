package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Severities of findings. An error finding stops an import (nothing is written);
// warnings and notes are kept in the set's report.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding is one line of a validation report about one feature (Feature is its
// 1-based position in the file) or about the whole file (Feature 0).
type Finding struct {
	Feature  int    `json:"feature"`
	Code     string `json:"code,omitempty"`
	Name     string `json:"name,omitempty"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Detail   string `json:"detail"`
}

// stagedFeature is a feature accepted by the reader, with its position in the file.
type stagedFeature struct {
	BoundaryFeature
	ord      int
	promoted bool
}

// parsedBoundaries is what the reader makes of a file before the database sees it.
type parsedBoundaries struct {
	feats    []stagedFeature
	findings []Finding
	total    int // features in the file, accepted or not
	srid     int // declared CRS (0: none)
	crsName  string
	bound    orb.Bound
}

var epsgCode = regexp.MustCompile(`(?i)EPSG:{1,2}(?:[0-9.]*:)?(\d{4,6})$`)

// parseSRS turns "EPSG:32748", "urn:ogc:def:crs:EPSG::32748", "CRS84" or "4326" into an SRID.
func parseSRS(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	up := strings.ToUpper(s)
	if strings.HasSuffix(up, "CRS84") || strings.HasSuffix(up, "CRS:84") {
		return 4326, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n, nil
	}
	if m := epsgCode.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, nil
	}
	return 0, fmt.Errorf("CRS %q is not understood (use EPSG:N, e.g. EPSG:32748 for UTM 48S)", s)
}

// crsMember is the (pre-RFC 7946) "crs" member of a FeatureCollection.
type crsMember struct {
	Type       string `json:"type"`
	Properties struct {
		Name string          `json:"name"`
		Code json.RawMessage `json:"code"`
	} `json:"properties"`
}

func (c *crsMember) String() string {
	if c == nil {
		return ""
	}
	if c.Properties.Name != "" {
		return c.Properties.Name
	}
	if len(c.Properties.Code) > 0 {
		return "EPSG:" + strings.Trim(string(c.Properties.Code), `"`)
	}
	return ""
}

// The reader decodes the document structure with encoding/json but leaves each
// geometry's coordinates raw and scans them with a small number parser: that is
// where a national file's bytes are, and it is several times faster than
// decoding them through interfaces.
type rawCollection struct {
	Type     string       `json:"type"`
	CRS      *crsMember   `json:"crs"`
	Features []rawFeature `json:"features"`
}

type rawFeature struct {
	Properties map[string]any `json:"properties"`
	Geometry   *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

// parseBoundaryFeatures reads a GeoJSON FeatureCollection. Problems with one
// feature become findings (so one run reports all of them); only a file that
// cannot be read at all is an error.
func parseBoundaryFeatures(raw []byte, source, level string, fm FieldMap) (*parsedBoundaries, error) {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, fmt.Errorf("%s: berkas kosong (the file is empty)", source)
	}
	var fc rawCollection
	if err := json.Unmarshal(raw, &fc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: bukan GeoJSON yang sah (not a GeoJSON FeatureCollection): %v at byte %d", source, se, se.Offset)
		}
		return nil, fmt.Errorf("%s: bukan GeoJSON yang sah (not a GeoJSON FeatureCollection): %w", source, err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("%s: bukan GeoJSON yang sah (not a GeoJSON FeatureCollection): type is %q", source, fc.Type)
	}
	if len(fc.Features) == 0 {
		return nil, fmt.Errorf("%s: the FeatureCollection has no features", source)
	}
	p := &parsedBoundaries{total: len(fc.Features), bound: orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}}
	if name := fc.CRS.String(); name != "" {
		var err error
		p.crsName = name
		if p.srid, err = parseSRS(name); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
	}
	p.feats = make([]stagedFeature, 0, len(fc.Features))
	for i, f := range fc.Features {
		ord := i + 1
		bf := recogniseFields(geojson.Properties(f.Properties), level, fm)
		reject := func(kind, detail string) {
			p.findings = append(p.findings, Finding{Feature: ord, Code: bf.Code, Name: bf.Name, Kind: kind, Severity: SeverityError, Detail: detail})
		}
		var mp orb.MultiPolygon
		promoted := false
		var err error
		switch {
		case f.Geometry == nil || string(f.Geometry.Coordinates) == "null" && f.Geometry.Type == "":
			reject("null_geometry", "geometri kosong/null (geometry is null); rejected")
			continue
		case f.Geometry.Type == "Polygon":
			var poly orb.Polygon
			sc := coordScanner{b: f.Geometry.Coordinates}
			poly, err = sc.polygon()
			mp, promoted = orb.MultiPolygon{poly}, true
		case f.Geometry.Type == "MultiPolygon":
			sc := coordScanner{b: f.Geometry.Coordinates}
			mp, err = sc.multiPolygon()
		default:
			t := f.Geometry.Type
			reject("non_polygon", fmt.Sprintf("geometri %s, bukan poligon (geometry is a %s, want Polygon or MultiPolygon); rejected", t, t))
			continue
		}
		if err != nil {
			reject("bad_coordinates", fmt.Sprintf("koordinat rusak (malformed coordinates: %v); rejected", err))
			continue
		}
		if msg := checkRings(&mp); msg != "" {
			reject("empty_geometry", msg+"; rejected")
			continue
		}
		for _, poly := range mp {
			for _, r := range poly {
				for _, pt := range r {
					p.bound = p.bound.Extend(pt)
				}
			}
		}
		bf.Geom = mp
		p.feats = append(p.feats, stagedFeature{BoundaryFeature: bf, ord: ord, promoted: promoted})
	}
	return p, nil
}

// coordScanner parses GeoJSON coordinate arrays (already validated as JSON).
type coordScanner struct {
	b []byte
	i int
}

func (s *coordScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\n', '\t', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *coordScanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *coordScanner) expect(c byte) error {
	if s.peek() != c {
		return fmt.Errorf("expected %q at offset %d", c, s.i)
	}
	s.i++
	return nil
}

// list calls item for each element of a JSON array.
func (s *coordScanner) list(item func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return fmt.Errorf("expected ',' or ']' at offset %d", s.i)
		}
	}
}

func (s *coordScanner) number() (float64, error) {
	s.ws()
	j := s.i
	for j < len(s.b) && (s.b[j] >= '0' && s.b[j] <= '9' || s.b[j] == '-' || s.b[j] == '+' || s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E') {
		j++
	}
	f, err := strconv.ParseFloat(string(s.b[s.i:j]), 64)
	if err != nil {
		return 0, fmt.Errorf("not a number at offset %d", s.i)
	}
	s.i = j
	return f, nil
}

// position reads [x, y] or [x, y, z…], keeping x and y.
func (s *coordScanner) position() (orb.Point, error) {
	var p orb.Point
	n := 0
	err := s.list(func() error {
		f, err := s.number()
		if n < 2 {
			p[n] = f
		}
		n++
		return err
	})
	if err == nil && n < 2 {
		err = fmt.Errorf("a position needs two numbers, got %d", n)
	}
	return p, err
}

func (s *coordScanner) ring() (orb.Ring, error) {
	r := make(orb.Ring, 0, 32)
	err := s.list(func() error {
		p, err := s.position()
		r = append(r, p)
		return err
	})
	return r, err
}

func (s *coordScanner) polygon() (orb.Polygon, error) {
	var poly orb.Polygon
	err := s.list(func() error {
		r, err := s.ring()
		poly = append(poly, r)
		return err
	})
	return poly, err
}

func (s *coordScanner) multiPolygon() (orb.MultiPolygon, error) {
	var mp orb.MultiPolygon
	err := s.list(func() error {
		p, err := s.polygon()
		mp = append(mp, p)
		return err
	})
	return mp, err
}

// orientRFC7946 makes exterior rings counter-clockwise and holes clockwise in
// place (as ST_ForcePolygonCCW would) and says whether anything was reversed.
func orientRFC7946(mp orb.MultiPolygon) bool {
	changed := false
	for _, poly := range mp {
		for j, r := range poly {
			want := orb.CCW
			if j > 0 {
				want = orb.CW
			}
			if o := r.Orientation(); o != 0 && o != want {
				r.Reverse()
				changed = true
			}
		}
	}
	return changed
}

// checkRings closes unclosed rings in place and says what is wrong with a
// geometry that has no usable ring ("" when it is fine).
func checkRings(mp *orb.MultiPolygon) string {
	if len(*mp) == 0 {
		return "geometri kosong (empty geometry)"
	}
	for i, poly := range *mp {
		if len(poly) == 0 {
			return fmt.Sprintf("polygon %d is empty", i+1)
		}
		for j, r := range poly {
			for _, pt := range r {
				if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0) {
					return "a coordinate is not a number"
				}
			}
			if len(r) > 0 && r[0] != r[len(r)-1] {
				r = append(r, r[0])
				(*mp)[i][j] = r
			}
			if len(r) < 4 {
				return fmt.Sprintf("polygon %d ring %d has %d positions, a ring needs at least 4", i+1, j+1, len(r))
			}
		}
	}
	return ""
}

// Field names recognised in boundary files, by level, most specific first.
var (
	desaCodeFields = []string{"kode_desa", "kode_kemendagri", "kdepum", "kd_desa", "kode_kel", "kode", "code", "kode_wilayah"}
	desaNameFields = []string{"nama_desa", "namobj", "wadmkd", "desa", "nama_kel", "nama", "name", "village"}
	kecCodeLevel   = []string{"kode_kecamatan", "kode_kecam", "kdcpum", "kd_kec", "kode_kec", "kode", "code", "kode_wilayah"}
	kecNameLevel   = []string{"nama_kecamatan", "nama_kecam", "wadmkc", "kecamatan", "nama_kec", "namobj", "nama", "name", "district"}
)

// recogniseFields fills code, name, parent and kind from a feature's properties.
func recogniseFields(props geojson.Properties, level string, fm FieldMap) BoundaryFeature {
	bf := BoundaryFeature{Props: map[string]any(props)}
	if bf.Props == nil {
		bf.Props = map[string]any{}
	}
	if level == LevelKecamatan {
		bf.Code = pick(props, fm.Code, kecCodeLevel)
		bf.Name = pick(props, fm.Name, kecNameLevel)
		return bf
	}
	bf.Code = pick(props, fm.Code, desaCodeFields)
	bf.Name = pick(props, fm.Name, desaNameFields)
	bf.KecCode = pick(props, fm.Parent, kecCodeFields)
	bf.KecName = pick(props, "", kecNameFields)
	bf.Kind = strings.ToLower(pick(props, "", kindFields))
	return bf
}

// finishVillageFields derives what a village's code implies once the code is known.
func finishVillageFields(bf *BoundaryFeature) {
	if bf.KecCode == "" && len(bf.Code) >= 8 {
		bf.KecCode = bf.Code[:8] // a village code starts with its kecamatan's code
	}
	if bf.Kind != "desa" && bf.Kind != "kelurahan" {
		bf.Kind = kindFromCode(bf.Code)
	}
	if bf.Name == "" {
		bf.Name = bf.Code
	}
}

// Kemendagri code shapes.
var (
	desaCodeRe = regexp.MustCompile(`^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}$`)
	kecCodeRe  = regexp.MustCompile(`^\d{2}\.\d{2}\.\d{2}$`)
)

func codeWellFormed(level, code string) bool {
	if level == LevelKecamatan {
		return kecCodeRe.MatchString(code)
	}
	return desaCodeRe.MatchString(code)
}

// normName folds a place name for matching: lower case, letters and digits only,
// without the words desa/kelurahan/kecamatan — "Cabang Bungin" = "Cabangbungin".
func normName(s string) string {
	s = strings.ToLower(s)
	for _, w := range []string{"kelurahan ", "kecamatan ", "desa ", "kel. ", "kec. "} {
		s = strings.TrimPrefix(s, w)
	}
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// axisCheck decides what the coordinates are. It returns "" when they are
// longitude/latitude, "swapped" when they look like latitude/longitude, and
// "projected" when they are outside the geographic range.
func axisCheck(b orb.Bound, region *orb.Bound) string {
	geographic := b.Min[0] >= -180 && b.Max[0] <= 180 && b.Min[1] >= -90 && b.Max[1] <= 90
	swappedOK := b.Min[1] >= -180 && b.Max[1] <= 180 && b.Min[0] >= -90 && b.Max[0] <= 90
	if !geographic {
		if swappedOK {
			return "swapped"
		}
		return "projected"
	}
	if region != nil && !region.Intersects(b) && swappedOK {
		sw := orb.Bound{Min: orb.Point{b.Min[1], b.Min[0]}, Max: orb.Point{b.Max[1], b.Max[0]}}
		if region.Intersects(sw) {
			return "swapped"
		}
	}
	return ""
}

// swapXY swaps every coordinate of mp in place.
func swapXY(mp orb.MultiPolygon) {
	for _, poly := range mp {
		for _, r := range poly {
			for k := range r {
				r[k][0], r[k][1] = r[k][1], r[k][0]
			}
		}
	}
}
