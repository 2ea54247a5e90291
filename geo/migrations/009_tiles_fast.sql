-- Issue 7, tile performance: boundary geometries ready for tiles.
--
-- A tile of the desa or kecamatan layer at zoom z needs each boundary in Web
-- Mercator, simplified to a quarter pixel of z (geo.SimplifyTolerance). Doing that
-- per request transforms and simplifies every vertex of every village meeting the
-- tile, over and over; tile_geom holds the result once per boundary and zoom, for
-- the active set of each level only. It is filled in the transaction that
-- activates a set (the trigger below, so the CLI, the API and any other writer
-- alike), which is the transaction that bumps the layer's version: a tile query
-- reads the version and these rows in one snapshot and never sees one without the
-- other.
--
-- Zooms stored: each layer's MinZoom–MaxZoom in geo/layers.go (desa 6–16,
-- kecamatan 4–16); geo.tileGeomZooms must match tile_geom_zooms below.
CREATE TABLE tile_geom (
  level  text NOT NULL CHECK (level IN ('desa', 'kecamatan')),
  z      smallint NOT NULL CHECK (z BETWEEN 0 AND 22),
  set_id bigint NOT NULL REFERENCES boundary_set (id) ON DELETE CASCADE,
  code   text NOT NULL,
  geom   geometry(Geometry, 3857) NOT NULL,
  PRIMARY KEY (level, z, set_id, code)
);

-- Tile queries name the zoom as a constant (one prepared statement per zoom), so
-- each reads the partial index of its own zoom only.
DO $$
BEGIN
  FOR z IN 4..16 LOOP
    EXECUTE format('CREATE INDEX tile_geom_z%s_gix ON tile_geom USING gist (geom) WHERE z = %s', z, z);
  END LOOP;
END $$;

CREATE FUNCTION tile_geom_zooms(p_level text, OUT zmin int, OUT zmax int)
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_level WHEN 'desa' THEN 6 ELSE 4 END, 16
$$;

-- tile_geom_fill (re)writes the rows of one set (all its features, or one code).
-- The tolerance is geo.SimplifyTolerance(z): a quarter of a 256-px tile's pixel.
CREATE FUNCTION tile_geom_fill(p_set bigint, p_code text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  lvl text;
  zr record;
BEGIN
  SELECT level INTO lvl FROM boundary_set WHERE id = p_set;
  IF lvl IS NULL THEN
    RETURN;
  END IF;
  zr := tile_geom_zooms(lvl);
  DELETE FROM tile_geom WHERE set_id = p_set AND (p_code IS NULL OR code = p_code);
  IF lvl = 'desa' THEN
    INSERT INTO tile_geom (level, z, set_id, code, geom)
    SELECT lvl, z, f.set_id, f.code, ST_Simplify(f.g, 40075016.685578488 / 2 ^ z / 1024, true)
    FROM (SELECT set_id, code, ST_Transform(geom, 3857) AS g FROM village
          WHERE set_id = p_set AND (p_code IS NULL OR code = p_code)) f,
      generate_series(zr.zmin, zr.zmax) z;
  ELSE
    INSERT INTO tile_geom (level, z, set_id, code, geom)
    SELECT lvl, z, f.set_id, f.code, ST_Simplify(f.g, 40075016.685578488 / 2 ^ z / 1024, true)
    FROM (SELECT set_id, code, ST_Transform(geom, 3857) AS g FROM kecamatan
          WHERE set_id = p_set AND (p_code IS NULL OR code = p_code)) f,
      generate_series(zr.zmin, zr.zmax) z;
  END IF;
  DELETE FROM tile_geom WHERE set_id = p_set AND (p_code IS NULL OR code = p_code) AND ST_IsEmpty(geom);
END $$;

-- A set entering 'active' gets its rows; one leaving it loses them.
CREATE FUNCTION tile_geom_set_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'active' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'active') THEN
    PERFORM tile_geom_fill(NEW.id);
  ELSIF TG_OP = 'UPDATE' AND OLD.status = 'active' AND NEW.status IS DISTINCT FROM 'active' THEN
    DELETE FROM tile_geom WHERE set_id = NEW.id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER boundary_set_tile_geom AFTER INSERT OR UPDATE OF status ON boundary_set
  FOR EACH ROW EXECUTE FUNCTION tile_geom_set_status();

-- A feature of an active set added, reshaped or removed keeps its rows in step.
CREATE FUNCTION tile_geom_feature() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := OLD;
  ELSE
    r := NEW;
  END IF;
  IF EXISTS (SELECT 1 FROM boundary_set WHERE id = r.set_id AND status = 'active') THEN
    IF TG_OP = 'UPDATE' AND (OLD.set_id, OLD.code) IS DISTINCT FROM (NEW.set_id, NEW.code) THEN
      DELETE FROM tile_geom WHERE set_id = OLD.set_id AND code = OLD.code;
    END IF;
    IF TG_OP = 'DELETE' THEN
      DELETE FROM tile_geom WHERE set_id = r.set_id AND code = r.code;
    ELSE
      PERFORM tile_geom_fill(r.set_id, r.code);
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER village_tile_geom AFTER INSERT OR DELETE OR UPDATE OF geom, set_id, code ON village
  FOR EACH ROW EXECUTE FUNCTION tile_geom_feature();
CREATE TRIGGER kecamatan_tile_geom AFTER INSERT OR DELETE OR UPDATE OF geom, set_id, code ON kecamatan
  FOR EACH ROW EXECUTE FUNCTION tile_geom_feature();

-- Sets active before this migration.
SELECT tile_geom_fill(id) FROM boundary_set WHERE status = 'active';

GRANT SELECT ON tile_geom TO sinergi_web;
