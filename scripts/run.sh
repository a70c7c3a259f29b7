#!/usr/bin/env bash
# `make run`: PostgreSQL and Redis under ./.run on loopback, then every service and the gateway,
# each checked SERVING through its gRPC health service. Ctrl-C (or SIGTERM) stops it all: services
# first (they drain in-flight calls), then Redis and PostgreSQL. Logs are in .run/logs/.
set -euo pipefail

build_dir=${1:-build}
SUITE_ROOT=$(cd "$(dirname "$0")/.." && pwd)
root=$SUITE_ROOT
SUITE_RUN_DIR="$root/.run"
SUITE_BUILD_DIR="$root/$build_dir"
logs="$SUITE_RUN_DIR/logs"
source "$root/scripts/suite-lib.sh"

# name grpc_port metrics_port (identity first: the others fetch its token keys at start)
SUITE_SERVICES=(
  "identity 50051 9151"
  "activity 50052 9152"
  "ledger 50053 9153"
  "rewards 50054 9154"
  "events 50055 9155"
  "gateway 50050 9150"
)
SUITE_PG_PORT=${CP_RUN_PG_PORT:-55432}
SUITE_REDIS_PORT=${CP_RUN_REDIS_PORT:-56379}
SUITE_HTTP_PORT=8080
# The first district admin of a fresh city (must change the password at first login).
SUITE_ADMIN_PHONE=${CP_RUN_ADMIN_PHONE:-13900000000}
SUITE_ADMIN_PASSWORD=${CP_RUN_ADMIN_PASSWORD:-Dev-admin-2026}
admin_phone=$SUITE_ADMIN_PHONE admin_password=$SUITE_ADMIN_PASSWORD
mkdir -p "$logs"

stopping=0
stop_all() {
  ((stopping)) && return
  stopping=1
  echo
  echo "stopping services..."
  suite_stop_services
  suite_stop_stores
  echo "stopped."
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

suite_start_stores
suite_export_env
suite_start_services || exit 1

# Demo data (issue 8): the story, loaded through the gateway's public API (tools/demo/cp_demo),
# unless DEMO=0; loading again on a later start changes nothing. A failed load leaves the suite up.
demo_out="$SUITE_RUN_DIR/demo.txt"
rm -f "$demo_out"
if [[ ${DEMO:-1} != 0 ]]; then
  echo "loading the demo data (make run DEMO=0 starts without it)..."
  if ! "$SUITE_BUILD_DIR/tools/demo/cp_demo" --gateway=127.0.0.1:50050 --admin_phone="$admin_phone" \
    --admin_password="$admin_password" >"$demo_out.tmp" 2>&1; then
    cat "$demo_out.tmp" >&2
    echo "the demo data did not load; the suite runs without it" >&2
  else
    mv "$demo_out.tmp" "$demo_out"
  fi
fi

echo
echo "Civic Points is running (Ctrl-C stops everything):"
printf '  %-10s %-22s %-24s %s\n' service gRPC metrics log
for entry in "${SUITE_SERVICES[@]}"; do
  read -r name grpc_port metrics_port <<<"$entry"
  printf '  %-10s %-22s %-24s %s\n' "$name" "127.0.0.1:$grpc_port" \
    "127.0.0.1:$metrics_port/metrics" ".run/logs/$name.log"
done
printf '  %-10s %s\n' postgres "$CP_PG_URL" redis "$CP_REDIS_ADDR"
echo
echo "Try: $build_dir/tools/probe/cp_probe list 127.0.0.1:50050   (the gateway; describe SYMBOL too)"
echo "REST/JSON through the gateway: http://127.0.0.1:8080/v1/... (OpenAPI: /openapi.json),"
echo "     e.g. curl -s -X POST http://127.0.0.1:8080/v1/auth:login -d '{\"phone\":\"...\",\"password\":\"...\"}'"
echo "The district dashboard: http://127.0.0.1:8080/dashboard/ (staff and org viewers sign in there)"
if [[ -s $demo_out ]]; then
  echo
  cat "$demo_out"
else
  echo "The first admin signs in with phone $admin_phone, password $admin_password (to be changed)"
  echo "     through civicpoints.identity.v1.IdentityService/Login on the gateway, 127.0.0.1:50050 (reflection is on)."
fi
echo "A development token without identity (services also trust .run/keys/jwks.json):"
echo "     $build_dir/tools/devtoken/cp_devtoken sign .run/keys --subject=svc:dev --role=ROLE_INTERNAL_SERVICE"

# Wait until a service exits: on Ctrl-C the terminal signals every process of the group, so the
# services drain and exit 0 on their own; any other exit is a crash and is reported.
set +e
wait -n "${SUITE_PIDS[@]}"
status=$?
set -e
if ((status != 0)); then
  echo "a service exited with status $status; see $logs/" >&2
  exit 1
fi
stop_all
