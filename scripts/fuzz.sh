#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [seconds]
#
# Runs every Go fuzz target (func FuzzXxx in *_test.go) for a while each, one
# after the other: default 10 s each. scripts/test.sh runs it for 5 s per target
# (CI and the full run); its go test step runs each seed corpus as ordinary tests.
#
# A failing input is saved by go test under PKG/testdata/fuzz/FuzzXxx/; commit it
# with the fix so that it stays a regression test. Exit status is non-zero when
# any target failed.
#
#   e.g. scripts/fuzz.sh 60
#        SINERGI_FUZZ_ONLY=FuzzParseTileRequest scripts/fuzz.sh 300
#
# Environment:
#   SINERGI_FUZZ_ONLY  run only targets whose name matches this regexp
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${1:-} in
  -h | --help)
    print_usage "${BASH_SOURCE[0]}"
    exit 0
    ;;
esac
secs=${1:-10}
if ! [[ $secs =~ ^[0-9]+$ ]] || ((secs == 0)); then
  die "seconds must be a positive whole number, not '$secs'"
fi
only=${SINERGI_FUZZ_ONLY:-.}

cd "$SINERGI_ROOT"
# package-dir <tab> target, from the sources (go test -list would compile every package).
mapfile -t targets < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' \
  --exclude-dir=node_modules --exclude-dir=.git . | sort | while read -r file; do
  grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed "s#^func #$(dirname "$file")\t#"
done)
((${#targets[@]} > 0)) || die "no fuzz targets found"

failed=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT
t_start=$(now_us)
for entry in "${targets[@]}"; do
  dir=${entry%%$'\t'*}
  name=${entry#*$'\t'}
  [[ $name =~ $only ]] || continue
  log "== $name ($dir, ${secs}s)"
  # -parallel 1: a 2-core machine stays usable; -run '^$': no unit tests;
  # -vet=off: vet is a step of scripts/test.sh, and here it would run once per
  # target (about half of a 5 s run's wall time).
  for try in 1 2; do
    if go test -vet=off -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" -parallel 1 "$dir" 2>&1 | tee "$out"; then
      break
    fi
    # Go's fuzzing engine can stop with "context deadline exceeded" when the time
    # runs out while a worker is still starting (seen once in CI, after 2,657
    # execs, nothing found). That is no finding: no input was written. Retry it
    # once; a real failure writes "Failing input written to ..." and fails at once.
    if ((try == 1)) && grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
      log "$name: the fuzzing engine timed out without a finding; running it again"
      continue
    fi
    failed+=("$name ($dir)")
    break
  done
done
log "fuzzing took $(since "$t_start") s"
if ((${#failed[@]})); then
  log "failed: ${failed[*]}"
  exit 1
fi
log "all fuzz targets passed"
