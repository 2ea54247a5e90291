#!/usr/bin/env bash
# Usage: scripts/bench_households.sh [--n 1000000] [--dirty 0.01] [--seed 1] [--keep] [--no-reference]
#
# Household import benchmark (issue 4). On a fresh database "sinergi_bench_households"
# of the private cluster (scripts/pg.sh), loads the real villages (bekasi_desa.geojson),
# generates N households over them weighted by the SP2010 population with a share of
# dirty rows, and measures in one run:
#   reference  scripts/bench_households_reference.sql on the same households generated
#              clean (COPY into a logged staging table, INSERT … ON CONFLICT into a logged
#              table with the same indexes, GiST spatial join to the villages)
#   import     `sinergi households import` of the dirty file (wall time, rows/s, peak
#              RSS of the importer from /usr/bin/time -v)
#   reimport   the same file again (nothing changes)
# and prints the ratios import/reference (target ≤ 1.3) and reimport/import (≤ 0.3),
# the importer's peak RSS (≤ 256 MB) and the database size. --keep keeps the database;
# --no-reference skips the reference (e.g. the one-off 10,000,000-row run).
#
# Environment: SINERGI_SHARED_DATA (default ../shared/data/bekasi), DATABASE_URL (admin
# URL of a cluster that may create databases; default scripts/pg.sh start).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n=1000000
dirty=0.01
seed=1
keep=0
reference=1
while (($#)); do
  case $1 in
    --n) n=$2; shift 2 ;;
    --dirty) dirty=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-reference) reference=0; shift ;;
    *) die "unknown option $1 (usage: scripts/bench_households.sh [--n N] [--dirty P] [--seed S] [--keep] [--no-reference])" ;;
  esac
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is not installed (apt-get install time)"
data=${SINERGI_SHARED_DATA:-$SINERGI_ROOT/../shared/data/bekasi}
[[ -f $data/bekasi_desa.geojson ]] || die "real Bekasi data not found in $data (set SINERGI_SHARED_DATA)"
bench_db sinergi_bench_households
export DATABASE_URL=$url SINERGI_HASH_KEY_FILE=$work/hash.key
$S migrate >/dev/null
set_id=$($S boundaries import "$data/bekasi_desa.geojson" --level desa --activate --json | jq -r .id)

log "generating $n households (dirty $dirty)"
gen=(households generate --n "$n" --seed "$seed" --boundaries "$data/bekasi_desa.geojson"
  --population "$data/bekasi_penduduk_desa_sp2010.csv")
$S "${gen[@]}" --dirty "$dirty" >"$work/households.csv"
log "file: $(du -h "$work/households.csv" | cut -f1)"

ref_s=0
ref_rows=0
if ((reference)); then
  log "generating the same households clean for the reference"
  $S "${gen[@]}" >"$work/clean.csv"
  log "reference (plain SQL)"
  t0=$(now_us)
  psql "$url" -qX -v set_id="$set_id" -f "$SINERGI_ROOT/scripts/bench_households_reference.sql" <"$work/clean.csv" >"$work/ref.log" 2>&1
  ref_s=$(since "$t0")
  ref_rows=$(psql "$url" -qXAt -c "SELECT count(*) FROM ref_household")
  psql "$url" -qX -c "DROP TABLE ref_stage, ref_household" >/dev/null
  rm -f "$work/clean.csv"
fi

log "import"
t0=$(now_us)
SINERGI_TRACE=1 /usr/bin/time -v "$S" households import "$work/households.csv" --register p3ke --period 2026 --json \
  >"$work/import.json" 2>"$work/import.err"
imp_s=$(since "$t0")
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/import.err")
grep '^trace' "$work/import.err" >&2 || true

log "re-import (unchanged file)"
t0=$(now_us)
"$S" households import "$work/households.csv" --register p3ke --period 2026 --json >"$work/reimport.json"
re_s=$(since "$t0")

size=$(psql "$url" -qXAt -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
hh=$(psql "$url" -qXAt -c "SELECT pg_size_pretty(pg_total_relation_size('household') + pg_total_relation_size('pii.household_person'))")
jq -r --arg ref "$ref_s" --arg imp "$imp_s" --arg re "$re_s" --arg rss "$rss_kb" --arg refrows "$ref_rows" \
  --arg size "$size" --arg hh "$hh" --slurpfile re2 "$work/reimport.json" '
  def r2: . * 100 | round / 100;
  "rows in file            \(.rows)  (loaded \(.inserted), rejected \(.rejected), unassigned \(.unassigned))",
  "reference (plain SQL)   \($ref)s  (\($refrows) rows, clean file)",
  "import                  \($imp)s  \((.rows / ($imp | tonumber)) | round) rows/s  ratio to reference \(if ($ref | tonumber) > 0 then ($imp | tonumber) / ($ref | tonumber) | r2 else "n/a" end)  (target ≤ 1.3)",
  "re-import (unchanged)   \($re)s  \(($re | tonumber) / ($imp | tonumber) | r2)× the import (target ≤ 0.3); unchanged \($re2[0].unchanged)",
  "importer peak RSS       \(($rss | tonumber) / 1024 | round) MB (target ≤ 256)",
  "database size           \($size) (household + personal data \($hh))"' "$work/import.json"
