package api

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// boundaryWorkTimeout bounds an upload's import or an activation: both can take
// minutes on a national-scale file, far beyond the ordinary request timeout.
const boundaryWorkTimeout = 10 * time.Minute

func (s *Server) boundarySets(c *fiber.Ctx) error {
	sets, err := s.web.BoundarySets(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"sets": sets})
}

// Upload parts: the main file and, for a bare Shapefile, its siblings.
var (
	uploadMain    = map[string]bool{".geojson": true, ".json": true, ".zip": true, ".shp": true, ".gpkg": true, ".kml": true}
	uploadSibling = map[string]bool{".shx": true, ".dbf": true, ".prj": true, ".cpg": true}
	uploadName    = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// importBoundaries is POST /api/v1/boundaries: a multipart upload (field "file",
// repeated for a Shapefile's .shp/.shx/.dbf/.prj) with form fields level,
// code_field, name_field, parent_field, srs, swap_xy, tolerance and dry_run. The
// import runs with the owner store (it reads the active set and writes a draft).
func (s *Server) importBoundaries(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	form, err := c.MultipartForm()
	if err != nil {
		return problem(fiber.StatusBadRequest, "kirim berkas sebagai multipart/form-data di field \"file\" (send the file as multipart/form-data, field \"file\")")
	}
	val := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	opt := geo.ImportOptions{Level: val("level"), SRS: val("srs"), By: u.Name,
		Fields: geo.FieldMap{Code: val("code_field"), Name: val("name_field"), Parent: val("parent_field")}}
	if opt.Level != geo.LevelDesa && opt.Level != geo.LevelKecamatan {
		return problem(fiber.StatusBadRequest, "level harus desa atau kecamatan (level must be desa or kecamatan)")
	}
	opt.DryRun, _ = strconv.ParseBool(val("dry_run"))
	opt.SwapXY, _ = strconv.ParseBool(val("swap_xy"))
	if t := val("tolerance"); t != "" {
		if opt.ToleranceM2, err = strconv.ParseFloat(t, 64); err != nil || opt.ToleranceM2 < 0 {
			return problem(fiber.StatusBadRequest, "tolerance must be a number of square metres")
		}
	}
	files := form.File["file"]
	if len(files) == 0 {
		return problem(fiber.StatusBadRequest, "tidak ada berkas di field \"file\" (no file in field \"file\")")
	}
	tmp, err := os.MkdirTemp("", "sinergi-upload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	main := ""
	for _, fh := range files {
		if s.cfg.BodyLimit > 0 && fh.Size > int64(s.cfg.BodyLimit) {
			return problem(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("%s: berkas terlalu besar (file over the upload limit of %d MB)", fh.Filename, s.cfg.BodyLimit>>20))
		}
		name := uploadName.ReplaceAllString(filepath.Base(strings.ReplaceAll(fh.Filename, `\`, "/")), "_")
		name = strings.TrimLeft(name, ".-")
		ext := strings.ToLower(filepath.Ext(name))
		switch {
		case uploadMain[ext]:
			if main != "" {
				return problem(fiber.StatusBadRequest, "unggah satu lapisan per permintaan (upload one layer per request: "+main+" and "+name+")")
			}
			main = name
		case uploadSibling[ext]:
		default:
			return problem(fiber.StatusBadRequest, fmt.Sprintf("%s: format tidak didukung (format not supported: GeoJSON, Shapefile .shp+.shx+.dbf+.prj or .zip, GeoPackage, KML)", fh.Filename))
		}
		if err := c.SaveFile(fh, filepath.Join(tmp, name)); err != nil {
			return err
		}
	}
	if main == "" {
		return problem(fiber.StatusBadRequest, "tidak ada berkas utama (no .geojson, .zip, .shp, .gpkg or .kml among the uploaded files)")
	}
	opt.SourceName = main
	opt.MaxFileBytes = int64(s.cfg.BodyLimit)
	ctx, cancel := context.WithTimeout(context.Background(), boundaryWorkTimeout)
	defer cancel()
	rep, err := s.owner.ImportBoundaries(ctx, filepath.Join(tmp, main), opt)
	var ie *geo.ImportError
	switch {
	case errors.As(err, &ie):
		c.Set(fiber.HeaderContentType, "application/problem+json")
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{
			"type": "about:blank", "title": "Unprocessable Entity", "status": fiber.StatusUnprocessableEntity,
			"detail": ie.Error(), "instance": c.Path(), "report": ie.Report,
		}, "application/problem+json")
	case errors.Is(err, geo.ErrBadBoundaryFile):
		return problem(fiber.StatusUnprocessableEntity, err.Error())
	case err != nil:
		return err
	}
	status := fiber.StatusCreated
	if opt.DryRun {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(fiber.Map{"id": rep.SetID, "dry_run": opt.DryRun, "report": rep})
}

func pathID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem(fiber.StatusBadRequest, "id set batas harus angka (the boundary set id must be a number)")
	}
	return id, nil
}

// boundaryDiff is GET /api/v1/boundaries/{id}/diff[?against=ID]: set id against
// the active set of its level (or against). It runs with the owner store so it can
// count the households that would move; only counts leave the server.
func (s *Server) boundaryDiff(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	from := int64(0)
	if a := c.Query("against"); a != "" {
		if from, err = strconv.ParseInt(a, 10, 64); err != nil {
			return problem(fiber.StatusBadRequest, "against must be a boundary set id")
		}
	} else {
		sets, err := s.web.BoundarySets(ctx)
		if err != nil {
			return err
		}
		level := ""
		for _, st := range sets {
			if st.ID == id {
				level = st.Level
			}
		}
		if level == "" {
			return problem(fiber.StatusNotFound, fmt.Sprintf("set batas %d tidak ada (boundary set %d does not exist)", id, id))
		}
		for _, st := range sets {
			if st.Level == level && st.Status == "active" {
				from = st.ID
			}
		}
		if from == 0 {
			return problem(fiber.StatusConflict, "belum ada set aktif untuk dibandingkan (no active set of level "+level+" to compare with; pass ?against=ID)")
		}
	}
	dctx, cancel := context.WithTimeout(context.Background(), boundaryWorkTimeout)
	defer cancel()
	d, err := s.owner.DiffBoundarySets(dctx, from, id)
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "different levels") {
			return problem(fiber.StatusBadRequest, err.Error())
		}
		return err
	}
	return c.JSON(d)
}

// activateBoundaries is POST /api/v1/boundaries/{id}/activate (also the rollback:
// activate an older set).
func (s *Server) activateBoundaries(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	ctx, cancel := context.WithTimeout(context.Background(), boundaryWorkTimeout)
	defer cancel()
	res, err := s.owner.ActivateBoundaries(ctx, id, u.Name)
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return problem(fiber.StatusNotFound, fmt.Sprintf("set batas %d tidak ada (boundary set %d does not exist)", id, id))
		}
		return err
	}
	s.refreshScores(ctx, u.Name)
	return c.JSON(res)
}

// activeBoundaries is GET /api/v1/boundaries/active?level=desa|kecamatan&format=geojson|gpkg.
func (s *Server) activeBoundaries(c *fiber.Ctx) error {
	level := c.Query("level", geo.LevelDesa)
	format := c.Query("format", geo.ExportGeoJSON)
	if level != geo.LevelDesa && level != geo.LevelKecamatan {
		return problem(fiber.StatusBadRequest, "level must be desa or kecamatan")
	}
	switch format {
	case geo.ExportGeoJSON:
		b, err := s.web.ActiveBoundariesGeoJSON(c.UserContext(), level)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/geo+json")
		return c.Send(b)
	case geo.ExportGPKG:
		b, err := s.web.ExportActiveBoundaries(c.UserContext(), level, format, geo.GDALLimits{Timeout: time.Minute})
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/geopackage+sqlite3")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+level+`.gpkg"`)
		return c.Send(b)
	}
	return problem(fiber.StatusBadRequest, "format "+strconv.Quote(format)+" is not supported (use geojson or gpkg)")
}
