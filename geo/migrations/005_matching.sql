-- Issue 6: companies' matcher runs (proposals), planner pins and exclusions, unit costs,
-- and the link from accepted proposals to the CSR plans they created.

-- Rupiah needed to serve one in-need household, per sector (MODEL.md: u_s). Planners edit it;
-- every proposal stores the costs it used, so changing them never rewrites an old proposal.
CREATE TABLE match_unit_cost (
  sector     text PRIMARY KEY CHECK (sector IN ('pendidikan', 'kesehatan', 'lingkungan', 'infrastruktur', 'ekonomi')),
  rupiah     bigint NOT NULL CHECK (rupiah > 0),
  updated_by text NOT NULL DEFAULT 'system',
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO match_unit_cost (sector, rupiah) VALUES
  ('pendidikan', 3000000), ('kesehatan', 2500000), ('lingkungan', 1500000),
  ('infrastruktur', 5000000), ('ekonomi', 4000000);

-- Planner rules: "company X takes village V [sector S]" (pin) or "never" (exclude).
CREATE TABLE match_rule (
  id           bigserial PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('pin', 'exclude')),
  company_id   bigint NOT NULL REFERENCES company (id) ON DELETE CASCADE,
  village_code text NOT NULL,
  sector       text CHECK (sector IS NULL OR sector IN ('pendidikan', 'kesehatan', 'lingkungan', 'infrastruktur', 'ekonomi')),
  year         integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  note         text NOT NULL DEFAULT '',
  created_by   text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (kind, company_id, village_code, sector, year)
);

-- A matcher run kept for review: its input parameters and the full proposal (assignments
-- with reasons, teams, totals, uncovered villages). Accepting it creates approved plans.
CREATE TABLE match_proposal (
  id          bigserial PRIMARY KEY,
  mode        text NOT NULL CHECK (mode IN ('sector', 'locus')),
  year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  params      jsonb NOT NULL DEFAULT '{}'::jsonb,
  result      jsonb NOT NULL,
  objective   double precision NOT NULL DEFAULT 0,
  status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'accepted', 'discarded')),
  created_by  text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  accepted_by text,
  accepted_at timestamptz
);
CREATE INDEX match_proposal_year_idx ON match_proposal (year, created_at DESC);

ALTER TABLE plan ADD COLUMN proposal_id bigint REFERENCES match_proposal (id) ON DELETE SET NULL;
ALTER TABLE plan ADD COLUMN program text NOT NULL DEFAULT '';
CREATE INDEX plan_year_idx ON plan (year, village_code, sector);

GRANT SELECT ON match_unit_cost, match_rule, match_proposal TO sinergi_web;
GRANT INSERT, UPDATE, DELETE ON match_rule TO sinergi_web;
GRANT INSERT, UPDATE ON match_proposal TO sinergi_web;
GRANT UPDATE ON match_unit_cost TO sinergi_web;
GRANT USAGE ON SEQUENCE match_rule_id_seq, match_proposal_id_seq TO sinergi_web;
