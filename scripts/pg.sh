#!/usr/bin/env bash
# Throwaway PostgreSQL on loopback for `make run` and the tests.
#   scripts/pg.sh start DIR PORT   initdb (once) into DIR/data, start, create database civicpoints
#   scripts/pg.sh stop DIR         stop it (fast shutdown)
#   scripts/pg.sh crash DIR        stop it as a power cut would (immediate: no checkpoint, clients
#                                  cut off; the next start recovers from the WAL), for the fault
#                                  rounds
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user. Access is
# trust on 127.0.0.1 only: this server holds nothing but test and demo data.
set -euo pipefail

cmd=${1:?usage: pg.sh start DIR PORT | stop DIR | crash DIR}
dir=$(realpath -m "${2:?DIR missing}")
port=${3:-55432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$bindir/pg_ctl" ]] || { echo "pg.sh: PostgreSQL server binaries not found (apt install postgresql)" >&2; exit 1; }

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# As root, the postgres user must reach DIR; a checkout under a private home may not allow it.
# Then the data lives in a fresh private folder under /tmp, named in DIR/data-location so that
# stop finds it.
mkdir -p "$dir"
if [[ -f "$dir/data-location" ]]; then
  dir=$(cat "$dir/data-location")
elif [[ $(id -u) -eq 0 ]]; then
  chown postgres:postgres "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    [[ $cmd == start ]] || exit 0
    elsewhere=$(mktemp -d /tmp/civicpoints-pg.XXXXXX)
    chown postgres:postgres "$elsewhere"
    echo "$elsewhere" >"$dir/data-location"
    dir=$elsewhere
  fi
fi
data="$dir/data"

case "$cmd" in
  start)
    if [[ ! -f "$data/PG_VERSION" ]]; then
      as_pg "$bindir/initdb" -D "$data" -U civicpoints --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      echo "pg.sh: PostgreSQL already running in $data"
    else
      # TCP on loopback only: no Unix socket, whose path could pass the 107-byte limit in a
      # deeply nested checkout.
      as_pg "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c max_connections=200" \
        >/dev/null || { tail -20 "$dir/postgres.log" >&2; exit 1; }
    fi
    if ! as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U civicpoints -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'civicpoints'" | grep -q 1; then
      as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U civicpoints civicpoints
    fi
    echo "pg.sh: PostgreSQL on 127.0.0.1:$port (data $data)"
    ;;
  stop)
    if [[ -f "$data/postmaster.pid" ]]; then
      as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  crash)
    if [[ -f "$data/postmaster.pid" ]]; then
      as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: pg.sh start DIR PORT | stop DIR | crash DIR" >&2; exit 2 ;;
esac
