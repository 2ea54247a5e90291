package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/matching"
)

// exactRoles see exact aggregates; everyone else gets the disclosure-controlled
// view (DESIGN.md: companies always; officers and anything new by default).
func exactRole(r geo.Role) bool { return r == geo.RolePlanner || r == geo.RoleGIS }

// villageRow is a village with the score the caller may see.
type villageRow struct {
	geo.VillageSummary
	Score *matching.NeedScore `json:"score"`
}

// rankingView is a ranking prepared for one caller: scores exact or controlled.
type rankingView struct {
	rk         geo.Ranking
	rows       []villageRow
	disclosure string
}

// loadRanking reads the newest run of period, disclosure-controlled unless exact
// is true. Control is applied to the whole regency before any filter, so
// smoothing and ranks are the same on every page; the store builds each run's
// controlled table once (geo.Store.RankingView), not on every request.
func (s *Server) loadRanking(c *fiber.Ctx, period string, exact bool) (rankingView, error) {
	rk, err := s.web.RankingView(c.UserContext(), period, !exact)
	if errors.Is(err, geo.ErrNoScores) {
		return rankingView{}, problem(fiber.StatusNotFound, "belum ada skor untuk periode "+period+" (no scores for period "+period+")")
	}
	if err != nil {
		return rankingView{}, err
	}
	v := rankingView{rk: rk, rows: make([]villageRow, len(rk.Villages)), disclosure: "exact"}
	if !exact {
		v.disclosure = "controlled"
	}
	for i, rv := range rk.Villages {
		v.rows[i] = villageRow{VillageSummary: rv.VillageSummary, Score: rv.Score}
	}
	return v, nil
}

// wantExact decides the caller's view: planners and GIS staff see exact numbers
// on screen; their exports are controlled unless they ask with exact=true; other
// roles always get the controlled view.
func wantExact(c *fiber.Ctx, export bool) (bool, error) {
	u, _ := currentUser(c)
	if !exactRole(u.Role) {
		if c.QueryBool("exact") {
			return false, problem(fiber.StatusForbidden, "angka persis hanya untuk perencana (exact numbers are for planners only)")
		}
		return false, nil
	}
	if export {
		return c.QueryBool("exact"), nil
	}
	return true, nil
}

func (s *Server) villages(c *fiber.Ctx) error {
	format := c.Query("format", "json")
	switch format {
	case "json", "geojson", "csv", "xlsx":
	default:
		return problem(fiber.StatusBadRequest, "format "+strconv.Quote(format)+" tidak didukung (not supported; use json, csv, xlsx or geojson)")
	}
	sortKey := c.Query("sort", "m0")
	if !matching.ValidSortKey(sortKey) {
		return problem(fiber.StatusBadRequest, "sort "+strconv.Quote(sortKey)+" tidak dikenal (unknown sort key; use "+
			strings.Join(matching.SortKeys, ", ")+", sector:NAME or rate:NAME)")
	}
	limit, offset := c.QueryInt("limit", 0), c.QueryInt("offset", 0)
	if limit < 0 || offset < 0 {
		return problem(fiber.StatusBadRequest, "limit dan offset harus ≥ 0 (limit and offset must be ≥ 0)")
	}
	exact, err := wantExact(c, format == "csv" || format == "xlsx")
	if err != nil {
		return err
	}
	v, err := s.loadRanking(c, c.Query("period"), exact)
	if err != nil {
		return err
	}
	rows := filterRows(v.rows, c.Query("kecamatan"), c.Query("hotspot"))
	sortRows(rows, sortKey)
	total := len(rows)
	if offset > len(rows) {
		offset = len(rows)
	}
	rows = rows[offset:]
	if limit > 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	if u, _ := currentUser(c); exact && (format == "csv" || format == "xlsx") {
		if err := s.web.Audit(c.UserContext(), geo.AuditEntry{Actor: u.Name, Role: u.Role, Action: "villages.export_exact",
			Object: "format:" + format, RemoteAddr: c.IP(), Detail: map[string]any{"rows": len(rows)}}); err != nil {
			return err
		}
	}
	meta := v.meta()
	switch format {
	case "geojson":
		return s.villagesGeoJSON(c, rows, v.rk.Weights, meta)
	case "csv":
		return villagesCSV(c, rows, v.rk.Weights, meta)
	case "xlsx":
		return villagesXLSX(c, rows, v.rk.Weights, meta)
	}
	meta["sort"], meta["total"], meta["count"], meta["offset"], meta["limit"] = sortKey, total, len(rows), offset, limit
	meta["villages"] = rows
	return c.JSON(meta)
}

// meta names where a ranking came from: period, run, weights version, boundary set.
func (v rankingView) meta() fiber.Map {
	m := fiber.Map{"periods": v.rk.Periods, "stale": v.rk.Stale, "disclosure": v.disclosure,
		"period": nil, "run": nil, "weights_version": nil, "boundary_set": nil}
	if r := v.rk.Run; r != nil {
		m["period"], m["run"], m["weights_version"], m["boundary_set"] = r.Period, r.ID, r.WeightsID, r.SetID
		m["computed_at"] = r.CreatedAt
	}
	return m
}

func filterRows(rows []villageRow, kecamatan, hotspot string) []villageRow {
	out := make([]villageRow, 0, len(rows))
	k := strings.ToLower(strings.TrimSpace(kecamatan))
	for _, r := range rows {
		if k != "" && strings.ToLower(r.KecamatanCode) != k && strings.ToLower(r.KecamatanName) != k {
			continue
		}
		if hotspot != "" && (r.Score == nil || r.Score.HotSpot.Label != hotspot) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sortRows orders rows by key (descending; code ascending); unscored villages last.
func sortRows(rows []villageRow, key string) {
	scores := make([]matching.NeedScore, len(rows))
	byCode := make(map[string]villageRow, len(rows))
	for i, r := range rows {
		byCode[r.Code] = r
		if r.Score != nil {
			scores[i] = *r.Score
		} else {
			scores[i] = matching.NeedScore{Code: r.Code, M0EB: matching.NA, M0: matching.NA, H: matching.NA, HEB: matching.NA,
				Density: matching.NA, InNeed: matching.Suppressed, Households: matching.Suppressed}
		}
	}
	matching.SortScores(scores, key)
	for i, s := range scores {
		rows[i] = byCode[s.Code]
	}
}

// column is one flat attribute of a village row (CSV, XLSX, GeoJSON properties).
type column struct {
	key, header string
	get         func(r villageRow) any
}

func scoreCol(key, header string, f func(s *matching.NeedScore) any) column {
	return column{key, header, func(r villageRow) any {
		if r.Score == nil {
			return nil
		}
		return f(r.Score)
	}}
}

// columns lists the flat attributes; sector columns follow the weights' sectors.
func columns(w matching.Weights) []column {
	cols := []column{
		{"code", "Kode desa / Village code", func(r villageRow) any { return r.Code }},
		{"name", "Nama desa / Village", func(r villageRow) any { return r.Name }},
		{"kecamatan_code", "Kode kecamatan / District code", func(r villageRow) any { return r.KecamatanCode }},
		{"kecamatan_name", "Kecamatan / District", func(r villageRow) any { return r.KecamatanName }},
		{"kind", "Jenis / Kind", func(r villageRow) any { return r.Kind }},
		{"area_km2", "Luas km² / Area km²", func(r villageRow) any { return r.AreaKm2 }},
		scoreCol("rank", "Peringkat / Rank", func(s *matching.NeedScore) any { return s.Rank }),
		scoreCol("rank_kecamatan", "Peringkat di kecamatan / Rank in district", func(s *matching.NeedScore) any { return s.RankKecamatan }),
		scoreCol("households", "Jumlah KK / Households", func(s *matching.NeedScore) any { return s.Households }),
		scoreCol("in_need", "KK membutuhkan / Households in need", func(s *matching.NeedScore) any { return s.InNeed }),
		scoreCol("h", "H (rasio) / headcount ratio", func(s *matching.NeedScore) any { return s.H }),
		scoreCol("a", "A (intensitas) / intensity", func(s *matching.NeedScore) any { return s.A }),
		scoreCol("m0", "M0", func(s *matching.NeedScore) any { return s.M0 }),
		scoreCol("h_eb", "H dihaluskan / H smoothed (EB)", func(s *matching.NeedScore) any { return s.HEB }),
		scoreCol("m0_eb", "M0 dihaluskan / M0 smoothed (EB)", func(s *matching.NeedScore) any { return s.M0EB }),
		scoreCol("density", "KK membutuhkan per km² / in need per km²", func(s *matching.NeedScore) any { return s.Density }),
	}
	for _, ind := range matching.HouseholdIndicators {
		cols = append(cols,
			scoreCol("rate_"+ind, "Rasio "+ind+" / rate", func(s *matching.NeedScore) any { return s.Rates[ind] }),
			scoreCol("contrib_"+ind, "Kontribusi % "+ind+" / contribution %", func(s *matching.NeedScore) any { return s.Contributions[ind] }))
	}
	for _, sec := range w.SectorNames() {
		cols = append(cols, scoreCol("sector_"+sec, "Skor sektor "+sec+" / sector score", func(s *matching.NeedScore) any {
			if v, ok := s.Sectors[sec]; ok {
				return v
			}
			return nil
		}))
	}
	cols = append(cols, scoreCol("hotspot", "Titik panas / Hot spot", func(s *matching.NeedScore) any { return s.HotSpot.Label }))
	return cols
}

func (s *Server) villagesGeoJSON(c *fiber.Ctx, rows []villageRow, w matching.Weights, meta fiber.Map) error {
	geoms, err := s.web.ActiveVillageGeometries(c.UserContext())
	if err != nil {
		return err
	}
	type feature struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties map[string]any  `json:"properties"`
	}
	cols := columns(w)
	feats := make([]feature, 0, len(rows))
	for _, r := range rows {
		props := make(map[string]any, len(cols))
		for _, col := range cols {
			if v := col.get(r); v != nil {
				props[col.key] = v
			}
		}
		feats = append(feats, feature{Type: "Feature", ID: r.Code, Geometry: geoms[r.Code], Properties: props})
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	return c.JSON(fiber.Map{"type": "FeatureCollection", "features": feats, "sinergi": meta}, "application/geo+json")
}

// cellText formats a value for Indonesian-locale spreadsheets: decimal comma, no
// thousands separator, "<5" for suppressed counts, empty for unavailable values.
func cellText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case int:
		return strconv.Itoa(t)
	case matching.Count:
		return t.String()
	case matching.Value:
		if !t.Valid() {
			return ""
		}
		return strings.Replace(strconv.FormatFloat(float64(t), 'f', -1, 64), ".", ",", 1)
	case float64:
		return strings.Replace(strconv.FormatFloat(t, 'f', -1, 64), ".", ",", 1)
	}
	return fmt.Sprint(v)
}

// villagesCSV writes a CSV for Indonesian-locale Excel: UTF-8 with a byte-order
// mark (so Excel reads the names as UTF-8), semicolons between fields and decimal
// commas (the list and decimal separators of the id-ID locale, so numbers open as
// numbers instead of text or dates).
func villagesCSV(c *fiber.Ctx, rows []villageRow, w matching.Weights, meta fiber.Map) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	cw.Comma = ';'
	cw.UseCRLF = true
	cols := columns(w)
	head := make([]string, len(cols))
	for i, col := range cols {
		head[i] = col.header
	}
	_ = cw.Write(head)
	for _, r := range rows {
		rec := make([]string, len(cols))
		for i, col := range cols {
			rec[i] = cellText(col.get(r))
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+exportName(meta)+`.csv"`)
	return c.Send(buf.Bytes())
}

func exportName(meta fiber.Map) string {
	p, _ := meta["period"].(string)
	if p == "" {
		p = "tanpa-skor"
	}
	return "peringkat-desa-" + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' {
			return r
		}
		return '-'
	}, p)
}

// villagesXLSX writes the ranking as a workbook: numbers as numbers, suppressed
// counts as the text "<5", and a second sheet naming the period, run, weights
// version, boundary set and disclosure.
func villagesXLSX(c *fiber.Ctx, rows []villageRow, w matching.Weights, meta fiber.Map) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Peringkat"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	cols := columns(w)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	head := make([]any, len(cols))
	for i, col := range cols {
		head[i] = excelize.Cell{StyleID: bold, Value: col.header}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for n, r := range rows {
		vals := make([]any, len(cols))
		for i, col := range cols {
			vals[i] = xlsxValue(col.get(r))
		}
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	const info = "Keterangan"
	if _, err := f.NewSheet(info); err != nil {
		return err
	}
	line := 1
	for _, k := range []string{"period", "run", "weights_version", "boundary_set", "computed_at", "stale", "disclosure"} {
		_ = f.SetCellValue(info, fmt.Sprintf("A%d", line), k)
		_ = f.SetCellValue(info, fmt.Sprintf("B%d", line), fmt.Sprint(meta[k]))
		line++
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+exportName(meta)+`.xlsx"`)
	return c.Send(buf.Bytes())
}

func xlsxValue(v any) any {
	switch t := v.(type) {
	case matching.Count:
		if t < 0 {
			return t.String()
		}
		return int64(t)
	case matching.Value:
		if !t.Valid() {
			return nil
		}
		return float64(t)
	}
	return v
}
