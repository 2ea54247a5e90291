-- Household registers (issue 4): change detection for fast re-imports, hash-key ids
-- for key rotation, erasure records that say what changed, and the officer's
-- by-name read path as a SECURITY DEFINER function (the web role cannot read pii).

-- A salted digest of every imported field (personal ones included) lets a re-import
-- skip unchanged rows with one join. The salt lives in pii, so the web role, which
-- can read household, cannot confirm guesses against the digest.
ALTER TABLE household ADD COLUMN row_digest bytea;
-- Which hash key produced link_key (and the NIK/KK hashes): see `sinergi hashkey`.
ALTER TABLE household ADD COLUMN hash_key_id text;
CREATE INDEX household_retired_idx ON household (register, period) WHERE retired_at IS NOT NULL;

CREATE TABLE pii.secret (
  key   text PRIMARY KEY,
  value bytea NOT NULL
);

-- Erasure records say what was removed from which village's aggregates.
ALTER TABLE pii.erasure ADD COLUMN households integer NOT NULL DEFAULT 0;
ALTER TABLE pii.erasure ADD COLUMN detail jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE INDEX erasure_key_idx ON pii.erasure (register, external_id);

-- Officer reads per hour before the database refuses more (changeable by the owner).
INSERT INTO app_meta (key, value) VALUES ('officer_reads_per_hour', '30') ON CONFLICT (key) DO NOTHING;

-- officer_households is the only way the web server reaches names and addresses.
-- It authenticates the caller itself from the bearer token or session id as the
-- officer presented it (hashed here with SHA-256, as stored in api_token and
-- user_session; the web role can read those hashes, so it must not be able to pass a
-- hash), so a compromised web role still needs a live officer credential; it checks
-- the purpose, the officer's area and the hourly rate, and writes the audit row in
-- the same transaction as the read.
-- Errors use SQLSTATEs SN400 (bad request), SN401, SN403, SN429 that the API maps.
CREATE FUNCTION public.officer_households(p_credential text, p_village text, p_purpose text,
    p_remote text DEFAULT '', p_register text DEFAULT NULL, p_period text DEFAULT NULL)
RETURNS TABLE (register text, period text, external_id text, head_name text, address text,
  lon double precision, lat double precision, members integer, children_u5 integer, stunted integer,
  extreme_poor boolean, poverty_decile smallint, unemployed_adults integer, assign_method text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cred bytea := sha256(convert_to(coalesce(p_credential, ''), 'UTF8'));
  u_name text;
  u_role text;
  u_area text[];
  n_recent bigint;
  lim bigint;
  n_rows bigint;
BEGIN
  SELECT u.name, u.role, u.area INTO u_name, u_role, u_area
  FROM public.api_token t JOIN public.app_user u ON u.id = t.user_id
  WHERE t.token_hash = cred AND t.revoked_at IS NULL AND NOT u.disabled;
  IF u_name IS NULL THEN
    SELECT u.name, u.role, u.area INTO u_name, u_role, u_area
    FROM public.user_session s JOIN public.app_user u ON u.id = s.user_id
    WHERE s.id_hash = cred AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled;
  END IF;
  IF u_name IS NULL THEN
    RAISE EXCEPTION 'kredensial tidak valid (invalid credentials)' USING ERRCODE = 'SN401';
  END IF;
  IF u_role <> 'officer' THEN
    RAISE EXCEPTION 'hanya petugas yang boleh melihat data rumah tangga (only officers may read households)' USING ERRCODE = 'SN403';
  END IF;
  IF p_purpose IS NULL OR length(btrim(p_purpose)) < 5 OR length(p_purpose) > 500 THEN
    RAISE EXCEPTION 'tujuan akses wajib diisi, 5–500 karakter (a purpose of 5–500 characters is required)' USING ERRCODE = 'SN400';
  END IF;
  IF NOT (p_village = ANY (u_area)) THEN
    RAISE EXCEPTION 'desa % di luar wilayah tugas Anda (village % is outside your assigned area)', p_village, p_village
      USING ERRCODE = 'SN403';
  END IF;
  -- Serialise one officer's reads so the rate count cannot be raced.
  PERFORM pg_advisory_xact_lock(hashtext('sinergi.officer.' || u_name));
  SELECT coalesce((SELECT value::bigint FROM public.app_meta WHERE key = 'officer_reads_per_hour'), 30) INTO lim;
  SELECT count(*) INTO n_recent FROM public.audit_log a
  WHERE a.action = 'households.read' AND a.actor = u_name AND a.ok AND a.at > now() - interval '1 hour';
  IF n_recent >= lim THEN
    RAISE EXCEPTION 'batas % akses per jam tercapai (limit of % reads per hour reached)', lim, lim USING ERRCODE = 'SN429';
  END IF;

  RETURN QUERY
  SELECT h.register, h.period, h.external_id, coalesce(p.head_name, ''), coalesce(p.address, ''),
    public.ST_X(p.location), public.ST_Y(p.location), h.members, h.children_u5, h.stunted, h.extreme_poor,
    h.poverty_decile, h.unemployed_adults, h.assign_method
  FROM public.household h LEFT JOIN pii.household_person p ON p.household_id = h.id
  WHERE h.village_code = p_village AND h.retired_at IS NULL
    AND (p_register IS NULL OR h.register = p_register) AND (p_period IS NULL OR h.period = p_period)
  ORDER BY h.register, h.period, h.external_id;
  GET DIAGNOSTICS n_rows = ROW_COUNT;

  INSERT INTO public.audit_log (actor, actor_role, action, object, purpose, remote_addr, ok, detail)
  VALUES (u_name, u_role, 'households.read', 'village:' || p_village, btrim(p_purpose), coalesce(p_remote, ''), true,
    jsonb_build_object('rows', n_rows, 'register', p_register, 'period', p_period));
END $$;

REVOKE ALL ON FUNCTION public.officer_households(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.officer_households(text, text, text, text, text, text) TO sinergi_web;

-- ---------------------------------------------------------------- bulk-load friendly integrity
-- Per-row foreign-key checks dominated household imports: for 200,000 rows the RI
-- triggers took 2.4 s (register), 0.4 s (batch) and 5.3 s (pii → household, which
-- also locks every referenced household row) out of ~20 s of writing. The same
-- guarantees for register and batch are kept by statement-level triggers over
-- transition tables: one set-based check per statement instead of one query per
-- row. Deleting or truncating households still removes their personal data (the
-- old ON DELETE CASCADE).
ALTER TABLE household DROP CONSTRAINT household_register_fkey;
ALTER TABLE household DROP CONSTRAINT household_batch_id_fkey;
ALTER TABLE pii.household_person DROP CONSTRAINT household_person_household_id_fkey;

CREATE FUNCTION household_check_refs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE bad text;
BEGIN
  SELECT n.register INTO bad FROM new_rows n
  WHERE NOT EXISTS (SELECT 1 FROM public.register r WHERE r.key = n.register) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'register % does not exist', bad USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT n.batch_id::text INTO bad FROM new_rows n
  WHERE n.batch_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.import_batch b WHERE b.id = n.batch_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'import batch % does not exist', bad USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER household_refs_insert AFTER INSERT ON household
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION household_check_refs();
CREATE TRIGGER household_refs_update AFTER UPDATE ON household
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION household_check_refs();

-- Registers and batches that households name cannot be deleted or re-keyed.
CREATE FUNCTION household_guard_parent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'register' AND (TG_OP = 'DELETE' OR NEW.key <> OLD.key)
     AND EXISTS (SELECT 1 FROM public.household h WHERE h.register = OLD.key) THEN
    RAISE EXCEPTION 'register % still has households', OLD.key USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF TG_TABLE_NAME = 'import_batch' AND (TG_OP = 'DELETE' OR NEW.id <> OLD.id)
     AND EXISTS (SELECT 1 FROM public.household h WHERE h.batch_id = OLD.id) THEN
    RAISE EXCEPTION 'import batch % still has households', OLD.id USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER register_guard BEFORE DELETE OR UPDATE OF key ON register
  FOR EACH ROW EXECUTE FUNCTION household_guard_parent();
CREATE TRIGGER import_batch_guard BEFORE DELETE OR UPDATE OF id ON import_batch
  FOR EACH ROW EXECUTE FUNCTION household_guard_parent();

-- Personal-data rows are written only by the household importer, from the same
-- staging rows and in the same transaction as their household rows, so the insert
-- side of the old foreign key is not re-checked (a set-based check cost 1.2 s per
-- 200,000 rows); the delete side is kept below.

-- ON DELETE CASCADE, set-based. SECURITY DEFINER: whoever may delete households
-- removes their personal data too, without needing rights on pii.
CREATE FUNCTION household_cascade_pii() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE pii.household_person;
  ELSE
    DELETE FROM pii.household_person p USING old_rows o WHERE p.household_id = o.id;
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION household_cascade_pii() FROM PUBLIC;
CREATE TRIGGER household_cascade_delete AFTER DELETE ON household
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION household_cascade_pii();
CREATE TRIGGER household_cascade_truncate AFTER TRUNCATE ON household
  FOR EACH STATEMENT EXECUTE FUNCTION household_cascade_pii();
