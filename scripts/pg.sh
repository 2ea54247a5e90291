#!/usr/bin/env bash
# Usage: scripts/pg.sh start|stop|status|url|env
#
# Runs a private PostgreSQL 15 + PostGIS cluster for Sinergi, on 127.0.0.1 only.
#   start   creates the cluster on first use, starts it if stopped, makes sure the
#           role "sinergi", the database "sinergi" and the postgis extension exist,
#           then prints ONLY the DATABASE_URL on stdout (progress goes to stderr):
#             export DATABASE_URL=$(scripts/pg.sh start)
#   stop    stops the cluster (fast shutdown)
#   status  says whether it runs; exit 0 running, 3 stopped, 4 not created yet
#   url     prints the DATABASE_URL without starting anything
#   env     prints "export DATABASE_URL=..."
#
# DATABASE_URL set by the user wins: when DATABASE_URL is already set, start, url
# and env print it back and start touches no cluster.
#
# Environment:
#   SINERGI_PG_PORT  TCP port (default 55432)
#   SINERGI_PGDATA   data directory; default /var/lib/sinergi/pg15-$PORT as root
#                    (owned by the "postgres" user), otherwise
#                    ${XDG_STATE_HOME:-$HOME/.local/state}/sinergi/pg15-$PORT
#
# The role "sinergi" (password "sinergi") may create databases and roles but is not a
# superuser; PostGIS is installed in template1 so every database created later has it.
# The unix socket lives in $SINERGI_PGDATA/socket; only the cluster owner can reach it
# (trust). TCP logins use scram-sha-256. The server log is $SINERGI_PGDATA/server.log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { die "usage: scripts/pg.sh start|stop|status|url|env"; }
(($# == 1)) || usage
cmd=$1

PGBIN=/usr/lib/postgresql/15/bin
PORT=${SINERGI_PG_PORT:-55432}
if ! [[ $PORT =~ ^[0-9]+$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
  die "SINERGI_PG_PORT must be a TCP port number, not '$PORT'"
fi
URL="postgres://sinergi:sinergi@127.0.0.1:$PORT/sinergi?sslmode=disable"

case $cmd in
  url)
    printf '%s\n' "${DATABASE_URL:-$URL}"
    exit 0
    ;;
  env)
    u=${DATABASE_URL:-$URL}
    printf "export DATABASE_URL='%s'\n" "${u//\'/\'\\\'\'}"
    exit 0
    ;;
  start)
    if [[ -n ${DATABASE_URL:-} ]]; then
      log "DATABASE_URL is set: using it, no private cluster started"
      printf '%s\n' "$DATABASE_URL"
      exit 0
    fi
    ;;
  stop | status) ;;
  *) usage ;;
esac

# The cluster owner: PostgreSQL refuses to run as root, so root hands the cluster
# to the "postgres" system user (created by the Debian packages).
if ((EUID == 0)); then
  OWNER=postgres
  PGDATA=${SINERGI_PGDATA:-/var/lib/sinergi/pg15-$PORT}
else
  OWNER=$(id -un)
  PGDATA=${SINERGI_PGDATA:-${XDG_STATE_HOME:-$HOME/.local/state}/sinergi/pg15-$PORT}
fi
[[ $PGDATA == /* ]] || PGDATA=$PWD/$PGDATA
SOCKDIR=$PGDATA/socket
LOGFILE=$PGDATA/server.log

# as_owner COMMAND...: runs COMMAND as the cluster owner, from / (root's working
# directory may be unreadable for postgres).
as_owner() {
  if ((EUID != 0)); then
    (cd / && "$@")
  elif command -v runuser >/dev/null 2>&1; then
    (cd / && runuser -u "$OWNER" -- "$@")
  else
    (cd / && su "$OWNER" -s /bin/bash -c "$(printf '%q ' "$@")")
  fi
}

pg_ctl_() { as_owner "$PGBIN/pg_ctl" -D "$PGDATA" "$@"; }

# cluster_state: 0 running, 3 stopped, 4 no cluster (pg_ctl status codes).
cluster_state() {
  [[ -f $PGDATA/PG_VERSION ]] || return 4
  local rc=0
  pg_ctl_ status >/dev/null 2>&1 || rc=$?
  ((rc == 0)) && return 0
  return 3
}

if [[ $cmd == stop ]]; then
  state=0
  cluster_state || state=$?
  case $state in
    0) pg_ctl_ stop -m fast -w >&2 ;;
    3) log "cluster in $PGDATA is not running" ;;
    *) log "no cluster in $PGDATA" ;;
  esac
  exit 0
fi

if [[ $cmd == status ]]; then
  state=0
  cluster_state || state=$?
  case $state in
    0) echo "running: 127.0.0.1:$PORT, data $PGDATA, log $LOGFILE" ;;
    3) echo "stopped: data $PGDATA (start with scripts/pg.sh start)" ;;
    *) echo "not created: $PGDATA (scripts/pg.sh start creates it)" ;;
  esac
  [[ -z ${DATABASE_URL:-} ]] || echo "note: DATABASE_URL is set, so start would use it instead of this cluster"
  exit "$state"
fi

# ---- start ----

if [[ ! -f /usr/share/postgresql/15/extension/postgis.control || ! -x $PGBIN/initdb ]]; then
  log "PostgreSQL 15 / PostGIS missing: running scripts/deps.sh"
  # Its verdict on go and node does not matter here, only the packages.
  bash "$SINERGI_ROOT/scripts/deps.sh" || true
  [[ -f /usr/share/postgresql/15/extension/postgis.control && -x $PGBIN/initdb ]] ||
    die "PostgreSQL 15 with PostGIS is not installed (see above)"
fi
if ((EUID == 0)); then
  id -u "$OWNER" >/dev/null 2>&1 || die "system user '$OWNER' does not exist (it comes with the postgresql-15 package)"
fi
# The socket path must fit in sun_path (107 bytes).
sock="$SOCKDIR/.s.PGSQL.$PORT"
((${#sock} <= 107)) || die "socket path too long (${#sock} > 107 bytes): $sock; set SINERGI_PGDATA to a shorter directory"

# One start at a time per cluster (parallel CI jobs, two terminals).
mkdir -p "$(dirname "$PGDATA")"
exec 9>"$PGDATA.lock"
flock -w 300 9 || die "another scripts/pg.sh start holds $PGDATA.lock"

init_cluster() {
  log "creating PostgreSQL 15 cluster in $PGDATA (owner $OWNER, port $PORT)"
  mkdir -p "$PGDATA"
  if ((EUID == 0)); then
    [[ -z $(ls -A "$PGDATA") ]] || die "$PGDATA is not empty and has no cluster in it; remove it or set SINERGI_PGDATA"
    chown "$OWNER:" "$PGDATA"
    as_owner test -w "$PGDATA" || die "user $OWNER cannot write $PGDATA (is a parent directory closed to it?); set SINERGI_PGDATA elsewhere"
  fi
  chmod 700 "$PGDATA"
  local locale=C
  if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then locale=C.UTF-8; fi
  as_owner "$PGBIN/initdb" -D "$PGDATA" --encoding=UTF8 --locale="$locale" \
    --username="$OWNER" --auth-local=trust --auth-host=scram-sha-256 --no-instructions >&2
  # Only the owner may use the socket without a password (the socket directory is
  # inside the 0700 data directory anyway); TCP needs the password.
  {
    echo "# Written by scripts/pg.sh"
    echo "# TYPE  DATABASE  USER          ADDRESS        METHOD"
    printf "%-6s  %-8s  %-12s  %-13s  %s\n" \
      local all "$OWNER" "" trust \
      local all all "" scram-sha-256 \
      host all all 127.0.0.1/32 scram-sha-256 \
      host all all ::1/128 scram-sha-256
  } | as_owner tee "$PGDATA/pg_hba.conf" >/dev/null
}

# write_conf: settings for a small machine; rewritten at every start, so a change of
# SINERGI_PG_PORT or of this script applies to an existing cluster.
write_conf() {
  # Parallel queries use /dev/shm; containers often give it only 64 MB, so below
  # 1 GB the segments go to files in the data directory instead.
  local dsm=posix shm_kb
  shm_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
  [[ ${shm_kb:-0} -ge 1048576 ]] || dsm=mmap
  as_owner mkdir -p "$SOCKDIR"
  as_owner chmod 700 "$SOCKDIR"
  # Appended once; checked every time in case an earlier first start was interrupted.
  if ! as_owner grep -q "^include_if_exists = .sinergi.conf.'" "$PGDATA/postgresql.conf"; then
    printf "\ninclude_if_exists = 'sinergi.conf'\n" | as_owner tee -a "$PGDATA/postgresql.conf" >/dev/null
  fi
  as_owner tee "$PGDATA/sinergi.conf" >/dev/null <<EOF
# Written by scripts/pg.sh at every start: edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKDIR'
max_connections = 200
shared_buffers = 256MB
work_mem = 32MB
maintenance_work_mem = 256MB
dynamic_shared_memory_type = $dsm
wal_level = minimal
max_wal_senders = 0
# A development cluster: losing the last commits in a crash is acceptable, waiting
# for every commit to reach the disk is not.
synchronous_commit = off
EOF
}

psql_owner() {
  PGOPTIONS='-c client_min_messages=warning' as_owner "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$SOCKDIR" -p "$PORT" -U "$OWNER" "$@"
}

state=0
cluster_state || state=$?
if ((state != 0)); then
  # Something else on the port would make the start fail with an obscure log line.
  ready=0
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2 >/dev/null 2>&1 || ready=$?
  if ((ready == 0 || ready == 1)); then
    die "another server already listens on 127.0.0.1:$PORT; set SINERGI_PG_PORT to a free port"
  fi
  ((state == 3)) || init_cluster
  write_conf
  log "starting PostgreSQL on 127.0.0.1:$PORT (data $PGDATA)"
  # 9>&-: the server must not inherit (and so hold) the start lock.
  if ! pg_ctl_ start -w -t 60 -l "$LOGFILE" >/dev/null 9>&-; then
    log "PostgreSQL did not start; end of $LOGFILE:"
    tail -n 30 "$LOGFILE" >&2 || true
    exit 1
  fi
else
  log "PostgreSQL already running on 127.0.0.1:$PORT (data $PGDATA)"
fi

# Role, database, extension: cheap to check at every start, and repairs a cluster
# whose set-up was interrupted or changed by hand.
psql_owner -d postgres <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sinergi') THEN
    CREATE ROLE sinergi LOGIN PASSWORD 'sinergi' CREATEDB CREATEROLE;
  ELSIF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sinergi' AND rolcanlogin
                    AND rolcreatedb AND rolcreaterole AND NOT rolsuper) THEN
    ALTER ROLE sinergi LOGIN PASSWORD 'sinergi' CREATEDB CREATEROLE NOSUPERUSER;
  END IF;
END
$$;
SQL
# template1 first, so that "sinergi" (and every database created later) copies PostGIS.
# PostgreSQL 15 no longer lets every role create in schema public: grant it to sinergi.
psql_owner -d template1 <<'SQL'
CREATE EXTENSION IF NOT EXISTS postgis;
GRANT ALL ON SCHEMA public TO sinergi;
SQL
psql_owner -d postgres <<'SQL'
SELECT 'CREATE DATABASE sinergi OWNER sinergi'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'sinergi')
\gexec
SQL
psql_owner -d sinergi <<'SQL'
CREATE EXTENSION IF NOT EXISTS postgis;
GRANT ALL ON SCHEMA public TO sinergi;
SQL

# The URL we print must work: log in with it over TCP, as a client would. A password
# changed by hand is put back.
login() { "$PGBIN/psql" "$URL" -X -q -t -c 'SELECT 1' >/dev/null 2>&1; }
if ! login; then
  log "cannot log in as sinergi over TCP: resetting its password"
  psql_owner -d postgres -c "ALTER ROLE sinergi PASSWORD 'sinergi'"
  login || die "cannot log in with $URL (see $LOGFILE)"
fi

printf '%s\n' "$URL"
