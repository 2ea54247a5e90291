-- The company view of a score run, stored beside the exact one. DESIGN.md gives
-- company users disclosure-controlled scores (counts 1–4 suppressed, others rounded
-- to base 5, everything derived recomputed from the shown counts). The JSON API
-- computes that view in Go (matching.ControlScores); the desa tiles and OGC items
-- are built in SQL, so the run stores the controlled rank, rank within the
-- kecamatan and smoothed M0 the same function produced, and companies are served
-- these columns instead of the exact ones.
ALTER TABLE village_score
  ADD COLUMN c_rank integer,
  ADD COLUMN c_rank_kecamatan integer,
  ADD COLUMN c_m0_eb double precision;

-- The explained score is written once per run and only ever read whole (as text,
-- or decoded in Go); json keeps the text as sent, where jsonb would parse and
-- rebuild ~1 KB per village on every COPY (80,000 villages: ~40 % of the write).
ALTER TABLE village_score ALTER COLUMN detail TYPE json USING detail::json;
