-- Issue 7: serving layers (tiles, OGC API Features).
--
-- need_cell is the `need` layer's only source: in-need households counted per grid
-- cell. It is computed by the owner role (which can read pii.household_person's
-- locations) and holds no personal data: no household ids, no points, and every
-- published cell holds at least 10 households and is at least 250 m across. The
-- web role reads only this table.
--
-- A cell of level g is exactly the Web Mercator tile g/cx/cy (ST_TileEnvelope), so
-- cells nest and never straddle a tile edge. Level 17 cells are ~305 m across on
-- the ground at Bekasi's latitude; coarser levels are built bottom-up (see
-- geo/layers_need.go) so that no published count minus its published children
-- reveals a group of fewer than 10 households.
CREATE TABLE need_cell (
  level      smallint NOT NULL CHECK (level BETWEEN 0 AND 17),
  cx         integer NOT NULL,
  cy         integer NOT NULL,
  households integer NOT NULL CHECK (households >= 10),
  geom       geometry(Polygon, 3857) NOT NULL,
  PRIMARY KEY (level, cx, cy)
);
CREATE INDEX need_cell_geom_gix ON need_cell USING gist (geom);

-- Which `need` layer version the cells were computed from (one row).
CREATE TABLE need_cell_state (
  id           boolean PRIMARY KEY DEFAULT true CHECK (id),
  version      bigint NOT NULL DEFAULT 0,
  cells        integer NOT NULL DEFAULT 0,
  refreshed_at timestamptz
);
INSERT INTO need_cell_state DEFAULT VALUES;

-- Plans are drawn at their program sites or, without sites, at a point inside
-- their village; tiles and OGC filter plans by company.
CREATE INDEX IF NOT EXISTS plan_sites_gix ON plan USING gist (sites);

GRANT SELECT ON need_cell, need_cell_state TO sinergi_web;

-- Tile and OGC requests authenticate bearer tokens from an in-process cache (a
-- DB round trip per tile would cost more than serving a cached one). auth_epoch
-- moves whenever a token is revoked or deleted or a user's role, company, area or
-- disabled flag changes; each request reads it (together with the layer
-- versions, one small query shared by concurrent requests) and the cache is
-- dropped when it moved. The triggers also NOTIFY sinergi_auth. Column lists
-- keep last_used_at updates quiet.
CREATE TABLE auth_epoch (
  id    boolean PRIMARY KEY DEFAULT true CHECK (id),
  epoch bigint NOT NULL DEFAULT 0
);
INSERT INTO auth_epoch DEFAULT VALUES;

CREATE FUNCTION notify_auth_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE auth_epoch SET epoch = epoch + 1;
  PERFORM pg_notify('sinergi_auth', TG_TABLE_NAME);
  RETURN NULL;
END $$;
CREATE TRIGGER api_token_auth_change AFTER UPDATE OF revoked_at, user_id, token_hash OR DELETE ON api_token
  FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER app_user_auth_change AFTER UPDATE OF role, company_id, area, disabled, name OR DELETE ON app_user
  FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();

-- The web role revokes tokens and edits users through the admin API.
GRANT SELECT, UPDATE ON auth_epoch TO sinergi_web;
