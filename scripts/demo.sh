#!/usr/bin/env bash
# Usage: scripts/demo.sh [sinergi serve flags...]
#
# Starts Sinergi with demo data, from a fresh clone, with no other step:
#   1. scripts/deps.sh               Debian packages, when missing
#   2. scripts/pg.sh start           private PostgreSQL + PostGIS (DATABASE_URL set
#                                    by the user wins)
#   3. static build                  npm install + build in static/
#   4. go build -o bin/sinergi ./cmd/sinergi
#   5. bin/sinergi demo              loads demo data; prints each role's login
#   6. bin/sinergi serve --addr ${SINERGI_ADDR:-127.0.0.1:8080}
# Stop the server with Ctrl-C; the database keeps running (scripts/pg.sh stop).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${1:-} in
  -h | --help)
    print_usage "${BASH_SOURCE[0]}"
    exit 0
    ;;
esac

cd "$SINERGI_ROOT"

log "==> deps"
bash scripts/deps.sh

log "==> postgres"
if [[ -z ${DATABASE_URL:-} ]]; then
  DATABASE_URL=$(bash scripts/pg.sh start)
else
  log "DATABASE_URL is set: using it"
fi
export DATABASE_URL

log "==> static build"
build_static

log "==> go build"
go build -o bin/sinergi ./cmd/sinergi

log "==> demo data"
bin/sinergi demo

addr=${SINERGI_ADDR:-127.0.0.1:8080}
log "==> serving on http://$addr (Ctrl-C stops)"
exec bin/sinergi serve --addr "$addr" "$@"
