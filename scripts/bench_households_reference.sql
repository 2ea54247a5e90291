-- Reference for scripts/bench_households.sh: the same household CSV loaded the plain
-- SQL way, measured in the same run as `sinergi households import`.
--   1. COPY the CSV into a logged staging table (typed columns, client-side \copy
--      like the importer's COPY);
--   2. one INSERT … SELECT … ON CONFLICT DO UPDATE into a logged table with the same
--      indexes as household + pii.household_person together (primary key, unique
--      (register, period, external_id), village partial index, link key, GiST on the
--      location), with identity numbers hashed (sha256 with a key prefix) and the
--      village found by a GiST spatial join (ST_Intersects against the active set;
--      DISTINCT ON keeps one row per id and the lowest village code).
-- It does none of the importer's checks (reject report, duplicate report, gap rule,
-- change detection, erasures, audit), so it is a lower bound for the same work.
-- It needs a clean CSV (plain COPY stops at the first malformed row): the benchmark
-- gives it the same households generated with --dirty 0.
-- Run as: psql URL -v set_id=ID -f bench_households_reference.sql < clean.csv
-- (set_id: the active desa set; the CSV comes on standard input).
\set ON_ERROR_STOP on
\timing on
DROP TABLE IF EXISTS ref_stage, ref_household;
CREATE TABLE ref_stage (
  id_keluarga text, no_kk text, nik text, nama_kepala text, alamat text, kode_desa text,
  longitude float8, latitude float8, jumlah_anggota int, balita int, balita_stunting int,
  miskin_ekstrem int, desil smallint, penganggur int);
CREATE TABLE ref_household (
  id bigserial PRIMARY KEY,
  register text NOT NULL, period text NOT NULL, external_id text NOT NULL,
  link_key bytea, members int, children_u5 int, stunted int, extreme_poor bool, poverty_decile smallint,
  unemployed_adults int, reported_village text, village_code text, retired_at timestamptz,
  head_name text, address text, nik_hash bytea, kk_hash bytea, location geometry(Point, 4326),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (register, period, external_id));
CREATE INDEX ON ref_household (village_code) WHERE retired_at IS NULL;
CREATE INDEX ON ref_household (link_key);
CREATE INDEX ON ref_household USING gist (location);
\echo REF_START
\copy ref_stage FROM pstdin WITH (FORMAT csv, HEADER true)
INSERT INTO ref_household AS h (register, period, external_id, link_key, members, children_u5, stunted, extreme_poor,
  poverty_decile, unemployed_adults, reported_village, village_code, head_name, address, nik_hash, kk_hash, location)
SELECT DISTINCT ON (s.id_keluarga) 'p3ke', '2026', s.id_keluarga,
  sha256(convert_to('k3y' || s.no_kk, 'UTF8')), s.jumlah_anggota, s.balita, s.balita_stunting, s.miskin_ekstrem = 1,
  nullif(s.desil, 0), s.penganggur, s.kode_desa, v.code, s.nama_kepala, s.alamat,
  sha256(convert_to('k3y' || s.nik, 'UTF8')), sha256(convert_to('k3y' || s.no_kk, 'UTF8')), s.pt
FROM (SELECT *, ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) AS pt FROM ref_stage) s
LEFT JOIN village v ON v.set_id = :set_id AND ST_Intersects(v.geom, s.pt)
ORDER BY s.id_keluarga, v.code
ON CONFLICT (register, period, external_id) DO UPDATE SET
  link_key = EXCLUDED.link_key, members = EXCLUDED.members, children_u5 = EXCLUDED.children_u5,
  stunted = EXCLUDED.stunted, extreme_poor = EXCLUDED.extreme_poor, poverty_decile = EXCLUDED.poverty_decile,
  unemployed_adults = EXCLUDED.unemployed_adults, reported_village = EXCLUDED.reported_village,
  village_code = EXCLUDED.village_code, head_name = EXCLUDED.head_name, address = EXCLUDED.address,
  nik_hash = EXCLUDED.nik_hash, kk_hash = EXCLUDED.kk_hash, location = EXCLUDED.location, updated_at = now();
\echo REF_END
