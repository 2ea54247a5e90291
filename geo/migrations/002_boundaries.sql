-- Boundary updates (issue 3): draft sets with a validation report, diffs, and the
-- old→new code crosswalk recorded at activation and applied to plans and priority lists.

-- Activation looks up the crosswalk of one switch (from_set, to_set) by old code;
-- "what became of code X" looks it up by the set it was carried into.
CREATE INDEX IF NOT EXISTS code_crosswalk_to_idx ON code_crosswalk (to_set, old_code);
-- Listing and "the active set of a level".
CREATE INDEX IF NOT EXISTS boundary_set_level_idx ON boundary_set (level, status, id);

-- The web role reads sets, reports and the crosswalk; all writes go through the owner.
GRANT SELECT ON boundary_set, village, kecamatan, code_crosswalk TO sinergi_web;
