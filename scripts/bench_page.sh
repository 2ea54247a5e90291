#!/usr/bin/env bash
# Usage: scripts/bench_page.sh [--runs 10] [--json] [--trace] [--signed-out]
#
# Page-load benchmark (issue 8). Builds static/ and bin/sinergi, loads the demo
# regency into a fresh database "sinergi_bench_page_<pid>" of the private cluster
# (scripts/pg.sh), serves it on a free loopback port and runs
# static/bench/pageload.mjs: headless Chromium (playwright-core, system
# Chromium), Chrome DevTools "Fast 3G" network (562.5 ms latency, 180 000 B/s
# down, 84 375 B/s up) and CPU slowed 4×; a signed-in planner's cold load until
# every village polygon of the initial view is drawn. Prints medians of --runs
# loads, their ratios to the target (3 s, 600 KB) and what gzip/brotli would
# save per file. --signed-out times a first visit without a session until the
# sign-in form shows; --trace prints each load's request timeline.
#
# Environment: DATABASE_URL (admin URL of a cluster that may create databases;
# default scripts/pg.sh start), CHROMIUM_PATH (default /usr/bin/chromium).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_args=()
while (($#)); do
  case $1 in
    --runs) bench_args+=(--runs "$2"); shift 2 ;;
    --json | --trace | --signed-out) bench_args+=("$1"); shift ;;
    *) die "unknown option $1 (usage: scripts/bench_page.sh [--runs 10] [--json] [--trace] [--signed-out])" ;;
  esac
done

admin=${DATABASE_URL:-$("$SINERGI_ROOT/scripts/pg.sh" start)}
db=sinergi_bench_page_$$
url=$(printf '%s' "$admin" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")

work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  psql "$admin" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cd "$SINERGI_ROOT"
log "building static/ and bin/sinergi"
(cd static && { [[ -d node_modules ]] || npm ci --no-audit --no-fund; } && npm run build >/dev/null)
go build -o "$work/sinergi" ./cmd/sinergi

psql "$admin" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
export DATABASE_URL=$url
log "sinergi demo"
"$work/sinergi" demo --json >"$work/demo.json"

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});')
"$work/sinergi" serve --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" && break
  kill -0 "$pid" 2>/dev/null || { tail -20 "$work/serve.log" >&2; die "the server exited"; }
  sleep 0.1
done

SINERGI_URL=http://127.0.0.1:$port SINERGI_DEMO_JSON=$work/demo.json node static/bench/pageload.mjs "${bench_args[@]}"
