-- Explained scores as numbers instead of JSON. A run stored ~1 KB of JSON per
-- village (detail); at 80,000 villages that was most of a recompute's write (WAL
-- included) and of every read. New runs store what the columns do not hold as
-- x, a float8[] in the fixed order of matching.ExplainVector, and the village
-- indicators used (json, only where a village has any); score_run.sectors is
-- the order of the sector scores at the end of x. Runs written before keep
-- their detail JSON and are read as before.
ALTER TABLE village_score
  ALTER COLUMN detail DROP NOT NULL,
  ADD COLUMN x double precision[],
  ADD COLUMN village_indicators json,
  ADD CONSTRAINT village_score_explained CHECK (detail IS NOT NULL OR x IS NOT NULL);
ALTER TABLE score_run ADD COLUMN sectors text[];

-- Writing a run's 80,000 rows paid, besides the rows, one foreign-key check per
-- row (the RI trigger) and an insert into village_score_code_idx at a random
-- place: 0.55 s and 0.35 s of a 1.45 s COPY (scripts/bench_scores.sh, 10M
-- households / 80k villages). Rows are only written by the transaction that
-- inserts their run, so the key check is replaced by a statement-level cascade
-- that keeps "deleting a run deletes its rows" for every deleter; readers find
-- a village's newest row by run (primary key (run_id, code)), not by code.
ALTER TABLE village_score DROP CONSTRAINT village_score_run_id_fkey;
DROP INDEX village_score_code_idx;
CREATE INDEX score_run_set_idx ON score_run (set_id, id DESC);

CREATE FUNCTION score_run_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM village_score v USING gone g WHERE v.run_id = g.id;
  RETURN NULL;
END $$;
CREATE TRIGGER score_run_cascade AFTER DELETE ON score_run
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION score_run_cascade();
