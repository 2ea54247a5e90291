# shellcheck shell=bash
# Shared helpers for the scripts in scripts/. Source it, do not run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Defines SINERGI_ROOT (the repository root, parent of scripts/) and functions for
# messages on stderr, step timing and the static (npm) build.

SINERGI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# Go's official tarball installs to /usr/local/go; a non-login shell (CI, runuser)
# may not have it on PATH yet.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  PATH=$PATH:/usr/local/go/bin
  export PATH
fi

# log MESSAGE...: one line on stderr, so stdout stays free for results.
log() { printf '%s\n' "$*" >&2; }

# warn MESSAGE...: a warning on stderr.
warn() { printf 'warning: %s\n' "$*" >&2; }

# die MESSAGE...: an error on stderr, then exit 1.
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# now_us: wall clock in microseconds.
now_us() {
  local t=${EPOCHREALTIME//[.,]/}
  printf '%s\n' "$t"
}

# since START_US: seconds elapsed since START_US, one decimal ("12.3").
since() {
  local d=$(($(now_us) - $1))
  printf '%d.%d\n' $((d / 1000000)) $((d % 1000000 / 100000))
}

# Results of run_step, for summary().
STEP_LINES=()
STEP_FAILED=()
STEP_RC=0

# run_step NAME COMMAND [ARGS...]: announces "==> NAME", runs the command in a
# subshell with errexit on, times it and records the result. It always returns 0
# (so errexit in the caller never fires half-way); the command's exit status is in
# STEP_RC. A function given as COMMAND can change nothing in the caller.
run_step() {
  local name=$1 t0
  shift
  log "==> $name"
  t0=$(now_us)
  set +e
  (
    set -e
    "$@"
  )
  STEP_RC=$?
  set -e
  local took
  took=$(since "$t0")
  if ((STEP_RC == 0)); then
    log "    ok: $name (${took}s)"
    STEP_LINES+=("$(printf "%-4s %7ss  %s" ok "$took" "$name")")
  else
    log "    FAILED: $name (exit $STEP_RC, ${took}s)"
    STEP_LINES+=("$(printf "%-4s %7ss  %s" FAIL "$took" "$name")")
    STEP_FAILED+=("$name")
  fi
  return 0
}

# skip_step NAME REASON: records a step that was not run.
skip_step() {
  log "==> $1: skipped ($2)"
  STEP_LINES+=("$(printf "%-4s %8s  %s" skip "" "$1 ($2)")")
}

# summary START_US: prints every step's result and the total time on stderr;
# returns 1 if any step failed.
summary() {
  local line total
  total=$(since "$1")
  log ""
  for line in "${STEP_LINES[@]}"; do log "  $line"; done
  if ((${#STEP_FAILED[@]} > 0)); then
    log "FAILED in ${total}s: ${STEP_FAILED[*]}"
    return 1
  fi
  log "all ok in ${total}s"
}

# build_static: installs static/'s npm dependencies and runs its "build" script
# (it writes static/dist/). Does nothing when static/package.json does not exist.
build_static() {
  local dir=$SINERGI_ROOT/static
  if [[ ! -f $dir/package.json ]]; then
    log "no static/package.json: nothing to build"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 20 or newer (with npm)"
  # --no-audit/--no-fund: no network calls besides the registry, quiet on CI and as root.
  local npm_flags=(--no-audit --no-fund --loglevel=warn)
  export NPM_CONFIG_UPDATE_NOTIFIER=false
  # npm keeps a copy of the lock in node_modules; newer than both files means the
  # last install matches them, and a development loop need not reinstall.
  local hidden=$dir/node_modules/.package-lock.json
  if [[ -f $dir/package-lock.json && $hidden -nt $dir/package-lock.json && $hidden -nt $dir/package.json ]]; then
    log "static/node_modules matches package-lock.json: no install"
  elif [[ -f $dir/package-lock.json ]]; then
    if ! (cd "$dir" && npm ci "${npm_flags[@]}"); then
      warn "npm ci failed (package-lock.json out of date?); trying npm install"
      (cd "$dir" && npm install "${npm_flags[@]}")
    fi
  else
    (cd "$dir" && npm install "${npm_flags[@]}")
  fi
  (cd "$dir" && npm run build)
}

# print_usage FILE: prints FILE's header comment, from "# Usage" to "set -euo".
print_usage() {
  sed -n '/^# Usage/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$1"
}

# bench_db NAME: for benchmark scripts. Sets admin (the cluster's URL: DATABASE_URL
# or scripts/pg.sh start), db=NAME and url (NAME on that cluster), a temp folder
# $work holding a freshly built $S (bin of sinergi), and (re)creates the database.
# Both go away on exit unless keep=1.
# shellcheck disable=SC2034 # url and S are for the calling script
bench_db() {
  admin=${DATABASE_URL:-$("$SINERGI_ROOT/scripts/pg.sh" start)}
  db=$1
  url=$(printf '%s' "$admin" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
  work=$(mktemp -d)
  trap bench_cleanup EXIT
  log "building sinergi"
  (cd "$SINERGI_ROOT" && go build -o "$work/sinergi" ./cmd/sinergi)
  S=$work/sinergi
  psql "$admin" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
}

bench_cleanup() {
  rm -rf "$work"
  if ((!${keep:-0})); then psql "$admin" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; fi
}
