#!/usr/bin/env bash
# Usage: scripts/bench_boundaries.sh [--n 80000] [--runs 3] [--keep]
#
# Boundary import benchmark (issue 3). On a fresh database "sinergi_bench_boundaries"
# of the private cluster (scripts/pg.sh), for two files — the real villages
# (bekasi_desa.geojson, 187) and a synthetic national-scale layer of N villages written
# by `sinergi boundaries synth` (our own generator: a jittered grid, 33 vertices per
# village) — measures in one run:
#   reference  ogr2ogr -f PostgreSQL of the same file into a new table (PROMOTE_TO_MULTI,
#              with its GiST index), wall time
#   load       `sinergi boundaries import FILE --level desa --no-topology` into a draft
#              set (parse, COPY, validity check, repair, orientation, area), wall time
#   validate   the same import as --dry-run with the topology (overlaps and gaps)
#   diff       `sinergi boundaries diff A B` between two loads of the same file
# Each figure is the median of --runs runs (1 for the synthetic file's validate and
# diff). Prints load/reference (target ≤ 1.5) and the validation + topology + diff
# seconds (target at 80,000 villages: ≤ 300 s). --keep keeps the database.
#
# Environment: SINERGI_SHARED_DATA (default ../shared/data/bekasi), DATABASE_URL (admin
# URL of a cluster that may create databases; default scripts/pg.sh start).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n=80000
runs=3
keep=0
while (($#)); do
  case $1 in
    --n) n=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) die "unknown option $1 (usage: scripts/bench_boundaries.sh [--n N] [--runs R] [--keep])" ;;
  esac
done
command -v ogr2ogr >/dev/null || die "ogr2ogr is not installed (scripts/deps.sh)"
command -v jq >/dev/null || die "jq is not installed"
data=${SINERGI_SHARED_DATA:-$SINERGI_ROOT/../shared/data/bekasi}
[[ -f $data/bekasi_desa.geojson ]] || die "real Bekasi data not found in $data (set SINERGI_SHARED_DATA)"
bench_db sinergi_bench_boundaries
# GDAL's PostgreSQL driver takes a URI only with the postgresql:// scheme.
pgurl=${url/#postgres:\/\//postgresql://}
export DATABASE_URL=$url
$S migrate >/dev/null
log "writing the synthetic file ($n villages)"
$S boundaries synth --n "$n" >"$work/synth.geojson"

# secs CMD...: run CMD (stdout to $work/out), print its wall time in seconds.
secs() {
  local t0
  t0=$(now_us)
  "$@" >"$work/out"
  awk -v d=$(($(now_us) - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }'
}

# median of the numbers on stdin.
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

bench_file() {
  local label=$1 file=$2 r=$3 i ref load val diff a b
  ref=$(for ((i = 0; i < r; i++)); do
    secs ogr2ogr -f PostgreSQL "PG:$pgurl" "$file" -nln "ref_$i" -nlt PROMOTE_TO_MULTI -overwrite
  done | median)
  local ids=()
  load=$(for ((i = 0; i < r; i++)); do
    secs "$S" boundaries import "$file" --level desa --no-topology --json
    jq -r .id "$work/out" >>"$work/ids"
  done | median)
  mapfile -t ids <"$work/ids"
  rm -f "$work/ids"
  val=$(secs "$S" boundaries import "$file" --level desa --dry-run --json)
  jq -c '{overlaps: .report.topology.overlap_count, gaps: .report.topology.gap_count, timings_ms: .report.timings_ms}' "$work/out" >&2
  a=${ids[0]} b=${ids[${#ids[@]} - 1]}
  if [[ $a == "$b" ]]; then
    "$S" boundaries import "$file" --level desa --no-topology --json >"$work/out"
    b=$(jq -r .id "$work/out")
  fi
  diff=$(secs "$S" boundaries diff "$a" "$b" --json)
  jq -c '{unchanged, changed: (.changed | length), timing_ms}' "$work/out" >&2
  awk -v l="$label" -v ref="$ref" -v load="$load" -v val="$val" -v diff="$diff" 'BEGIN {
    printf "%-22s ogr2ogr %8.2f s   load %8.2f s   load/ogr2ogr %5.2f   validate+topology %8.2f s   diff %8.2f s\n",
      l, ref, load, load / ref, val, diff }'
  psql "$url" -qX -c "DELETE FROM boundary_set WHERE status = 'draft'" >/dev/null
}

log "bekasi_desa.geojson (187 villages), $runs runs"
bench_file "bekasi_desa (187)" "$data/bekasi_desa.geojson" "$runs"
log "synthetic ($n villages)"
bench_file "synthetic ($n)" "$work/synth.geojson" 1
