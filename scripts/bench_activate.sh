#!/usr/bin/env bash
# Usage: scripts/bench_activate.sh [--households N] [--keep] [--bin OTHER_SINERGI]
#
# Boundary diff and activation over households (issues 3/4). Loads the demo (200,000
# households by default) into a fresh database "sinergi_bench_activate", exports the
# active desa set (set X), writes set Y = X with one village shifted 0.0005° east (a
# corrected border line: it overlaps one neighbour and opens a gap at another),
# imports both, activates X untimed, then times `boundaries diff X Y`,
# `boundaries activate Y` and the rollback `boundaries activate X`, printing each
# command's JSON summary (households checked, moved, timing split). --bin times
# another build (e.g. an older commit) on the same data, after ours, for a
# before/after comparison in the same run.
#
# Environment: DATABASE_URL (admin URL of a cluster that may create databases;
# default scripts/pg.sh start).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

households=200000
keep=0
other=
while (($#)); do
  case $1 in
    --households) households=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --bin) other=$2; shift 2 ;;
    *) die "unknown option $1 (usage: scripts/bench_activate.sh [--households N] [--keep] [--bin OTHER_SINERGI])" ;;
  esac
done
command -v jq >/dev/null || die "jq is not installed (apt-get install jq)"
bench_db sinergi_bench_activate
export DATABASE_URL=$url XDG_STATE_HOME=$work/state

log "loading the demo with $households households"
$S demo --households "$households" >/dev/null
$S boundaries export --out "$work/a.geojson" >/dev/null
c=$(jq -r '.features[5].properties.code' "$work/a.geojson")
jq --arg c "$c" '.features |= map(if .properties.code == $c then .geometry.coordinates |= walk(if type == "array" and length == 2 and (.[0] | type) == "number" then [.[0] + 0.0005, .[1]] else . end) else . end)' \
  "$work/a.geojson" >"$work/b.geojson"
x=$($S boundaries import "$work/a.geojson" --level desa --no-topology --json | jq -r .id)
y=$($S boundaries import "$work/b.geojson" --level desa --no-topology --json | jq -r .id)
$S boundaries activate "$x" --json >/dev/null

timed() { # LABEL CMD...: run, print seconds and the JSON summary
  local label=$1 t0
  shift
  t0=$(now_us)
  "$@" >"$work/out"
  printf '%-28s %8.2f s  %s\n' "$label" "$(since "$t0")" "$(jq -c 'first(.. | objects | select(has("households_checked") or has("households_moving"))) | {households_checked, households_moving, households_moved, timing_ms} | with_entries(select(.value != null))' "$work/out")"
}
run() { # NAME BIN
  echo "== $1; changed village $c; sets X=$x Y=$y; $(uptime)"
  timed "diff X Y" "$2" boundaries diff "$x" "$y" --json
  timed "activate Y" "$2" boundaries activate "$y" --json
  timed "activate X (rollback)" "$2" boundaries activate "$x" --json
}
run "this build" "$S"
if [[ -n $other ]]; then run "$other" "$other"; fi
