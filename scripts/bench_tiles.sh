#!/usr/bin/env bash
# Usage: scripts/bench_tiles.sh [--duration 10s] [--connections 16] [--threads 2] [--national 80000] [--freshness strict|notify]
#
# Tile benchmark (issue 7). On a fresh database "sinergi_bench_tiles" of the private
# cluster (scripts/pg.sh), loads the real villages (bekasi_desa.geojson) and the
# detailed kecamatan layer (bekasi_kecamatan_alt.geojson), then with wrk on loopback:
#   tiles every desa .mvt tile z8–z15 meeting the bounding box of the 187 villages
#         (2,236 tiles): the tiles a map showing the regency at those zooms requests,
#         the area TileJSON's bounds advertise. 867 of them hold no village and are
#         answered as valid empty tiles (zero bytes, 200) by ours and the reference
#         alike; the other 1,369 meet a village (tileref list -cover villages).
#   cold  our server as shipped (bin from ./cmd/sinergi: auth, JSON logs, metrics) with
#         the tile cache off (--tile-cache-mb 0), vs the reference: a bare Go handler
#         running one plain ST_AsMVT query per tile (scripts/bench/tileref mvt)
#   warm  our server with its cache warm, Accept-Encoding gzip, vs a bare Fiber handler
#         returning the same gzipped bytes for the same URLs (scripts/bench/tileref bytes)
#   sizes gzipped GeoJSON and MVT tiles of the kecamatan layer (641–3,504 vertices per
#         polygon) and of the desa layer of a synthetic national set (boundaries synth
#         --n 80000; --national 0 skips it): median of z12, largest of z8, over the
#         tiles meeting a village
# Prints a table (stdout) with req/s, p99 and the ratios ours/reference. Each is the
# mean of two runs in the order reference, ours, ours, reference (the machine may be
# shared and its load drift), with every run and its load average listed below it.
#
# --freshness notify runs our server with --tile-freshness notify (cached tiles trusted
# on LISTEN/NOTIFY alone, no version read per request); the default is as shipped.
#
# Environment: SINERGI_SHARED_DATA (default ../shared/data/bekasi), DATABASE_URL (admin
# URL of a cluster that may create databases; default scripts/pg.sh start).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

duration=10s
conns=16
threads=2
national=80000
freshness=strict
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --national) national=$2; shift 2 ;;
    --freshness) freshness=$2; shift 2 ;;
    *) die "unknown option $1 (usage: scripts/bench_tiles.sh [--duration 10s] [--connections 16] [--threads 2] [--national N] [--freshness strict|notify])" ;;
  esac
done
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v jq >/dev/null || die "jq is not installed (apt-get install jq)"

data=${SINERGI_SHARED_DATA:-$SINERGI_ROOT/../shared/data/bekasi}
[[ -f $data/bekasi_desa.geojson ]] || die "real Bekasi data not found in $data (set SINERGI_SHARED_DATA)"
admin=${DATABASE_URL:-$("$SINERGI_ROOT/scripts/pg.sh" start)}
db=sinergi_bench_tiles
url=$(printf '%s' "$admin" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

log "building bin/sinergi and tileref"
(cd "$SINERGI_ROOT" && go build -o "$work/sinergi" ./cmd/sinergi && go build -o "$work/tileref" ./scripts/bench/tileref)

psql "$admin" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
export DATABASE_URL=$url
S=$work/sinergi
$S migrate >/dev/null
$S boundaries import "$data/bekasi_desa.geojson" --level desa --activate >/dev/null
# The alt kecamatan layer has names but no codes: number its features 32.16.01… in
# file order (the codes only identify features here).
jq '.features |= [to_entries[] | .value.properties.kode = ("32.16." + ((.key + 1) | tostring | if length == 1 then "0" + . else . end)) | .value]' \
  "$data/bekasi_kecamatan_alt.geojson" >"$work/kecamatan_alt.geojson"
$S boundaries import "$work/kecamatan_alt.geojson" --level kecamatan --code-field kode --name-field WADMKC --activate >/dev/null
token=$($S users add --name bench --role planner --json | jq -r .token)

"$work/tileref" list -db "$url" -minz 8 -maxz 15 -cover extent >"$work/zxy.txt"
"$work/tileref" list -db "$url" -minz 8 -maxz 15 -cover villages >"$work/zxy-villages.txt"
ntiles=$(wc -l <"$work/zxy.txt")
nvillage=$(wc -l <"$work/zxy-villages.txt")
# Shuffled (fixed seed) so that any stretch of a run sees the same mix of zooms.
sed 's#^#/tiles/desa/#; s#$#.mvt#' "$work/zxy.txt" | shuf --random-source=<(yes sinergi) >"$work/desa_mvt.txt"
log "$ntiles desa tiles z8–z15 over the villages' bounding box ($nvillage of them meet a village)"

# start_server PORT CACHE_MB: our server as shipped, logs to a file.
start_server() {
  $S serve --addr "127.0.0.1:$1" --tile-cache-mb "$2" --tile-freshness "$freshness" --no-migrate 2>>"$work/server-$1.log" &
  pids+=($!)
  wait_http "http://127.0.0.1:$1/readyz"
}
# wait_http URL [TENTHS]: wait until URL answers 2xx (default 10 s).
wait_http() {
  for _ in $(seq 1 "${2:-100}"); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  die "$1 did not come up"
}
stop_last() {
  local p=${pids[-1]}
  kill "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset 'pids[-1]'
}

# run_wrk NAME BASE URLFILE TOKEN ENCODING → "req/s p99ms load" on stdout (load: the
# 1-minute load average when the run started; the machine may be shared)
run_wrk() {
  local out load
  load=$(cut -d' ' -f1 /proc/loadavg)
  out=$(BENCH_URLS=$3 BENCH_TOKEN=$4 BENCH_ENCODING=$5 wrk -t"$threads" -c"$conns" -d"$duration" --latency \
    -s "$SINERGI_ROOT/scripts/bench/tiles.lua" "$2")
  printf '%s\n' "$out" >"$work/wrk-$1.txt"
  local rps p99 bad
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  bad=$(awk '/^non2xx_or_errors/ {print $2}' <<<"$out")
  [[ ${bad:-0} == 0 ]] || warn "$1: $bad requests failed or were not 200 (see wrk output)"
  printf '%s %s %s\n' "$rps" "$p99" "$load"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# abba NAME URL TOKEN ENC  REFNAME REFURL REFTOKEN REFENC: runs the reference, ours,
# ours, the reference (the machine's load drifts; this order cancels a steady
# drift) and prints "rps p99 load ref_rps ref_p99 ref_load", each the mean of two
# runs. Every single run goes to $work/runs.
abba() {
  local r1 o1 o2 r2
  r1=$(run_wrk "$5-1" "$6" "$work/desa_mvt.txt" "$7" "$8")
  o1=$(run_wrk "$1-1" "$2" "$work/desa_mvt.txt" "$3" "$4")
  o2=$(run_wrk "$1-2" "$2" "$work/desa_mvt.txt" "$3" "$4")
  r2=$(run_wrk "$5-2" "$6" "$work/desa_mvt.txt" "$7" "$8")
  printf '| %s | %s | %s | %s | %s |\n' "$1 / $5" "$r1" "$o1" "$o2" "$r2" >>"$work/runs"
  awk -v o1="$o1" -v o2="$o2" -v r1="$r1" -v r2="$r2" 'BEGIN {
    split(o1, a, " "); split(o2, b, " "); split(r1, c, " "); split(r2, d, " ")
    printf "%.1f %.2f %.2f %.1f %.2f %.2f\n", (a[1]+b[1])/2, (a[2]+b[2])/2, (a[3]+b[3])/2, (c[1]+d[1])/2, (c[2]+d[2])/2, (c[3]+d[3])/2 }'
}
: >"$work/runs"

# ---- cold: the reference and our server (cache off) both up, measured in turn
"$work/tileref" mvt -db "$url" -addr 127.0.0.1:8091 2>>"$work/ref.log" &
pids+=($!)
start_server 8090 0
log "cold: bare ST_AsMVT handler, sinergi (cache off), sinergi, bare handler"
read -r cold_rps cold_p99 cold_load ref_rps ref_p99 ref_load < <(abba cold http://127.0.0.1:8090 "$token" "" ref-mvt http://127.0.0.1:8091 "" "")
stop_last
stop_last

# ---- warm
start_server 8090 512
log "warm: prefetching every tile (fills our cache) and starting the bare Fiber bytes handler"
"$work/tileref" bytes -addr 127.0.0.1:8092 -from http://127.0.0.1:8090 -token "$token" -urls "$work/desa_mvt.txt" 2>>"$work/bytes.log" &
pids+=($!)
wait_http "http://127.0.0.1:8092/tiles/desa/$(head -1 "$work/zxy.txt").mvt" 1800
log "warm: bare Fiber bytes handler, sinergi (cache warm), sinergi, bare handler"
read -r warm_rps warm_p99 warm_load fib_rps fib_p99 fib_load < <(abba warm http://127.0.0.1:8090 "$token" gzip fiber http://127.0.0.1:8092 "$token" gzip)
hits=$(curl -fs http://127.0.0.1:8090/metrics | awk '/^sinergi_tile_cache_hits_total/ {print $2}')
misses=$(curl -fs http://127.0.0.1:8090/metrics | awk '/^sinergi_tile_cache_misses_total/ {print $2}')

# ---- sizes (kecamatan layer from bekasi_kecamatan_alt.geojson), gzipped bytes
size_of() { curl -fs -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $token" -H 'Accept-Encoding: gzip' "http://127.0.0.1:8090$1"; }
for z in 8 12; do
  awk -F/ -v z=$z '$1 == z' "$work/zxy-villages.txt" >"$work/kec-$z.txt"
  for fmt in geojson mvt; do
    : >"$work/sizes-$z-$fmt"
    while read -r t; do
      size_of "/tiles/kecamatan/$t.$fmt" >>"$work/sizes-$z-$fmt"
      echo >>"$work/sizes-$z-$fmt"
    done <"$work/kec-$z.txt"
  done
done
stop_last

# ---- sizes on the synthetic national village set (boundaries synth, ~84,000 villages)
natdb=${db}_nat
naturl=$(printf '%s' "$admin" | sed -E "s#/[^/?]+(\?|$)#/$natdb\1#")
if ((national > 0)); then
  log "national set: $national synthetic villages"
  psql "$admin" -qX -c "DROP DATABASE IF EXISTS $natdb WITH (FORCE)" -c "CREATE DATABASE $natdb" >/dev/null
  $S boundaries synth --n "$national" >"$work/national.geojson"
  DATABASE_URL=$naturl $S migrate >/dev/null
  DATABASE_URL=$naturl $S boundaries import "$work/national.geojson" --level desa --no-topology --activate >/dev/null
  nattoken=$(DATABASE_URL=$naturl $S users add --name bench --role planner --json | jq -r .token)
  DATABASE_URL=$naturl $S serve --addr 127.0.0.1:8096 --tile-cache-mb 0 --no-migrate 2>>"$work/server-nat.log" &
  pids+=($!)
  wait_http http://127.0.0.1:8096/readyz
  nsize_of() { curl -fs -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $nattoken" -H 'Accept-Encoding: gzip' "http://127.0.0.1:8096$1"; }
  for z in 8 12; do
    # every z8 tile; every 10th z12 tile (there are thousands)
    step=1
    ((z == 12)) && step=10
    "$work/tileref" list -db "$naturl" -minz "$z" -maxz "$z" -cover villages | awk -v s=$step 'NR % s == 0' >"$work/nat-$z.txt"
    for fmt in geojson mvt; do
      : >"$work/nat-$z-$fmt"
      while read -r t; do
        nsize_of "/tiles/desa/$t.$fmt" >>"$work/nat-$z-$fmt"
        echo >>"$work/nat-$z-$fmt"
      done <"$work/nat-$z.txt"
    done
  done
  stop_last
  psql "$admin" -qX -c "DROP DATABASE IF EXISTS $natdb WITH (FORCE)" >/dev/null
fi

median() { sort -n "$1" | awk 'NF {a[n++]=$1} END {print (n ? (n % 2 ? a[int(n/2)] : (a[n/2-1] + a[n/2]) / 2) : 0)}'; }
largest() { sort -n "$1" | awk 'NF {m=$1} END {print m+0}'; }
n12=$(grep -c . "$work/sizes-12-geojson")
n8=$(grep -c . "$work/sizes-8-geojson")

cat <<EOF
# Tile benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t$threads -c$conns -d$duration, --tile-freshness $freshness, $ntiles desa tiles z8–z15 over the villages' bounding box, $nvillage meeting a village)
| run | req/s | p99 ms | load | reference | ref req/s | ref p99 ms | ref load | ratio req/s | ratio p99 (ref/ours) |
|---|---|---|---|---|---|---|---|---|---|
| cold (cache off, .mvt) | $cold_rps | $cold_p99 | $cold_load | bare ST_AsMVT Go handler | $ref_rps | $ref_p99 | $ref_load | $(ratio "$cold_rps" "$ref_rps") | $(ratio "$ref_p99" "$cold_p99") |
| warm (cache, gzip .mvt) | $warm_rps | $warm_p99 | $warm_load | bare Fiber bytes handler | $fib_rps | $fib_p99 | $fib_load | $(ratio "$warm_rps" "$fib_rps") | $(ratio "$fib_p99" "$warm_p99") |

warm cache: $hits hits, $misses misses

Each figure above is the mean of two runs, in the order reference, ours, ours, reference
(req/s p99-ms load of each run):
| runs | reference 1 | ours 1 | ours 2 | reference 2 |
|---|---|---|---|---|
$(cat "$work/runs")

Sizes, kecamatan layer from bekasi_kecamatan_alt.geojson, gzipped bytes:
| | GeoJSON | MVT |
|---|---|---|
| median z12 ($n12 tiles) | $(median "$work/sizes-12-geojson") | $(median "$work/sizes-12-mvt") |
| largest z8 ($n8 tiles) | $(largest "$work/sizes-8-geojson") | $(largest "$work/sizes-8-mvt") |
EOF
if ((national > 0)); then
  cat <<EOF

Sizes, desa layer of the synthetic national set ($national villages, boundaries synth), gzipped bytes:
| | GeoJSON | MVT |
|---|---|---|
| median z12 ($(grep -c . "$work/nat-12-geojson") tiles, every 10th) | $(median "$work/nat-12-geojson") | $(median "$work/nat-12-mvt") |
| largest z8 ($(grep -c . "$work/nat-8-geojson") tiles) | $(largest "$work/nat-8-geojson") | $(largest "$work/nat-8-mvt") |
EOF
fi
