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
