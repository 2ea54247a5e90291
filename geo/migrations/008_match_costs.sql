-- Issue 6: versioned unit costs for the matcher, and what a saved proposal was built from.
--
-- match_unit_cost (migration 005) stays the current cost per sector; every change
-- through the API/CLI also appends a row here with the whole set of costs, who and
-- when, so a proposal can name the exact costs it used (cost_version) and an old
-- proposal is never reinterpreted after a change.
CREATE TABLE match_cost_version (
  id         bigserial PRIMARY KEY,
  costs      jsonb NOT NULL,            -- {"kesehatan": 2500000, ...}: rupiah per in-need household
  note       text NOT NULL DEFAULT '',
  created_by text NOT NULL DEFAULT 'system',
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (jsonb_typeof(costs) = 'object')
);
INSERT INTO match_cost_version (costs, note, created_by)
SELECT coalesce(jsonb_object_agg(sector, rupiah ORDER BY sector), '{}'::jsonb),
  'biaya satuan awal (initial unit costs)', 'system'
FROM match_unit_cost;

-- The basis of a saved proposal: the unit-cost version and costs, and the score run
-- (period, weights version) its need came from. score_run_id has no foreign key:
-- old score runs are pruned, the proposal keeps the numbers in basis.
ALTER TABLE match_proposal ADD COLUMN cost_version bigint REFERENCES match_cost_version (id);
ALTER TABLE match_proposal ADD COLUMN score_run_id bigint;
ALTER TABLE match_proposal ADD COLUMN basis jsonb NOT NULL DEFAULT '{}'::jsonb;

GRANT SELECT, INSERT ON match_cost_version TO sinergi_web;
GRANT USAGE ON SEQUENCE match_cost_version_id_seq TO sinergi_web;
GRANT INSERT ON match_unit_cost TO sinergi_web;
