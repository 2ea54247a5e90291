#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions here are run indirectly: run_step, trap
# Usage: scripts/test.sh [--quick] [go test flags...]
#
# Runs every test of Sinergi, from a fresh clone, as root or as a normal user:
#   deps      scripts/deps.sh --browser --glpk (Debian packages, when missing)
#   postgres  scripts/pg.sh start; its URL becomes SINERGI_TEST_DATABASE_URL, from
#             which the Go tests create and drop their own databases
#   static    npm install + build in static/ (when static/package.json exists)
#   gofmt     no Go file may need formatting
#   go vet    go vet ./...
#   go test   go test -count=1 [go test flags...] ./...
#   fuzz      every go test -fuzz target for SINERGI_FUZZ_SECONDS (default 5) each
#             (scripts/fuzz.sh); skipped by --quick unless CI=true
#   browser   bin/sinergi with demo data on a fresh database, then
#             node --test static/test/**/*.test.mjs against it (Chromium)
# Every step runs even when an earlier check failed (except deps and postgres, which
# the rest needs); the exit status is non-zero when any step failed.
#
#   --quick   skip the browser tests (and fuzzing, unless CI=true)
#   e.g. scripts/test.sh --quick -run TestImport -v
#
# Environment:
#   SINERGI_TEST_DATABASE_URL  admin URL for test databases; when unset, the private
#                              cluster of scripts/pg.sh (or DATABASE_URL, if set)
#   SINERGI_SHARED_DATA        real Bekasi data; default ../shared/data/bekasi beside
#                              the repository
#   SINERGI_FUZZ_SECONDS       fuzzing time per target (default 5; 0 skips)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

quick=0
go_args=()
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    -h | --help)
      print_usage "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) go_args+=("$arg") ;;
  esac
done

cd "$SINERGI_ROOT"
t_start=$(now_us)
work=$(mktemp -d "${TMPDIR:-/tmp}/sinergi-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

# finish: summary, then exit with its status.
finish() {
  local rc=0
  summary "$t_start" || rc=1
  exit "$rc"
}

# ---- deps ----
deps_flags=(--glpk)
((quick)) || deps_flags+=(--browser)
run_step "deps" bash scripts/deps.sh "${deps_flags[@]}"
((STEP_RC == 0)) || finish

# ---- postgres ----
if [[ -n ${SINERGI_TEST_DATABASE_URL:-} ]]; then
  skip_step "postgres" "SINERGI_TEST_DATABASE_URL is set"
else
  pg_start() { bash scripts/pg.sh start >"$work/url"; }
  run_step "postgres" pg_start
  ((STEP_RC == 0)) || finish
  SINERGI_TEST_DATABASE_URL=$(<"$work/url")
fi
export SINERGI_TEST_DATABASE_URL
# The password stays out of logs.
log "    SINERGI_TEST_DATABASE_URL=$(sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$SINERGI_TEST_DATABASE_URL")"

# ---- static ----
run_step "static build" build_static
static_ok=$((STEP_RC == 0))

# ---- gofmt, vet ----
check_gofmt() {
  local files bad
  # Like the go tool, skip testdata; node_modules may carry Go files of others.
  mapfile -t files < <(find . \( -name node_modules -o -name testdata -o -name .git \
    -o -path ./bin -o -path ./.state \) -prune -o -type f -name '*.go' -print)
  if ((${#files[@]} == 0)); then
    log "no Go files"
    return 0
  fi
  bad=$(gofmt -l "${files[@]}")
  if [[ -n $bad ]]; then
    log "these files need gofmt -w:"
    log "$bad"
    return 1
  fi
}
run_step "gofmt" check_gofmt
run_step "go vet" go vet ./...

# ---- go test ----
if [[ -z ${SINERGI_SHARED_DATA:-} ]]; then
  SINERGI_SHARED_DATA=$(cd "$SINERGI_ROOT/.." && pwd -P)/shared/data/bekasi
fi
export SINERGI_SHARED_DATA
[[ -d $SINERGI_SHARED_DATA ]] || warn "SINERGI_SHARED_DATA=$SINERGI_SHARED_DATA does not exist"
run_step "go test" go test -count=1 "${go_args[@]}" ./...

# ---- fuzz ----
# go test above ran each fuzz target's seed corpus; here each target also fuzzes
# for a few seconds (6 targets × 5 s plus builds: about a minute), in the full
# run and always under CI. A failure fails the run; go test saves the input
# under PKG/testdata/fuzz/ (commit it with the fix).
fuzz_secs=${SINERGI_FUZZ_SECONDS:-5}
if [[ $fuzz_secs == 0 ]]; then
  skip_step "fuzz" "SINERGI_FUZZ_SECONDS=0"
elif ((quick)) && [[ ${CI:-} != true ]]; then
  skip_step "fuzz" "--quick (CI=true runs it anyway)"
else
  run_step "fuzz (${fuzz_secs} s per target)" bash scripts/fuzz.sh "$fuzz_secs"
fi

# ---- browser ----

# with_dbname URL NAME: URL with its database name replaced by NAME.
with_dbname() {
  local url=$1 name=$2 base rest
  [[ $url == *://* ]] || die "SINERGI_TEST_DATABASE_URL must be a URL (postgres://user:password@host:port/db), not '$url'"
  base=${url%%\?*}
  rest=${base#*://}
  printf '%s://%s/%s%s\n' "${base%%://*}" "${rest%%/*}" "$name" "${url:${#base}}"
}

# free_port: a TCP port nothing listens on right now, chosen by the kernel.
free_port() {
  node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# browser_tests FILE...: runs in run_step's subshell; its EXIT trap stops the server
# and drops the database whatever happens.
browser_tests() {
  b_admin=$SINERGI_TEST_DATABASE_URL
  b_tmp=$(mktemp -d "${TMPDIR:-/tmp}/sinergi-browser.XXXXXX")
  b_db=sinergi_browser_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  b_pid=""
  trap browser_cleanup EXIT
  trap 'exit 130' INT TERM

  go build -o bin/sinergi ./cmd/sinergi
  log "database $b_db"
  psql "$b_admin" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $b_db"
  export DATABASE_URL
  DATABASE_URL=$(with_dbname "$b_admin" "$b_db")

  log "bin/sinergi demo --json"
  bin/sinergi demo --json >"$b_tmp/demo.json"

  local port base
  port=$(free_port)
  base=http://127.0.0.1:$port
  log "bin/sinergi serve --addr 127.0.0.1:$port (log $b_tmp/serve.log)"
  bin/sinergi serve --addr "127.0.0.1:$port" >"$b_tmp/serve.log" 2>&1 &
  b_pid=$!
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "$base/readyz" 2>/dev/null; do
    if ! kill -0 "$b_pid" 2>/dev/null; then
      log "the server exited before it was ready"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$base/readyz not ready after 60 s"
      return 1
    fi
    sleep 0.5
  done

  local artifacts=$SINERGI_ROOT/static/test/artifacts
  mkdir -p "$artifacts"
  # One file at a time: the files share one server and its data.
  local node_flags=(--test)
  if node --help 2>/dev/null | grep -q -- '--test-concurrency'; then
    node_flags+=(--test-concurrency=1)
  fi
  SINERGI_URL=$base \
    SINERGI_DEMO_JSON=$b_tmp/demo.json \
    CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium} \
    SINERGI_ARTIFACTS=$artifacts \
    node "${node_flags[@]}" "$@"
}

browser_cleanup() {
  local rc=$?
  if [[ -n $b_pid ]] && kill -0 "$b_pid" 2>/dev/null; then
    kill "$b_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$b_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$b_pid" 2>/dev/null || true
    wait "$b_pid" 2>/dev/null || true
  fi
  if ((rc != 0)) && [[ -s $b_tmp/serve.log ]]; then
    log "---- end of serve.log ----"
    tail -n 40 "$b_tmp/serve.log" >&2
    log "---- (kept in $b_tmp) ----"
  fi
  psql "$b_admin" -X -q -c "DROP DATABASE IF EXISTS $b_db WITH (FORCE)" >&2 ||
    warn "could not drop database $b_db"
  ((rc != 0)) || rm -rf "$b_tmp"
  exit "$rc"
}

mapfile -t browser_files < <(find static/test -name node_modules -prune -o -type f -name '*.test.mjs' -print 2>/dev/null | sort)
if ((quick)); then
  skip_step "browser" "--quick"
elif ((${#browser_files[@]} == 0)); then
  skip_step "browser" "no static/test/*.test.mjs"
elif ((!static_ok)); then
  skip_step "browser" "static build failed"
else
  run_step "browser" browser_tests "${browser_files[@]}"
fi

finish
