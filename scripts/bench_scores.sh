#!/usr/bin/env bash
# Benchmark: full score recompute (`sinergi score`) against a bare GROUP BY over the
# same households, measured in the same run on the same database.
#   DATABASE_URL=... scripts/bench_scores.sh [rounds]
# The database must hold an active desa set and households (e.g. `sinergi demo`, or
# real boundaries + `sinergi households generate --boundaries ... | households import`).
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL}"
rounds=${1:-3}
cd "$(dirname "$0")/.."
go build -o /tmp/sinergi-bench ./cmd/sinergi
period=$(psql "$DATABASE_URL" -Atc "SELECT period FROM household GROUP BY period ORDER BY count(*) DESC LIMIT 1")
n=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM household WHERE period = '$period'")
v=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM village v JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active'")
/tmp/sinergi-bench score --period "$period" >/dev/null # warm-up; builds the adjacency once per boundary set
echo "households=$n villages=$v period=$period rounds=$rounds"
# The reference is the bare GROUP BY timed by psql (server round trip); the score is
# timed inside `sinergi score` (aggregate + index + hot spots + write), so process
# start-up and migration checks are excluded from both.
for i in $(seq "$rounds"); do
  base=$(psql "$DATABASE_URL" -At -c '\timing on' -c "SELECT village_code, count(*), sum(stunted), sum(children_u5),
    count(*) FILTER (WHERE extreme_poor), sum(unemployed_adults) FROM household
    WHERE period = '$period' AND retired_at IS NULL GROUP BY village_code" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
  /tmp/sinergi-bench score --period "$period" --json > /tmp/bench_score.json
  python3 - "$base" <<'PY'
import json, sys
base = float(sys.argv[1])
t = json.load(open("/tmp/bench_score.json"))["runs"][0]["timings_ms"]
total = sum(t.get(k, 0) for k in ("aggregate", "index", "hotspots", "write"))
print(f"groupby_ms={base:.0f} score_ms={total:.0f} ratio={total/base:.2f}  "
      f"(aggregate {t['aggregate']:.0f}, index {t['index']:.1f}, hotspots {t['hotspots']:.0f}, write {t['write']:.0f} ms)")
PY
done
