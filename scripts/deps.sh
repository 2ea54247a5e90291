#!/usr/bin/env bash
# Usage: scripts/deps.sh [--browser] [--glpk] [--bench]
#
# Installs the Debian packages Sinergi needs when they are missing:
#   always      postgresql-15-postgis-3 (PostgreSQL 15 + PostGIS 3), gdal-bin (ogr2ogr)
#   --browser   chromium, curl   (browser tests)
#   --glpk      glpk-utils       (glpsol: exact optimum for the matcher tests)
#   --bench     wrk              (HTTP load benchmarks)
# and checks that go, node and npm are on PATH (it does not install those).
#
# Installs with apt-get as root, through "sudo -n" otherwise; when neither works it
# prints the command to run and exits 1. When everything is present it makes no
# apt call at all.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want_browser=0 want_glpk=0 want_bench=0
for arg in "$@"; do
  case $arg in
    --browser) want_browser=1 ;;
    --glpk) want_glpk=1 ;;
    --bench) want_bench=1 ;;
    -h | --help)
      print_usage "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown option '$arg' (usage: scripts/deps.sh [--browser] [--glpk] [--bench])" ;;
  esac
done

PGBIN=/usr/lib/postgresql/15/bin
missing=()
# need PACKAGE TEST...: adds PACKAGE to the install list when TEST fails.
need() {
  local pkg=$1
  shift
  "$@" >/dev/null 2>&1 || missing+=("$pkg")
}
need postgresql-15-postgis-3 test -f /usr/share/postgresql/15/extension/postgis.control
need postgresql-15-postgis-3 test -x "$PGBIN/initdb" # pulled in as its dependency
need gdal-bin command -v ogr2ogr
if ((want_browser)); then
  need chromium command -v chromium
  need curl command -v curl
fi
((want_glpk)) && need glpk-utils command -v glpsol
((want_bench)) && need wrk command -v wrk

if ((${#missing[@]} > 0)); then
  # Unique, in order.
  pkgs=()
  for p in "${missing[@]}"; do
    [[ " ${pkgs[*]} " == *" $p "* ]] || pkgs+=("$p")
  done
  log "missing Debian packages: ${pkgs[*]}"
  if ((EUID == 0)); then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    log "error: these packages are missing and this script cannot install them (not root, no password-less sudo)."
    log "Run this as root, then run the command again:"
    log ""
    log "  apt-get update && apt-get install -y ${pkgs[*]}"
    log ""
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2
  log "installed: ${pkgs[*]}"
fi

# Tools that do not come from apt here: say what is missing, all at once.
absent=()
command -v go >/dev/null 2>&1 || absent+=("go: install Go (version in go.mod) from https://go.dev/dl and put it on PATH")
command -v node >/dev/null 2>&1 || absent+=("node: install Node.js 20 or newer")
command -v npm >/dev/null 2>&1 || absent+=("npm: install npm (it comes with Node.js)")
if ((${#absent[@]} > 0)); then
  for a in "${absent[@]}"; do log "error: $a"; done
  exit 1
fi
