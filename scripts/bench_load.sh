#!/usr/bin/env bash
# Usage: scripts/bench_load.sh [--duration 60] [--connections 32] [--no-faults] [--keep]
#
# Load and fault runs (issue 9), on a PostGIS cluster of its OWN (port
# SINERGI_LOAD_PG_PORT, default 55499, started with scripts/pg.sh and stopped at
# the end): the shared cluster is never stopped or restarted.
#
#   load     the demo database; our server as shipped (bin from ./cmd/sinergi: auth,
#            JSON logs, metrics); scripts/bench/loadgen for --duration seconds at
#            --connections connections on loopback: 70 % tiles (a fifth never
#            requested before), 25 % rankings and village detail, 5 % matcher runs.
#            Throughput, p50/p99, errors (socket error or status not 2xx/304; target 0).
#   restart  the same mix for 30 s at 8 connections; PostGIS is stopped at 8 s and
#            started again 6 s later. While it is down /readyz must say 503, requests
#            must fail fast with 503 (none past the request timeout); after it is back
#            the server must be ready within 5 s by itself. Measured and printed.
#   import   kill -9 of the server in the middle of a register upload
#            (POST /api/v1/households/import), held at its last step by a lock on
#            layer_version so the kill lands inside the import's transaction:
#            after restart the counts and versions are those of before; the same
#            upload then succeeds.
#   activate kill -9 in the middle of POST /api/v1/boundaries/{id}/activate of a new
#            desa set (a copy of the active one: every household is re-written),
#            held the same way: after restart the active set, household assignment
#            and versions are those of before; activating again then succeeds.
# Prints a summary (stdout); exit status 1 when a check failed.
#
# Environment: SINERGI_LOAD_PG_PORT (default 55499), SINERGI_LOAD_HOUSEHOLDS (demo
# households, default 200000), SINERGI_LOAD_PORT (server port, default 18490).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

duration=60
conns=32
faults=1
keep=0
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --no-faults) faults=0; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) print_usage "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (usage: scripts/bench_load.sh [--duration 60] [--connections 32] [--no-faults] [--keep])" ;;
  esac
done
[[ $duration =~ ^[0-9]+$ ]] || die "--duration is whole seconds, not '$duration'"
command -v jq >/dev/null || die "jq is not installed (apt-get install jq)"
command -v curl >/dev/null || die "curl is not installed"

pg_port=${SINERGI_LOAD_PG_PORT:-55499}
[[ $pg_port != 55432 ]] || die "SINERGI_LOAD_PG_PORT must not be the shared cluster's port 55432"
port=${SINERGI_LOAD_PORT:-18490}
base=http://127.0.0.1:$port
nhh=${SINERGI_LOAD_HOUSEHOLDS:-200000}

pg() { env -u DATABASE_URL SINERGI_PG_PORT="$pg_port" bash "$SINERGI_ROOT/scripts/pg.sh" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sinergi-load.XXXXXX")
server_pid=""
lock_pid=""
failures=()
check() { # check CONDITION-EXIT-STATUS MESSAGE
  if [[ $1 == 0 ]]; then log "ok: $2"; else
    log "FAILED: $2"
    failures+=("$2")
  fi
}
cleanup() {
  [[ -n $lock_pid ]] && kill "$lock_pid" 2>/dev/null
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((keep)); then
    log "kept $work and the cluster on port $pg_port"
    return
  fi
  pg stop >/dev/null 2>&1 || true
  if ((${#failures[@]})); then
    log "logs of the failed run kept in $work (serve.log, restart.csv, readyz.csv)"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

log "own PostGIS cluster on port $pg_port (the shared one is not touched)"
admin=$(pg start)
db=sinergi_load
url=$(printf '%s' "$admin" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
psql "$admin" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
export DATABASE_URL=$url
export SINERGI_HASH_KEY
SINERGI_HASH_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')

log "building sinergi and loadgen"
(cd "$SINERGI_ROOT" && go build -o "$work/sinergi" ./cmd/sinergi && go build -o "$work/loadgen" ./scripts/bench/loadgen &&
  go build -o "$work/tileref" ./scripts/bench/tileref)
S=$work/sinergi

log "demo data ($nhh households)"
t0=$(now_us)
$S demo --households "$nhh" --json >"$work/demo.json" 2>"$work/demo.log"
log "demo loaded in $(since "$t0") s"
planner=$(jq -r '.users[] | select(.role == "planner") | .token' "$work/demo.json")
gis=$(jq -r '.users[] | select(.role == "gis") | .token' "$work/demo.json")
year=$(psql "$url" -AtX -c "SELECT coalesce(max(year), 2026) FROM plan")

# Tiles: every z8–z16 tile meeting a village, for three layers and both formats,
# shuffled with a fixed seed; 3000 are "requested before" (warmed), the rest new.
"$work/tileref" list -db "$url" -minz 8 -maxz 16 >"$work/zxy.txt"
for layer in desa need kecamatan; do
  for ext in mvt geojson; do sed "s#^#/tiles/$layer/#; s#\$#.$ext#" "$work/zxy.txt"; done
done | shuf --random-source=<(yes sinergi) >"$work/all_tiles.txt"
head -n 3000 "$work/all_tiles.txt" >"$work/tiles.txt"
tail -n +3001 "$work/all_tiles.txt" >"$work/fresh.txt"
psql "$url" -AtX -c "SELECT v.code FROM village v JOIN boundary_set b ON b.id = v.set_id AND b.status = 'active' AND b.level = 'desa'" >"$work/codes.txt"
log "$(wc -l <"$work/tiles.txt") warmed tile paths, $(wc -l <"$work/fresh.txt") never requested; $(wc -l <"$work/codes.txt") villages; matcher year $year"

start_server() {
  $S serve --addr "127.0.0.1:$port" --no-migrate >>"$work/serve.log" 2>&1 &
  server_pid=$!
  local i
  for ((i = 0; i < 300; i++)); do
    curl -fs -o /dev/null --max-time 1 "$base/readyz" && return 0
    kill -0 "$server_pid" 2>/dev/null || die "the server exited (see $work/serve.log)"
    sleep 0.1
  done
  die "$base/readyz not ready after 30 s"
}
ms() { date +%s%3N; }

start_server
loadgen() { "$work/loadgen" -base "$base" -token "$planner" -tiles "$work/tiles.txt" -fresh "$work/fresh.txt" \
  -villages "$work/codes.txt" -year "$year" "$@"; }

# ---- load
load_uptime=$(uptime)
log "load: ${duration}s at $conns connections ($load_uptime)"
loadgen -duration "${duration}s" -c "$conns" >"$work/load.json"
jq -r '"load: \(.overall.requests) requests in \(.duration_s | floor) s = \(.throughput_rps | floor) req/s, p50 \(.overall.p50_ms) ms, p99 \(.overall.p99_ms) ms, errors \(.overall.errors) \(.overall.statuses)"' "$work/load.json"
jq -r '.classes | to_entries[] | "  \(.key): \(.value.requests) req, p50 \(.value.p50_ms) ms, p99 \(.value.p99_ms) ms, errors \(.value.errors) \(.value.statuses)"' "$work/load.json"
[[ $(jq -r .fresh_exhausted "$work/load.json") == 0 ]] || warn "the never-requested tiles ran out: $(jq -r .fresh_exhausted "$work/load.json") draws fell back to warmed tiles"
check "$([[ $(jq -r .overall.errors "$work/load.json") == 0 ]] && echo 0 || echo 1)" "load: 0 errors"

if ((!faults)); then
  printf 'uptime at the start of the load run: %s\n' "$load_uptime"
  ((${#failures[@]} == 0)) || exit 1
  exit 0
fi

# ---- restart PostGIS under load
log "restart: 30 s of the mix at 8 connections; PostGIS stopped at 8 s for 6 s"
loadgen -duration 30s -c 8 -warm=false -log "$work/restart.csv" >"$work/restart.json" &
lg=$!
# /readyz every 100 ms: unix_ms,status,latency_ms
(
  end=$(($(ms) + 31000))
  while (($(ms) < end)); do
    curl -s -o /dev/null --max-time 20 -w "%{http_code} %{time_total}\n" "$base/readyz" |
      awk -v t="$(ms)" '{printf "%s,%s,%.1f\n", t, $1, $2 * 1000}'
    sleep 0.1
  done
) >"$work/readyz.csv" &
rz=$!
sleep 8
t_down=$(ms)
pg stop >/dev/null
t_stopped=$(ms)
sleep 6
t_starting=$(ms)
pg start >/dev/null
t_up=$(ms)
# Time until /readyz says 200 again, by itself.
t_ready=""
while (($(ms) < t_up + 30000)); do
  if curl -fs -o /dev/null --max-time 2 "$base/readyz"; then
    t_ready=$(ms)
    break
  fi
  sleep 0.05
done
wait "$lg" "$rz"
recovery=$([[ -n $t_ready ]] && echo $((t_ready - t_up)) || echo "never")
timeout_ms=15000 # the server's default --request-timeout
# Requests started while the database was down (after its stop returned, before its start began):
read -r down_n down_503 down_other down_max < <(awk -F, -v a="$t_stopped" -v b="$t_starting" \
  '$1 >= a && $1 < b { n++; if ($3 == 503) s++; else if ($3 < 200 || $3 >= 300) o++; if ($4 > m) m = $4 }
   END { printf "%d %d %d %.0f\n", n, s, o, m }' "$work/restart.csv")
read -r rz_down rz_down_503 < <(awk -F, -v a="$t_stopped" -v b="$t_starting" '$1 >= a && $1 < b { n++; if ($2 == 503) s++ } END { printf "%d %d\n", n, s }' "$work/readyz.csv")
# After the server said ready again: no error at all.
read -r after_n after_err < <(awk -F, -v a="${t_ready:-99999999999999}" '$1 >= a { n++; if ($3 != 304 && ($3 < 200 || $3 >= 300)) e++ } END { printf "%d %d\n", n, e }' "$work/restart.csv")
read -r all_max < <(awk -F, '{ if ($4 > m) m = $4 } END { printf "%.0f\n", m }' "$work/restart.csv")
printf 'restart: stop took %d ms, start %d ms; while down (%d ms): %d requests, %d answered 503, %d other errors, slowest %s ms; /readyz %d/%d times 503\n' \
  $((t_stopped - t_down)) $((t_up - t_starting)) $((t_starting - t_stopped)) "$down_n" "$down_503" "$down_other" "$down_max" "$rz_down_503" "$rz_down"
printf 'restart: ready again %s ms after PostGIS was back; afterwards %d requests, %d errors; slowest request of the run %s ms\n' \
  "$recovery" "$after_n" "$after_err" "$all_max"
check "$([[ $rz_down -gt 0 && $rz_down == "$rz_down_503" ]] && echo 0 || echo 1)" "restart: /readyz says 503 while PostGIS is down"
check "$([[ $down_n -gt 0 && $down_other == 0 ]] && echo 0 || echo 1)" "restart: requests fail with 503 while down (no 500, no socket error)"
check "$( ((all_max < timeout_ms)) && echo 0 || echo 1)" "restart: no request past the ${timeout_ms} ms request timeout"
check "$([[ $recovery != never ]] && ((recovery <= 5000)) && echo 0 || echo 1)" "restart: ready within 5 s of PostGIS returning ($recovery ms)"
check "$([[ $after_err == 0 ]] && echo 0 || echo 1)" "restart: no errors once ready again"

# ---- kill -9 inside an import / an activation
# state: the numbers a half-applied import or activation would change.
state() {
  psql "$url" -AtX -c "SELECT concat_ws(' | ',
    'households ' || (SELECT count(*) FROM household),
    'persons ' || (SELECT count(*) FROM pii.household_person),
    'batches ' || (SELECT count(*) FROM import_batch),
    'assignment ' || (SELECT md5(coalesce(string_agg(village_code || ':' || n, ',' ORDER BY village_code), '')) FROM
       (SELECT coalesce(village_code, '-') AS village_code, count(*) n FROM household GROUP BY 1) x),
    'sets ' || (SELECT string_agg(id || ':' || level || ':' || status, ',' ORDER BY id) FROM boundary_set),
    'versions ' || (SELECT string_agg(layer || ':' || version, ',' ORDER BY layer) FROM layer_version),
    'crosswalk ' || (SELECT count(*) FROM code_crosswalk),
    'audit ' || (SELECT count(*) FROM audit_log WHERE action NOT LIKE 'households.read%' AND action <> 'login'))"
}
# hold_lock: another session holds SHARE on layer_version (readers go on; the
# bump_layer() at the end of every import and activation waits), so a kill lands
# inside the transaction after its rows were written.
hold_lock() {
  PGAPPNAME=sinergi_fault_lock psql "$url" -qX -c "BEGIN; LOCK TABLE layer_version IN SHARE MODE; SELECT pg_sleep(120); COMMIT;" >/dev/null 2>&1 &
  lock_pid=$!
  sleep 0.5
}
release_lock() {
  psql "$url" -qAtX -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sinergi_fault_lock'" >/dev/null
  wait "$lock_pid" 2>/dev/null || true
  lock_pid=""
}
# wait_blocked: until a backend of the server waits on that lock (60 s at most);
# its pid goes to blocked_pid.
blocked_pid=""
wait_blocked() {
  local i
  for ((i = 0; i < 600; i++)); do
    blocked_pid=$(psql "$url" -AtX -c "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
        AND wait_event_type = 'Lock' AND application_name <> 'sinergi_fault_lock' LIMIT 1")
    [[ -z $blocked_pid ]] || return 0
    sleep 0.1
  done
  return 1
}
kill9_restart() {
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  release_lock
  # The dead client's backend finishes its statement, finds the client gone and
  # rolls back: wait for it to end before looking at the data.
  local i
  for ((i = 0; i < 600; i++)); do
    [[ -n $blocked_pid && $(psql "$url" -AtX -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $blocked_pid") == 0 ]] && break
    sleep 0.1
  done
  start_server
}

log "import: a register of 20000 households, kill -9 inside the import"
$S households generate --n 20000 --seed 77 >"$work/register.csv"
before=$(state)
hold_lock
curl -s -o "$work/import1.json" --max-time 120 -H "Authorization: Bearer $gis" -F register=survey -F period=2099 \
  -F "file=@$work/register.csv" "$base/api/v1/households/import" &
up=$!
if wait_blocked; then blocked=0; else blocked=1; fi
check "$blocked" "import: the upload reached its last step (waiting on layer_version) before the kill"
kill9_restart
wait "$up" 2>/dev/null || true
after=$(state)
printf 'import before: %s\nimport after : %s\n' "$before" "$after"
check "$([[ $before == "$after" ]] && echo 0 || echo 1)" "import: nothing half-applied after kill -9 and restart"
code=$(curl -s -o "$work/import2.json" -w '%{http_code}' --max-time 300 -H "Authorization: Bearer $gis" -F register=survey -F period=2099 \
  -F "file=@$work/register.csv" "$base/api/v1/households/import")
inserted=$(jq -r '.inserted // 0' "$work/import2.json" 2>/dev/null || echo 0)
check "$([[ $code == 200 && $inserted -gt 0 ]] && echo 0 || echo 1)" "import: the same upload succeeds after restart ($code, $inserted inserted)"

log "activate: a new desa set (a copy of the active one), kill -9 inside its activation"
$S boundaries export --format geojson --out "$work/desa.geojson" >/dev/null
new_set=$($S boundaries import "$work/desa.geojson" --level desa --json | jq -r '.id')
[[ $new_set =~ ^[0-9]+$ ]] || die "boundaries import did not give a set id: $new_set"
before=$(state)
hold_lock
curl -s -o "$work/activate1.json" --max-time 120 -X POST -H "Authorization: Bearer $gis" "$base/api/v1/boundaries/$new_set/activate" &
up=$!
if wait_blocked; then blocked=0; else blocked=1; fi
check "$blocked" "activate: the activation reached its last step (waiting on layer_version) before the kill"
kill9_restart
wait "$up" 2>/dev/null || true
after=$(state)
printf 'activate before: %s\nactivate after : %s\n' "$before" "$after"
check "$([[ $before == "$after" ]] && echo 0 || echo 1)" "activate: nothing half-applied after kill -9 and restart"
code=$(curl -s -o "$work/activate2.json" -w '%{http_code}' --max-time 300 -X POST -H "Authorization: Bearer $gis" "$base/api/v1/boundaries/$new_set/activate")
active=$(psql "$url" -AtX -c "SELECT status FROM boundary_set WHERE id = $new_set")
check "$([[ $code == 200 && $active == active ]] && echo 0 || echo 1)" "activate: activating again after restart succeeds ($code, set $new_set $active)"

printf '\nuptime at the start of the load run: %s\nuptime now: %s\n' "$load_uptime" "$(uptime)"
if ((${#failures[@]})); then
  printf 'FAILED checks:\n'
  printf '  %s\n' "${failures[@]}"
  exit 1
fi
printf 'all load and fault checks passed\n'
