#!/usr/bin/env bash
# Matcher benchmarks (issue 6). Prints, in one run on this machine:
#  - Go benchmarks at Bekasi size (187 villages × 114 companies × 5 sectors) and national size
#    (80,000 × 2,000 × 5), each with its ratio to a reference measured in the same run
#    (sorting the instance's eligible pairs: x_sort_ref);
#  - a ladder of growing instances solved exactly by GLPK (glpsol) and by our matcher, with both
#    times and our gap, up to the largest instance glpsol solves within the limit (default 60 s).
# Usage: scripts/bench_match.sh [--tmlim SECONDS] [--count N]
set -euo pipefail
cd "$(dirname "$0")/.."
tmlim=60
count=5
while [ $# -gt 0 ]; do
  case "$1" in
    --tmlim) tmlim="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    *) echo "usage: $0 [--tmlim SECONDS] [--count N]" >&2; exit 2 ;;
  esac
done
command -v glpsol >/dev/null || { echo "glpsol not found: install glpk-utils (scripts/deps.sh)" >&2; exit 1; }
echo "== matcher benchmarks (ns/op; x_sort_ref = our time / sorting the eligible pairs, same run)"
/usr/bin/env time -f "peak RSS %M KiB, wall %e s" \
  go test -run '^$' -bench 'BenchmarkMatch' -benchtime "${count}x" ./matching/
echo
echo "== GLPK ladder (sector mode; glpsol time limit ${tmlim} s)"
go test -v -count=1 -run '^TestGLPKLadder$' -timeout 0 ./matching/ -args -glpk.ladder -glpk.tmlim "$tmlim" | grep -v '^=== RUN\|^--- \|^PASS\|^ok'
