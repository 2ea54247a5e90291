-- Need scores (issue 5): village adjacency per boundary set, score runs per period
-- with the weights version and boundary set they came from, per-village scores with
-- their explanation, and the structured default weights.

-- Village adjacency of a boundary set, built once per set from the boundaries with a
-- small snapping tolerance (slivers from independent simplification leave gaps of a
-- few metres between true neighbours). Pairs are stored once, a < b.
CREATE TABLE village_adjacency_run (
  set_id      bigint PRIMARY KEY REFERENCES boundary_set (id) ON DELETE CASCADE,
  tolerance_m double precision NOT NULL,
  pairs       integer NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE village_adjacency (
  set_id bigint NOT NULL REFERENCES village_adjacency_run (set_id) ON DELETE CASCADE,
  a      text NOT NULL,
  b      text NOT NULL,
  PRIMARY KEY (set_id, a, b),
  CHECK (a < b)
);
CREATE INDEX village_adjacency_b_idx ON village_adjacency (set_id, b);

-- One scoring of one period over one boundary set with one weights version.
CREATE TABLE score_run (
  id           bigserial PRIMARY KEY,
  period       text NOT NULL,
  set_id       bigint NOT NULL REFERENCES boundary_set (id) ON DELETE CASCADE,
  weights_id   bigint NOT NULL REFERENCES weights_version (id),
  k            double precision NOT NULL,
  reason       text NOT NULL DEFAULT '',
  created_by   text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  households   bigint NOT NULL DEFAULT 0,   -- linked households scored
  villages     integer NOT NULL DEFAULT 0,
  linked       boolean NOT NULL DEFAULT false, -- households merged across registers by link key
  need_version bigint NOT NULL DEFAULT 0,   -- layer_version('need') the run saw (staleness check)
  params       jsonb NOT NULL DEFAULT '{}'::jsonb,  -- seed, permutations, alpha, tolerance
  timings      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX score_run_period_idx ON score_run (period, set_id, id DESC);

-- Per-village score of a run. The columns hold what rankings sort and filter on;
-- detail holds the whole explained score (counts, rates, contributions, sectors).
CREATE TABLE village_score (
  run_id         bigint NOT NULL REFERENCES score_run (id) ON DELETE CASCADE,
  code           text NOT NULL,
  kecamatan_code text NOT NULL,
  households     bigint NOT NULL,
  in_need        bigint NOT NULL,
  h              double precision,
  a              double precision,
  m0             double precision,
  h_eb           double precision,
  m0_eb          double precision,
  density        double precision,
  hotspot        text NOT NULL CHECK (hotspot IN ('hot', 'cold', 'not_significant')),
  gi_z           double precision,
  gi_p           double precision,
  gi_q           double precision,
  rank           integer NOT NULL,
  rank_kecamatan integer NOT NULL,
  detail         jsonb NOT NULL,
  PRIMARY KEY (run_id, code)
);
CREATE INDEX village_score_code_idx ON village_score (code, run_id);

-- The structured default weights: the same equal thirds and k = 1/3 as version 1,
-- plus the documented indicator→sector mapping.
INSERT INTO weights_version (weights, k, created_by, note)
VALUES ('{"indicators": {"stunting": 0.3333333333333333, "extreme_poverty": 0.3333333333333333, "unemployment": 0.3333333333333333},
  "sectors": {"kesehatan": {"stunting": 1}, "ekonomi": {"extreme_poverty": 0.5, "unemployment": 0.5},
    "pendidikan": {"school_participation": 1}, "infrastruktur": {"road_access": 1}, "lingkungan": {"clean_water": 1}},
  "village_indicators": {"school_participation": {"higher_is_better": true, "scale": 100},
    "road_access": {"higher_is_better": true, "scale": 100}, "clean_water": {"higher_is_better": true, "scale": 100}}}',
  0.3333333333333333, 'system', 'bobot bawaan dengan pemetaan sektor / default weights with sector mapping');

GRANT SELECT ON village_adjacency_run, village_adjacency, score_run, village_score TO sinergi_web;
