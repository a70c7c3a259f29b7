#!/usr/bin/env bash
# The whole suite in the background, for tests (the ctest fixture cp_suite) and scripts:
#   scripts/suite.sh start RUN_DIR PORT_BASE BUILD_DIR   fresh PostgreSQL and Redis in RUN_DIR, the
#       four services and the gateway, each waited for until SERVING; the bootstrap admin's
#       first-login password change done; returns 0 with everything running
#   scripts/suite.sh stop RUN_DIR                        services (SIGTERM, wait), then Redis and
#       PostgreSQL
#   scripts/suite.sh restart RUN_DIR NAME                one service of a running suite started
#       again (killed first if it still runs) with the settings it had, waited for until SERVING:
#       the fault rounds' recovery after a crash (tests/fault)
# Ports come from PORT_BASE (scripts/suite-lib.sh): gateway gRPC BASE, identity/activity/ledger/
# rewards BASE+1..4, metrics BASE+10..14, gateway HTTP BASE+20, PostgreSQL BASE+30, Redis BASE+31.
# Every start begins from empty stores, so a test run never sees an earlier run's data.
# RUN_DIR/suite.env names the addresses and RUN_DIR/admin.env the admin's credentials:
#   CP_SUITE_ADMIN_PHONE (13900000000) and CP_SUITE_ADMIN_PASSWORD (Suite-admin-2026 unless
#   CP_SUITE_ADMIN_PASSWORD is set when starting).
# Other CP_* settings in the environment reach the services (e.g. CP_RATE_PER_ADDRESS).
set -euo pipefail

usage() {
  echo "usage: suite.sh start RUN_DIR PORT_BASE BUILD_DIR | stop RUN_DIR | restart RUN_DIR NAME" >&2
  exit 2
}
cmd=${1:-}
[[ ($cmd == start && $# -eq 4) || ($cmd == stop && $# -eq 2) || ($cmd == restart && $# -eq 3) ]] ||
  usage
SUITE_ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUITE_RUN_DIR=$(realpath -m "$2")
source "$SUITE_ROOT/scripts/suite-lib.sh"

if [[ $cmd == stop ]]; then
  suite_stop_services
  suite_stop_stores
  echo "suite.sh: stopped ($SUITE_RUN_DIR)"
  exit 0
fi

if [[ $cmd == restart ]]; then
  # The ports and build of the running suite, and its admin (identity's bootstrap settings).
  port_base=$(sed -n 's/^CP_SUITE_PORT_BASE=//p' "$SUITE_RUN_DIR/suite.env")
  SUITE_BUILD_DIR=$(sed -n 's/^CP_SUITE_BUILD_DIR=//p' "$SUITE_RUN_DIR/suite.env")
  [[ -n $port_base && -n $SUITE_BUILD_DIR ]] || { echo "suite.sh: no running suite in $SUITE_RUN_DIR" >&2; exit 1; }
  suite_ports_from_base "$port_base"
  SUITE_ADMIN_PHONE=13900000000
  SUITE_ADMIN_PASSWORD=Suite-initial-2026
  SUITE_DETACH=1
  suite_export_env
  suite_restart_service "$3"
  exit $?
fi

port_base=$3
SUITE_BUILD_DIR=$(realpath "$4")
suite_ports_from_base "$port_base"
SUITE_ADMIN_PHONE=13900000000
SUITE_ADMIN_PASSWORD=Suite-initial-2026
admin_password=${CP_SUITE_ADMIN_PASSWORD:-Suite-admin-2026}

# Whatever an earlier start left behind (a crashed test run) is stopped and wiped.
suite_stop_services
suite_stop_stores
if [[ -f $SUITE_RUN_DIR/pg/data-location ]]; then rm -rf "$(cat "$SUITE_RUN_DIR/pg/data-location")"; fi
(cd "$SUITE_RUN_DIR" 2>/dev/null && rm -rf pg redis keys logs pids admin.env suite.env stores.log)
mkdir -p "$SUITE_RUN_DIR"

SUITE_DETACH=1
if ! { suite_start_stores >"$SUITE_RUN_DIR/stores.log" 2>&1 || { cat "$SUITE_RUN_DIR/stores.log" >&2; false; }; } ||
   ! suite_export_env || ! suite_start_services ||
   ! suite_change_admin_password "$SUITE_ADMIN_PASSWORD" "$admin_password"; then
  echo "suite.sh: start failed; stopping what started (logs in $SUITE_RUN_DIR/logs)" >&2
  suite_stop_services
  suite_stop_stores
  exit 1
fi

cat >"$SUITE_RUN_DIR/admin.env" <<EOF
CP_SUITE_ADMIN_PHONE=$SUITE_ADMIN_PHONE
CP_SUITE_ADMIN_PASSWORD=$admin_password
EOF
cat >"$SUITE_RUN_DIR/suite.env" <<EOF
CP_SUITE_GATEWAY_ADDR=127.0.0.1:$(suite_port gateway)
CP_SUITE_HTTP_URL=http://127.0.0.1:$SUITE_HTTP_PORT
CP_SUITE_IDENTITY_ADDR=127.0.0.1:$(suite_port identity)
CP_SUITE_ACTIVITY_ADDR=127.0.0.1:$(suite_port activity)
CP_SUITE_LEDGER_ADDR=127.0.0.1:$(suite_port ledger)
CP_SUITE_REWARDS_ADDR=127.0.0.1:$(suite_port rewards)
CP_SUITE_EVENTS_ADDR=127.0.0.1:$(suite_port events)
CP_SUITE_PG_URL=$CP_PG_URL
CP_SUITE_REDIS_ADDR=$CP_REDIS_ADDR
CP_SUITE_KEYS_DIR=$SUITE_RUN_DIR/keys
CP_SUITE_PORT_BASE=$port_base
CP_SUITE_BUILD_DIR=$SUITE_BUILD_DIR
EOF
echo "suite.sh: running, gateway gRPC 127.0.0.1:$(suite_port gateway)," \
  "HTTP http://127.0.0.1:$SUITE_HTTP_PORT (logs in $SUITE_RUN_DIR/logs)"
