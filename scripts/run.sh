#!/usr/bin/env bash
# `make run`: PostgreSQL and Redis under ./.run on loopback, then every service and the gateway,
# each checked SERVING through its gRPC health service. Ctrl-C (or SIGTERM) stops it all: services
# first (they drain in-flight calls), then Redis and PostgreSQL. Logs are in .run/logs/.
set -euo pipefail

build_dir=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
run_dir="$root/.run"
logs="$run_dir/logs"
pg_port=${CP_RUN_PG_PORT:-55432}
redis_port=${CP_RUN_REDIS_PORT:-56379}
probe="$root/$build_dir/tools/probe/cp_probe"
mkdir -p "$logs"

# name grpc_port metrics_port
services=(
  "identity 50051 9151"
  "activity 50052 9152"
  "ledger 50053 9153"
  "rewards 50054 9154"
  "gateway 50050 9150"
)

pids=()
stopping=0
stop_all() {
  ((stopping)) && return
  stopping=1
  echo
  echo "stopping services..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash "$root/scripts/redis.sh" stop "$run_dir/redis" || true
  bash "$root/scripts/pg.sh" stop "$run_dir/pg" || true
  echo "stopped."
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

bash "$root/scripts/pg.sh" start "$run_dir/pg" "$pg_port"
bash "$root/scripts/redis.sh" start "$run_dir/redis" "$redis_port"

# Development keys under .run/keys: identity's master key (phone and API-key hashes, sealed
# signing keys) and a JWKS for hand-made tokens (cp_devtoken), which services trust beside
# identity's own published keys.
mkdir -p "$run_dir/keys"
master_key="$run_dir/keys/identity-master.key"
if [[ ! -s "$master_key" ]]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$master_key")
fi
devtoken="$root/$build_dir/tools/devtoken/cp_devtoken"
[[ -f "$run_dir/keys/jwks.json" ]] || "$devtoken" init "$run_dir/keys" >/dev/null
export CP_JWKS_FILE="$run_dir/keys/jwks.json"
export CP_IDENTITY_ADDR="127.0.0.1:50051"
export CP_IDENTITY_MASTER_KEY_FILE="$master_key"
# The first district admin of a fresh city (must change the password at first login).
admin_phone=${CP_RUN_ADMIN_PHONE:-13900000000}
admin_password=${CP_RUN_ADMIN_PASSWORD:-Dev-admin-2026}
export CP_IDENTITY_BOOTSTRAP_ADMIN_PHONE="$admin_phone"
export CP_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD="$admin_password"
# The API keys of the services that call others (activity, rewards): identity registers each
# as an internal service account; each service exchanges its key for a token.
internal_keys=()
for name in activity rewards; do
  key_file="$run_dir/keys/$name.apikey"
  if [[ ! -s "$key_file" ]]; then
    secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    (umask 077 && echo "cpk_ak_internal_${name}_$secret" >"$key_file")
  fi
  internal_keys+=("$name=$key_file")
done
export CP_IDENTITY_INTERNAL_SERVICE_KEYS=$(IFS=,; echo "${internal_keys[*]}")
export CP_LEDGER_ADDR="127.0.0.1:50053"
export CP_PG_URL="postgresql://civicpoints@127.0.0.1:$pg_port/civicpoints"
export CP_REDIS_ADDR="127.0.0.1:$redis_port"
# The gateway: its backends (identity's is CP_IDENTITY_ADDR) and its REST/JSON port. Identity
# counts logins per caller address, which the gateway passes on in x-client-address.
export CP_ACTIVITY_ADDR="127.0.0.1:50052" CP_REWARDS_ADDR="127.0.0.1:50054" CP_HTTP_PORT=8080
export CP_IDENTITY_TRUST_CLIENT_ADDRESS=true

# identity first: the others fetch its token keys at start.
for entry in "${services[@]}"; do
  read -r name grpc_port metrics_port <<<"$entry"
  CP_GRPC_PORT=$grpc_port CP_METRICS_PORT=$metrics_port \
    CP_SERVICE_API_KEY_FILE="$run_dir/keys/$name.apikey" \
    "$root/$build_dir/services/$name/civicpoints-$name" 2>"$logs/$name.log" &
  pids+=($!)
  if [[ $name == identity ]] && ! "$probe" wait "127.0.0.1:$grpc_port" 30s; then
    echo "civicpoints-identity did not become SERVING; last lines of $logs/identity.log:" >&2
    tail -5 "$logs/identity.log" >&2
    exit 1
  fi
done

for entry in "${services[@]}"; do
  read -r name grpc_port metrics_port <<<"$entry"
  if ! "$probe" wait "127.0.0.1:$grpc_port" 30s; then
    echo "civicpoints-$name did not become SERVING; last lines of $logs/$name.log:" >&2
    tail -5 "$logs/$name.log" >&2
    exit 1
  fi
done

echo
echo "Civic Points is running (Ctrl-C stops everything):"
printf '  %-10s %-22s %-24s %s\n' service gRPC metrics log
for entry in "${services[@]}"; do
  read -r name grpc_port metrics_port <<<"$entry"
  printf '  %-10s %-22s %-24s %s\n' "$name" "127.0.0.1:$grpc_port" \
    "127.0.0.1:$metrics_port/metrics" ".run/logs/$name.log"
done
printf '  %-10s %s\n' postgres "$CP_PG_URL" redis "$CP_REDIS_ADDR"
echo
echo "Try: $build_dir/tools/probe/cp_probe list 127.0.0.1:50053"
echo "REST/JSON through the gateway: http://127.0.0.1:8080/v1/... (OpenAPI: /openapi.json),"
echo "     e.g. curl -s -X POST http://127.0.0.1:8080/v1/auth:login -d '{\"phone\":\"...\",\"password\":\"...\"}'"
echo "The first admin signs in with phone $admin_phone, password $admin_password (to be changed)"
echo "     through civicpoints.identity.v1.IdentityService/Login on 127.0.0.1:50051 (reflection is on)."
echo "A development token without identity (services also trust .run/keys/jwks.json):"
echo "     $build_dir/tools/devtoken/cp_devtoken sign .run/keys --subject=svc:dev --role=ROLE_INTERNAL_SERVICE"

# Wait until a service exits: on Ctrl-C the terminal signals every process of the group, so the
# services drain and exit 0 on their own; any other exit is a crash and is reported.
set +e
wait -n "${pids[@]}"
status=$?
set -e
if ((status != 0)); then
  echo "a service exited with status $status; see $logs/" >&2
  exit 1
fi
stop_all
