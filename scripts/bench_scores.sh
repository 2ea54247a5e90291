#!/usr/bin/env bash
# Benchmark: full need-score recompute (`sinergi score`) against a bare GROUP BY
# over the same households, measured in the same run on the same database.
#
# Usage:
#   DATABASE_URL=... scripts/bench_scores.sh [ROUNDS]
#       uses the database as it is (an active desa set and households, e.g. `sinergi demo`).
#   scripts/bench_scores.sh --households N --villages real|synth:N [--rounds R] [--keep] [--db NAME]
#       builds a fresh database NAME (default sinergi_bench_scores) on the cluster of DATABASE_URL (or
#       scripts/pg.sh): villages = the real 187 Bekasi villages
#       ($SINERGI_SHARED_DATA/bekasi_desa.geojson, default ../shared/data/bekasi, or $SINERGI_BEKASI_DESA) or
#       `sinergi boundaries synth --n N`; N households of one register and period
#       generated in SQL (INSERT … SELECT generate_series: flags drawn per household,
#       village drawn uniformly; the secondary indexes are dropped for the load and
#       rebuilt after it), then VACUUM ANALYZE. --keep keeps the database; rerun the
#       rounds on it with DATABASE_URL=<its url> scripts/bench_scores.sh R.
#
# Each round times the reference (the bare GROUP BY, by psql's \timing: server
# time plus one round trip) and then `sinergi score`, whose "total" timing is the
# whole recompute inside the process: active set, weights, adjacency check,
# household aggregate, village lookups, index, smoothing, Gi* with 999
# permutations, writing the run (COPY) and the commit. Process start-up and the
# migration check are excluded from both. The ratio without Gi* is printed too.
#
# --api [--api-bin BIN]: afterwards, start `sinergi serve` (BIN, default the
# freshly built one: pass an older build to compare) and time the company ranking
# request GET /api/v1/villages?limit=50 (disclosure-controlled view) 8 times with
# curl: the first request after a recompute builds the run's controlled table,
# the others are served from it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rounds=3 households=0 villages="" keep=0 dbname=sinergi_bench_scores api=0 apibin=""
while (($#)); do
  case $1 in
  --rounds) rounds=$2; shift 2 ;;
  --households) households=$2; shift 2 ;;
  --villages) villages=$2; shift 2 ;;
  --keep) keep=1; shift ;;
  --db) dbname=$2; shift 2 ;;
  --api) api=1; shift ;;
  --api-bin) apibin=$2; shift 2 ;;
  -h | --help) print_usage "$0"; exit 0 ;;
  [0-9]*) rounds=$1; shift ;;
  *) die "unknown argument $1 (see --help)" ;;
  esac
done

if ((households > 0)); then
  [[ -n $villages ]] || die "--households needs --villages real|synth:N"
  bench_db "$dbname"
  export DATABASE_URL=$url
  $S migrate >/dev/null
  t0=$(now_us)
  case $villages in
  real)
    desa=${SINERGI_BEKASI_DESA:-${SINERGI_SHARED_DATA:-$SINERGI_ROOT/../shared/data/bekasi}/bekasi_desa.geojson}
    [[ -f $desa ]] || die "$desa not found (set SINERGI_BEKASI_DESA)"
    $S boundaries import "$desa" --level desa --activate >/dev/null
    ;;
  synth:*)
    $S boundaries synth --n "${villages#synth:}" >"$work/synth.geojson"
    $S boundaries import "$work/synth.geojson" --level desa --no-topology --activate >/dev/null
    ;;
  *) die "--villages must be real or synth:N" ;;
  esac
  log "villages loaded in $(since "$t0")s; generating $households households in SQL"
  t0=$(now_us)
  # Rates near the demo regency's: a quarter of households with an under-five,
  # a fifth of those stunted, 6% extreme poor, 12% with an unemployed adult.
  psql "$url" -qX -v ON_ERROR_STOP=1 -v n="$households" <<'SQL'
SET synchronous_commit = off;
CREATE TEMP TABLE vv AS
  SELECT (row_number() OVER (ORDER BY v.code) - 1)::int AS i, v.code, v.set_id
  FROM village v JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active' AND s.level = 'desa';
CREATE UNIQUE INDEX ON vv (i);
ANALYZE vv;
SELECT count(*) AS nv FROM vv \gset
-- Index maintenance row by row would dominate the load; the same indexes are
-- rebuilt after it.
CREATE TEMP TABLE idx AS SELECT indexdef FROM pg_indexes
  WHERE schemaname = 'public' AND tablename = 'household' AND indexname <> 'household_pkey';
ALTER TABLE household DROP CONSTRAINT household_register_period_external_id_key;
SELECT string_agg(format('DROP INDEX %I', indexname), '; ') AS drops FROM pg_indexes
  WHERE schemaname = 'public' AND tablename = 'household' AND indexname <> 'household_pkey' \gset
:drops;
INSERT INTO household (register, period, external_id, source, members, children_u5, stunted, extreme_poor,
  unemployed_adults, village_code, assigned_set, assign_method)
SELECT 'survey', '2026', 'b' || g, 'bench', 1 + cu5 + adults, cu5, CASE WHEN cu5 > 0 AND r2 < 0.2 THEN 1 ELSE 0 END,
  r3 < 0.06, CASE WHEN r4 < 0.12 THEN 1 ELSE 0 END, vv.code, vv.set_id, 'inside'
FROM (SELECT g, (random() < 0.25)::int AS cu5, (random() * 4)::int AS adults, random() AS r2, random() AS r3,
        random() AS r4, floor(random() * :nv)::int AS vi
      FROM generate_series(1, :n) g) x
JOIN vv ON vv.i = x.vi;
ALTER TABLE household ADD CONSTRAINT household_register_period_external_id_key UNIQUE (register, period, external_id);
SELECT string_agg(indexdef, '; ') AS creates FROM idx WHERE indexdef NOT LIKE '%household_register_period_external_id_key%' \gset
:creates;
VACUUM ANALYZE household;
SQL
  log "households generated in $(since "$t0")s"
fi

: "${DATABASE_URL:?set DATABASE_URL (or use --households N --villages ...)}"
tmpd=$(mktemp -d)
if [[ -z ${S:-} ]]; then
  S=$tmpd/sinergi
  (cd "$SINERGI_ROOT" && go build -o "$S" ./cmd/sinergi)
fi
period=$(psql "$DATABASE_URL" -Atc "SELECT period FROM household GROUP BY period ORDER BY count(*) DESC LIMIT 1")
n=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM household WHERE period = '$period'")
v=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM village v JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active'")
if ((rounds > 0)); then
t0=$(now_us)
$S score --period "$period" >/dev/null # warm-up; builds the adjacency once per boundary set
log "warm-up score (with the adjacency build) took $(since "$t0")s"
echo "households=$n villages=$v period=$period rounds=$rounds load: $(uptime | sed 's/.*load average: //')"
for i in $(seq "$rounds"); do
  base=$(psql "$DATABASE_URL" -At -c '\timing on' -c "SELECT village_code, count(*), sum(stunted), sum(children_u5),
    count(*) FILTER (WHERE extreme_poor), sum(unemployed_adults) FROM household
    WHERE period = '$period' AND retired_at IS NULL GROUP BY village_code" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
  $S score --period "$period" --json >"$tmpd/score.json"
  python3 - "$base" "$tmpd/score.json" <<'PY'
import json, sys
base = float(sys.argv[1])
t = json.load(open(sys.argv[2]))["runs"][0]["timings_ms"]
total = t["total"]
print(f"groupby_ms={base:.0f} score_ms={total:.0f} ratio={total/base:.2f} ratio_without_gi={(total-t['hotspots'])/base:.2f}  "
      f"(prepare {t['prepare']:.0f}, aggregate {t['aggregate']:.0f}, index {t['index']:.1f}, hotspots {t['hotspots']:.0f}, "
      f"write {t['write']:.0f} incl. marshal {t['marshal']:.0f} and commit ms)")
PY
done | tee "$tmpd/rounds.out"
python3 - "$tmpd/rounds.out" <<'PY'
import re, statistics, sys
r = [float(m.group(1)) for m in re.finditer(r" ratio=([0-9.]+)", open(sys.argv[1]).read())]
print(f"median ratio {statistics.median(r):.2f} (min {min(r):.2f}, max {max(r):.2f}); load: ", end="", flush=True)
PY
uptime | sed 's/.*load average: //'

fi

if ((api)); then
  port=${SINERGI_BENCH_PORT:-18097}
  cid=$(psql "$DATABASE_URL" -qAtX -c "INSERT INTO company (key, name, sectors) VALUES ('bench-sdc', 'PT Bench', '{kesehatan}')
    ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name RETURNING id")
  tok=$($S users add --name "bench-company-$$" --role company --company "$cid" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  # A generous request timeout, so a slow first request is measured, not cut off.
  ${apibin:-$S} serve --addr "127.0.0.1:$port" --no-migrate --request-timeout 300s 2>/dev/null &
  srv=$!
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.2; done
  kill -0 "$srv" 2>/dev/null || die "sinergi serve did not start on port $port (in use? set SINERGI_BENCH_PORT)"
  echo "company ranking GET /api/v1/villages?limit=50 with ${apibin:-this build}, HTTP status:seconds per request:"
  for i in $(seq 8); do
    curl -s -o /dev/null -m 600 -w '%{http_code}:%{time_total} ' -H "Authorization: Bearer $tok" \
      "http://127.0.0.1:$port/api/v1/villages?limit=50" || true
  done
  echo
  kill "$srv" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
  psql "$DATABASE_URL" -qAtX -c "DELETE FROM app_user WHERE name = 'bench-company-$$'" >/dev/null 2>&1 || true
fi
rm -rf "$tmpd"
