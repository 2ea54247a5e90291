package geo

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GDAL is how Sinergi runs ogr2ogr on files it did not write. Uploads are hostile
// until proven otherwise, so every run is fenced:
//   - only the drivers of an allow-list are loaded: every other driver is named in
//     GDAL_SKIP (GDAL 3.6's ogr2ogr has no -if), so no VRT — whose XML can point at
//     any file or URL — and no surprise format can open the upload;
//   - the path must be a plain local file (no /vsicurl/, /vsizip/ or other virtual
//     file systems, no "PG:" or other connection strings);
//   - network access is switched off through GDAL's and PROJ's configuration;
//   - the process gets a wall-clock timeout (the context) and, when util-linux's
//     prlimit is installed, an address-space and output-file-size limit.
type GDALLimits struct {
	// Timeout bounds one ogr2ogr run; default 2 minutes.
	Timeout time.Duration
	// MemoryBytes caps the process's address space; default 2 GiB. Without
	// prlimit on PATH the cap is not applied (the timeout still is).
	MemoryBytes int64
	// OutputBytes caps any file ogr2ogr writes; default 2 GiB.
	OutputBytes int64
}

func (l GDALLimits) withDefaults() GDALLimits {
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Minute
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = 2 << 30
	}
	if l.OutputBytes <= 0 {
		l.OutputBytes = 2 << 30
	}
	return l
}

// Input formats read through ogr2ogr, by file extension, with the one driver each may use.
// KML may be read by LIBKML (which reads ExtendedData attributes) or the plain
// KML driver; both are local-file readers, and the network is closed anyway.
var gdalInputDrivers = map[string]struct {
	drivers []string
	format  string
}{
	".shp":  {[]string{"ESRI Shapefile"}, "shapefile"},
	".gpkg": {[]string{"GPKG"}, "geopackage"},
	".kml":  {[]string{"LIBKML", "KML"}, "kml"},
}

// gdalEnv is the environment of every GDAL subprocess: only what it needs, with
// every path to the network closed.
func gdalEnv() []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"HOME=" + os.TempDir(),
		// No HTTP(S)/FTP through GDAL's curl layer: no extension is allowed, a proxy
		// that refuses connections, one-second timeouts, no retries.
		"CPL_VSIL_CURL_ALLOWED_EXTENSIONS=.sinergi-no-network",
		"GDAL_HTTP_PROXY=127.0.0.1:9",
		"GDAL_HTTP_TIMEOUT=1",
		"GDAL_HTTP_CONNECTTIMEOUT=1",
		"GDAL_HTTP_MAX_RETRY=0",
		"CPL_VSIL_CURL_USE_HEAD=NO",
		// PROJ may download transformation grids; not here.
		"PROJ_NETWORK=OFF",
		// Don't write .aux.xml side files next to the upload.
		"GDAL_PAM_ENABLED=NO",
		// GeoPackage is SQLite: never load SQLite extensions named by a file.
		"OGR_SQLITE_LOAD_EXTENSIONS=",
		// Shapefile .dbf/.cpg encodings are honoured; output is UTF-8 GeoJSON.
		"SHAPE_ENCODING=",
	}
	for _, k := range []string{"GDAL_DATA", "PROJ_DATA", "PROJ_LIB"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// checkLocalPath refuses anything but a regular local file: GDAL would otherwise
// happily open /vsicurl/http://…, connection strings or device files.
func checkLocalPath(path string) error {
	clean := filepath.Clean(path)
	if strings.HasPrefix(clean, "/vsi") || strings.Contains(path, "://") || strings.Contains(clean, ":") && !filepath.IsAbs(clean) {
		return fmt.Errorf("%s: only local files are read (no network or virtual paths)", filepath.Base(path))
	}
	st, err := os.Lstat(clean)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", filepath.Base(path))
	}
	return nil
}

// runGDAL runs a GDAL command-line tool under the fences above and returns its
// stdout; on failure the error carries GDAL's own message.
func runGDAL(ctx context.Context, lim GDALLimits, allow []string, tool string, args ...string) ([]byte, error) {
	lim = lim.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	bin, err := exec.LookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("%s is not installed (Debian package gdal-bin; scripts/deps.sh installs it)", tool)
	}
	name, argv := bin, args
	if pl, err := exec.LookPath("prlimit"); err == nil {
		name = pl
		argv = append([]string{"--as=" + strconv.FormatInt(lim.MemoryBytes, 10),
			"--fsize=" + strconv.FormatInt(lim.OutputBytes, 10), "--", bin}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	skip, err := gdalSkipList(ctx, allow)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(gdalEnv(), "GDAL_SKIP="+skip)
	cmd.Dir = os.TempDir()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedBuffer{max: 64 << 10, buf: &stderr}
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("%s took longer than %s and was stopped", tool, lim.Timeout)
	}
	if err != nil {
		msg := gdalMessage(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("%s: %s", tool, msg)
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps the first max bytes of a stream (GDAL can be chatty).
type limitedBuffer struct {
	max int
	buf *bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

// gdalMessage keeps GDAL's ERROR lines (or all lines when there are none), on one line.
func gdalMessage(s string) string {
	var errs, all []string
	for _, ln := range strings.Split(s, "\n") {
		ln = strings.TrimSpace(ln)
		if ln == "" {
			continue
		}
		all = append(all, ln)
		if strings.HasPrefix(ln, "ERROR") {
			errs = append(errs, ln)
		}
	}
	if len(errs) > 0 {
		all = errs
	}
	if len(all) > 3 {
		all = all[:3]
	}
	return strings.Join(all, "; ")
}

var (
	formatsOnce sync.Once
	formatsList []string
	formatsErr  error
	formatLine  = regexp.MustCompile(`^\s+(.+?) -(?:raster|vector|multidimensional|gnm)`)
)

// gdalSkipList names every installed driver except allow, comma-separated (the
// separator GDAL_SKIP honours when names contain spaces, like "ESRI Shapefile").
func gdalSkipList(ctx context.Context, allow []string) (string, error) {
	formatsOnce.Do(func() {
		cmd := exec.CommandContext(ctx, "ogrinfo", "--formats")
		cmd.Env = gdalEnv()
		out, err := cmd.Output()
		if err != nil {
			formatsErr = fmt.Errorf("ogrinfo --formats: %w (is gdal-bin installed?)", err)
			return
		}
		for _, ln := range strings.Split(string(out), "\n") {
			if m := formatLine.FindStringSubmatch(ln); m != nil {
				formatsList = append(formatsList, m[1])
			}
		}
		if len(formatsList) == 0 {
			formatsErr = errors.New("ogrinfo --formats listed no drivers")
		}
	})
	if formatsErr != nil {
		return "", formatsErr
	}
	keep := map[string]bool{}
	for _, a := range allow {
		keep[a] = true
	}
	var skip []string
	for _, f := range formatsList {
		if !keep[f] && !strings.Contains(f, ",") {
			skip = append(skip, f)
		}
	}
	return strings.Join(skip, ","), nil
}

var ogrLayerLine = regexp.MustCompile(`^\d+: (.+?)(?: \(([^)]*)\))?$`)

// gdalLayers lists the layers of a file as (name, geometry type).
func gdalLayers(ctx context.Context, lim GDALLimits, drivers []string, path string) ([][2]string, error) {
	out, err := runGDAL(ctx, lim, drivers, "ogrinfo", "-ro", "-q", path)
	if err != nil {
		return nil, err
	}
	var layers [][2]string
	for _, ln := range strings.Split(string(out), "\n") {
		if m := ogrLayerLine.FindStringSubmatch(strings.TrimSpace(ln)); m != nil {
			layers = append(layers, [2]string{m[1], m[2]})
		}
	}
	return layers, nil
}

// gdalToGeoJSON converts the polygon layer of path (read with driver) to a GeoJSON
// file in dir, reprojected to EPSG:4326 when the source declares a CRS (or srs is
// given). It returns the GeoJSON path, the layer read and whether the source had
// no CRS at all (then the coordinates are passed through untouched and the native
// reader decides whether they are lon/lat).
func gdalToGeoJSON(ctx context.Context, lim GDALLimits, drivers []string, path, dir, srs string) (out, layer string, noCRS bool, err error) {
	if err := checkLocalPath(path); err != nil {
		return "", "", false, err
	}
	// Absolute paths: GDAL's tools have no "--", so a name must never look like an option.
	if path, err = filepath.Abs(path); err != nil {
		return "", "", false, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", false, err
	}
	base := filepath.Base(path)
	layers, err := gdalLayers(ctx, lim, drivers, path)
	if err != nil {
		return "", "", false, fmt.Errorf("%s: GDAL cannot read it as %s: %w", base, strings.Join(drivers, "/"), err)
	}
	if len(layers) == 0 {
		return "", "", false, fmt.Errorf("%s: no layer found", base)
	}
	layer = layers[0][0]
	for _, l := range layers {
		if strings.Contains(strings.ToLower(l[1]), "polygon") {
			layer = l[0]
			break
		}
	}
	out = filepath.Join(dir, "converted.geojson")
	args := func(reproject bool) []string {
		a := []string{"-f", "GeoJSON", "-dim", "XY", "-lco", "RFC7946=NO", "-lco", "WRITE_NAME=NO"}
		if srs != "" {
			a = append(a, "-s_srs", srs)
		}
		if reproject {
			a = append(a, "-t_srs", "EPSG:4326")
		}
		return append(a, out, path, layer)
	}
	_ = os.Remove(out)
	if _, err = runGDAL(ctx, lim, append([]string{"GeoJSON"}, drivers...), "ogr2ogr", args(true)...); err != nil {
		msg := err.Error()
		if srs == "" && (strings.Contains(msg, "no coordinate system") || strings.Contains(msg, "source layer has no")) {
			// No CRS in the file: convert as is; the reader will ask for --srs when the
			// coordinates are not longitude/latitude.
			_ = os.Remove(out)
			if _, err = runGDAL(ctx, lim, append([]string{"GeoJSON"}, drivers...), "ogr2ogr", args(false)...); err == nil {
				return out, layer, true, nil
			}
		}
		return "", "", false, fmt.Errorf("%s (layer %q): %w", base, layer, err)
	}
	return out, layer, false, nil
}

// Zip limits.
const (
	maxZipEntries = 1000
)

// shapefile parts that are extracted from a zip; everything else is ignored.
var shapefileParts = map[string]bool{".shp": true, ".shx": true, ".dbf": true, ".prj": true, ".cpg": true}

// unzipShapefile extracts the shapefile parts of a zip into dir safely: entries
// with absolute paths or ".." are refused (not skipped: such a zip is hostile or
// broken), the total uncompressed size is capped by maxBytes while reading (the
// sizes in the zip's headers can lie), and exactly one .shp must be present.
// It returns the extracted .shp path.
func unzipShapefile(zipPath, dir string, maxBytes int64) (string, error) {
	base := filepath.Base(zipPath)
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return "", fmt.Errorf("%s: bukan arsip zip yang sah (not a valid zip archive): %w", base, err)
	}
	defer zr.Close()
	if len(zr.File) > maxZipEntries {
		return "", fmt.Errorf("%s: the zip has %d entries (limit %d)", base, len(zr.File), maxZipEntries)
	}
	var shps []string
	seen := map[string]bool{}
	var total int64
	for _, f := range zr.File {
		name := strings.ReplaceAll(f.Name, `\`, "/")
		if strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(name) != "" {
			return "", fmt.Errorf("%s: entry %q has an absolute path; refused", base, f.Name)
		}
		for _, part := range strings.Split(name, "/") {
			if part == ".." {
				return "", fmt.Errorf("%s: entry %q points outside the archive (\"..\"); refused", base, f.Name)
			}
		}
		if f.FileInfo().IsDir() || strings.HasPrefix(filepath.Base(name), "._") {
			continue
		}
		ext := strings.ToLower(filepath.Ext(name))
		if !shapefileParts[ext] {
			continue
		}
		if !f.Mode().IsRegular() {
			return "", fmt.Errorf("%s: entry %q is not a regular file; refused", base, f.Name)
		}
		// Every part is flattened into dir; the stem is kept so siblings still match.
		target := filepath.Base(name)
		if strings.HasPrefix(target, "-") {
			target = "_" + target
		}
		key := strings.ToLower(target)
		if seen[key] {
			return "", fmt.Errorf("%s: two entries are called %s; put one layer per zip", base, target)
		}
		seen[key] = true
		if total+int64(f.UncompressedSize64) > maxBytes {
			return "", fmt.Errorf("%s: expands past the limit of %d MB; refused", base, maxBytes>>20)
		}
		n, err := extractOne(f, filepath.Join(dir, target), maxBytes-total)
		total += n
		if err != nil {
			return "", fmt.Errorf("%s: entry %q: %w", base, f.Name, err)
		}
		if ext == ".shp" {
			shps = append(shps, filepath.Join(dir, target))
		}
	}
	switch len(shps) {
	case 0:
		return "", fmt.Errorf("%s: zip tidak berisi berkas .shp (the zip contains no .shp file)", base)
	case 1:
		return shps[0], nil
	default:
		return "", fmt.Errorf("%s: the zip holds %d .shp files; put one layer per zip", base, len(shps))
	}
}

var errTooBig = errors.New("expands past the size limit; refused")

func extractOne(f *zip.File, target string, room int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	w, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, io.LimitReader(rc, room+1))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if n > room {
		return n, errTooBig
	}
	return n, nil
}
