package geo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Export formats.
const (
	ExportGeoJSON = "geojson"
	ExportGPKG    = "gpkg"
)

// ActiveBoundariesGeoJSON returns the active set of a level as a GeoJSON
// FeatureCollection (RFC 7946: lon/lat, counter-clockwise rings), built by PostGIS.
func (s *Store) ActiveBoundariesGeoJSON(ctx context.Context, level string) ([]byte, error) {
	switch level {
	case LevelDesa:
		return s.ActiveVillagesGeoJSON(ctx)
	case LevelKecamatan:
		var b []byte
		err := s.Pool.QueryRow(ctx, `
			SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
				'type', 'Feature', 'id', k.code,
				'geometry', ST_AsGeoJSON(k.geom, 6)::json,
				'properties', json_build_object('code', k.code, 'name', k.name, 'area_km2', round(k.area_km2::numeric, 3))
			) ORDER BY k.code), '[]'::json))::text
			FROM kecamatan k JOIN boundary_set s ON s.id = k.set_id AND s.status = 'active'`).Scan(&b)
		return b, err
	}
	return nil, fmt.Errorf("level %q: want desa or kecamatan", level)
}

// ExportActiveBoundaries returns the active set of a level as GeoJSON or as a
// GeoPackage (written by ogr2ogr from the GeoJSON, under the same limits as imports).
func (s *Store) ExportActiveBoundaries(ctx context.Context, level, format string, lim GDALLimits) ([]byte, error) {
	b, err := s.ActiveBoundariesGeoJSON(ctx, level)
	if err != nil {
		return nil, err
	}
	switch format {
	case "", ExportGeoJSON:
		return b, nil
	case ExportGPKG:
	default:
		return nil, fmt.Errorf("format %q: want geojson or gpkg", format)
	}
	tmp, err := os.MkdirTemp("", "sinergi-export-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	in, out := filepath.Join(tmp, "in.geojson"), filepath.Join(tmp, level+".gpkg")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		return nil, err
	}
	if _, err := runGDAL(ctx, lim, []string{"GeoJSON", "GPKG"}, "ogr2ogr", "-f", "GPKG", "-nln", level, "-nlt", "MULTIPOLYGON",
		"-a_srs", "EPSG:4326", out, in); err != nil {
		return nil, fmt.Errorf("export %s as GeoPackage: %w", level, err)
	}
	return os.ReadFile(out)
}
