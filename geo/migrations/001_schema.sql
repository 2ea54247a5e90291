-- Sinergi schema: the whole data model of DESIGN.md.
-- PostGIS is the system of record. Personal data (home location, names, addresses,
-- hashed NIK/No. KK) lives in schema pii, which the web server's role cannot read.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') THEN
    CREATE EXTENSION postgis;
  END IF;
END $$;

CREATE SCHEMA IF NOT EXISTS pii;

-- Key/value facts about this database (e.g. whether it holds the demo regency).
CREATE TABLE app_meta (
  key   text PRIMARY KEY,
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- boundaries
CREATE TABLE boundary_set (
  id             bigserial PRIMARY KEY,
  level          text NOT NULL CHECK (level IN ('desa', 'kecamatan')),
  source_file    text NOT NULL,
  loaded_by      text NOT NULL DEFAULT current_user,
  loaded_at      timestamptz NOT NULL DEFAULT now(),
  status         text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'retired')),
  effective_date date,
  feature_count  integer NOT NULL DEFAULT 0,
  report         jsonb NOT NULL DEFAULT '{}'::jsonb,
  activated_by   text,
  activated_at   timestamptz,
  note           text
);
-- Exactly one active set per level.
CREATE UNIQUE INDEX boundary_set_one_active ON boundary_set (level) WHERE status = 'active';

CREATE TABLE village (
  set_id         bigint NOT NULL REFERENCES boundary_set (id) ON DELETE CASCADE,
  code           text NOT NULL,
  name           text NOT NULL,
  kecamatan_code text NOT NULL,
  kecamatan_name text NOT NULL DEFAULT '',
  kind           text NOT NULL DEFAULT 'desa' CHECK (kind IN ('desa', 'kelurahan')),
  geom           geometry(MultiPolygon, 4326) NOT NULL,
  area_km2       double precision NOT NULL,
  props          jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (set_id, code)
);
CREATE INDEX village_geom_gix ON village USING gist (geom);
CREATE INDEX village_kecamatan_idx ON village (set_id, kecamatan_code);

CREATE TABLE kecamatan (
  set_id   bigint NOT NULL REFERENCES boundary_set (id) ON DELETE CASCADE,
  code     text NOT NULL,
  name     text NOT NULL,
  geom     geometry(MultiPolygon, 4326) NOT NULL,
  area_km2 double precision NOT NULL,
  props    jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (set_id, code)
);
CREATE INDEX kecamatan_geom_gix ON kecamatan USING gist (geom);

-- Old→new code crosswalk recorded when a boundary update splits, merges or renames villages.
CREATE TABLE code_crosswalk (
  from_set bigint NOT NULL REFERENCES boundary_set (id) ON DELETE CASCADE,
  to_set   bigint NOT NULL REFERENCES boundary_set (id) ON DELETE CASCADE,
  old_code text NOT NULL,
  new_code text NOT NULL,
  relation text NOT NULL CHECK (relation IN ('same', 'renamed', 'changed', 'split', 'merged')),
  share    double precision NOT NULL DEFAULT 1,
  PRIMARY KEY (from_set, to_set, old_code, new_code)
);

-- ---------------------------------------------------------------- registers and households
CREATE TABLE register (
  key         text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{1,31}$'),
  name        text NOT NULL,
  source      text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT ''
);
INSERT INTO register (key, name, source) VALUES
  ('eppgbm', 'e-PPGBM (pertumbuhan balita)', 'Dinas Kesehatan'),
  ('p3ke', 'P3KE / DTSEN (kemiskinan ekstrem)', 'Kemenko PMK / BPS'),
  ('disnaker', 'Daftar pencari kerja', 'Dinas Tenaga Kerja'),
  ('survey', 'Survei lapangan', 'Bapeda'),
  ('demo', 'Data demo sintetis', 'sinergi demo');

-- One row per import run of any kind (households, boundaries, population, ...).
CREATE TABLE import_batch (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL,
  register      text REFERENCES register (key),
  period        text,
  source_file   text NOT NULL,
  loaded_by     text NOT NULL DEFAULT current_user,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  rows_total    bigint NOT NULL DEFAULT 0,
  rows_loaded   bigint NOT NULL DEFAULT 0,
  rows_rejected bigint NOT NULL DEFAULT 0,
  summary       jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Households: the non-personal part. Personal fields and the home location are in pii.household_person.
CREATE TABLE household (
  id                bigserial PRIMARY KEY,
  register          text NOT NULL REFERENCES register (key),
  period            text NOT NULL,
  external_id       text NOT NULL,
  source            text NOT NULL DEFAULT '',
  link_key          bytea,               -- keyed hash of No. KK, links registers
  members           integer NOT NULL DEFAULT 0 CHECK (members >= 0),
  children_u5       integer NOT NULL DEFAULT 0 CHECK (children_u5 >= 0),
  stunted           integer NOT NULL DEFAULT 0 CHECK (stunted >= 0 AND stunted <= children_u5),
  extreme_poor      boolean NOT NULL DEFAULT false,
  poverty_decile    smallint CHECK (poverty_decile BETWEEN 1 AND 10),
  unemployed_adults integer NOT NULL DEFAULT 0 CHECK (unemployed_adults >= 0),
  flags             jsonb NOT NULL DEFAULT '{}'::jsonb,
  reported_village  text,                -- the village code the register itself states, if any
  village_code      text,                -- assignment in the active desa set (NULL = unassigned)
  assigned_set      bigint,
  assign_method     text CHECK (assign_method IN ('inside', 'overlap', 'nearest', 'none')),
  retired_at        timestamptz,
  batch_id          bigint REFERENCES import_batch (id),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (register, period, external_id)
);
CREATE INDEX household_village_idx ON household (village_code) WHERE retired_at IS NULL;
CREATE INDEX household_link_idx ON household (link_key);

CREATE TABLE pii.household_person (
  household_id bigint PRIMARY KEY REFERENCES public.household (id) ON DELETE CASCADE,
  head_name    text NOT NULL DEFAULT '',
  address      text NOT NULL DEFAULT '',
  nik_hash     bytea,
  kk_hash      bytea,
  location     geometry(Point, 4326)
);
CREATE INDEX household_person_location_gix ON pii.household_person USING gist (location);

-- Erasure requests (UU 27/2022): kept so that a restore can re-apply them.
CREATE TABLE pii.erasure (
  id           bigserial PRIMARY KEY,
  register     text NOT NULL,
  external_id  text NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  requested_by text NOT NULL DEFAULT current_user,
  note         text NOT NULL DEFAULT ''
);

-- Village population per year: denominators for rates.
CREATE TABLE village_population (
  code       text NOT NULL,
  year       integer NOT NULL,
  population integer NOT NULL CHECK (population >= 0),
  households integer CHECK (households >= 0),
  source     text NOT NULL DEFAULT '',
  PRIMARY KEY (code, year)
);

-- Optional village indicators for sectors with no household flag.
CREATE TABLE village_indicator (
  code      text NOT NULL,
  year      integer NOT NULL,
  indicator text NOT NULL,
  value     double precision NOT NULL,
  source    text NOT NULL DEFAULT '',
  PRIMARY KEY (code, year, indicator)
);

-- ---------------------------------------------------------------- companies and plans
CREATE TABLE company (
  id               bigserial PRIMARY KEY,
  key              text NOT NULL UNIQUE,
  name             text NOT NULL,
  sectors          text[] NOT NULL DEFAULT '{}',
  budget_per_year  bigint NOT NULL DEFAULT 0 CHECK (budget_per_year >= 0),
  budget_by_sector jsonb NOT NULL DEFAULT '{}'::jsonb,
  area             geometry(MultiPolygon, 4326),
  sites            geometry(MultiPoint, 4326),
  reach_km         double precision NOT NULL DEFAULT 5 CHECK (reach_km >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX company_area_gix ON company USING gist (area);
CREATE INDEX company_sites_gix ON company USING gist (sites);

CREATE TABLE plan (
  id                 bigserial PRIMARY KEY,
  company_id         bigint NOT NULL REFERENCES company (id) ON DELETE CASCADE,
  year               integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  village_code       text NOT NULL,
  sector             text NOT NULL,
  sites              geometry(MultiPoint, 4326),
  budget             bigint NOT NULL CHECK (budget >= 0),
  target_households  integer NOT NULL DEFAULT 0 CHECK (target_households >= 0),
  status             text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'approved', 'running', 'done', 'rejected')),
  realised_budget    bigint CHECK (realised_budget >= 0),
  realisation_report text NOT NULL DEFAULT '',
  needs_review       boolean NOT NULL DEFAULT false,
  created_by         text NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  approved_by        text,
  approved_at        timestamptz
);
CREATE INDEX plan_village_idx ON plan (village_code, sector);
CREATE INDEX plan_company_idx ON plan (company_id, year);

-- ---------------------------------------------------------------- weights and priority lists (versioned)
CREATE TABLE weights_version (
  id         bigserial PRIMARY KEY,
  weights    jsonb NOT NULL,
  k          double precision NOT NULL DEFAULT 0.3333333333333333 CHECK (k > 0 AND k <= 1),
  created_by text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  note       text NOT NULL DEFAULT ''
);
INSERT INTO weights_version (weights, created_by, note)
VALUES ('{"stunting": 0.3333333333333333, "extreme_poverty": 0.3333333333333333, "unemployment": 0.3333333333333333}',
        'system', 'bobot bawaan / default weights');

CREATE TABLE priority_list (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL,
  year       integer NOT NULL,
  created_by text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (name, year)
);
-- Every edit of a list is a new version; old versions are kept.
CREATE TABLE priority_list_version (
  list_id    bigint NOT NULL REFERENCES priority_list (id) ON DELETE CASCADE,
  version    integer NOT NULL,
  created_by text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  note       text NOT NULL DEFAULT '',
  PRIMARY KEY (list_id, version)
);
CREATE TABLE priority_item (
  list_id      bigint NOT NULL,
  version      integer NOT NULL,
  position     integer NOT NULL,
  village_code text NOT NULL,
  note         text NOT NULL DEFAULT '',
  needs_review boolean NOT NULL DEFAULT false,
  PRIMARY KEY (list_id, version, position),
  FOREIGN KEY (list_id, version) REFERENCES priority_list_version (list_id, version) ON DELETE CASCADE
);

-- ---------------------------------------------------------------- users, sessions, tokens, audit
CREATE TABLE app_user (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._@-]{2,64}$'),
  role          text NOT NULL CHECK (role IN ('planner', 'company', 'officer', 'gis', 'admin')),
  company_id    bigint REFERENCES company (id),
  area          text[] NOT NULL DEFAULT '{}',   -- officer: village codes assigned
  password_hash text,
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'company') = (company_id IS NOT NULL))
);

CREATE TABLE api_token (
  id           bigserial PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  token_hash   bytea NOT NULL UNIQUE,
  label        text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

CREATE TABLE user_session (
  id_hash    bytea PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  remote_addr text NOT NULL DEFAULT ''
);

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL DEFAULT '',
  actor_role  text NOT NULL DEFAULT '',
  action      text NOT NULL,
  object      text NOT NULL DEFAULT '',
  purpose     text NOT NULL DEFAULT '',
  remote_addr text NOT NULL DEFAULT '',
  ok          boolean NOT NULL DEFAULT true,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_action_idx ON audit_log (action, at);

-- ---------------------------------------------------------------- data versions for caches
-- Each layer's data version is bumped in the same transaction as the change and announced
-- with NOTIFY so every server process drops stale tiles.
CREATE TABLE layer_version (
  layer      text PRIMARY KEY,
  version    bigint NOT NULL DEFAULT 1,
  changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO layer_version (layer) VALUES ('desa'), ('kecamatan'), ('companies'), ('need'), ('plans');

CREATE FUNCTION bump_layer(p_layer text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  INSERT INTO layer_version (layer) VALUES (p_layer)
  ON CONFLICT (layer) DO UPDATE SET version = layer_version.version + 1, changed_at = now()
  RETURNING version INTO v;
  PERFORM pg_notify('sinergi_layers', p_layer || ':' || v);
  RETURN v;
END $$;

-- ---------------------------------------------------------------- the web server's role
-- The web server connects as (or SET ROLE to) sinergi_web, which has no access to schema pii.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sinergi_web') THEN
    CREATE ROLE sinergi_web NOLOGIN;
  END IF;
  IF NOT pg_has_role(current_user, 'sinergi_web', 'MEMBER') THEN
    EXECUTE format('GRANT sinergi_web TO %I', current_user);
  END IF;
END $$;

REVOKE ALL ON SCHEMA pii FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA pii FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO sinergi_web;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO sinergi_web;
GRANT INSERT, UPDATE, DELETE ON company, plan, weights_version, priority_list, priority_list_version,
  priority_item, user_session, audit_log, app_user, api_token TO sinergi_web;
GRANT INSERT, UPDATE ON layer_version TO sinergi_web;
GRANT UPDATE (last_used_at) ON api_token TO sinergi_web;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sinergi_web;
GRANT EXECUTE ON FUNCTION bump_layer(text) TO sinergi_web;
