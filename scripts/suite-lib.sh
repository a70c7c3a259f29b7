# The whole suite on loopback — PostgreSQL, Redis, the five services and the gateway — as shell
# functions shared by `make run` (scripts/run.sh, in the foreground) and the tests
# (scripts/suite.sh, in the background). Sourced, not run. The caller sets:
#   SUITE_ROOT       the checkout
#   SUITE_RUN_DIR    where PostgreSQL, Redis, keys, logs and pid files live
#   SUITE_BUILD_DIR  the build tree (absolute)
# and the ports, either one by one (SUITE_PG_PORT, SUITE_REDIS_PORT, SUITE_HTTP_PORT and
# SUITE_SERVICES, "name grpc_port metrics_port" per service, identity first, the gateway last) or
# all at once with suite_ports_from_base.

# suite_ports_from_base BASE: gRPC BASE (gateway), BASE+1..5 (identity, activity, ledger,
# rewards, events); metrics BASE+10..15 in the same order; gateway HTTP BASE+20; PostgreSQL
# BASE+30; Redis BASE+31.
suite_ports_from_base() {
  local base=$1
  SUITE_SERVICES=(
    "identity $((base + 1)) $((base + 11))"
    "activity $((base + 2)) $((base + 12))"
    "ledger $((base + 3)) $((base + 13))"
    "rewards $((base + 4)) $((base + 14))"
    "events $((base + 5)) $((base + 15))"
    "gateway $((base + 0)) $((base + 10))"
  )
  SUITE_HTTP_PORT=$((base + 20))
  SUITE_PG_PORT=$((base + 30))
  SUITE_REDIS_PORT=$((base + 31))
}

# suite_port NAME: the gRPC port of service NAME.
suite_port() {
  local entry name grpc_port metrics_port
  for entry in "${SUITE_SERVICES[@]}"; do
    read -r name grpc_port metrics_port <<<"$entry"
    [[ $name == "$1" ]] && { echo "$grpc_port"; return 0; }
  done
  return 1
}

suite_start_stores() {
  bash "$SUITE_ROOT/scripts/pg.sh" start "$SUITE_RUN_DIR/pg" "$SUITE_PG_PORT" || return 1
  bash "$SUITE_ROOT/scripts/redis.sh" start "$SUITE_RUN_DIR/redis" "$SUITE_REDIS_PORT" || return 1
}

suite_stop_stores() {
  bash "$SUITE_ROOT/scripts/redis.sh" stop "$SUITE_RUN_DIR/redis" || true
  bash "$SUITE_ROOT/scripts/pg.sh" stop "$SUITE_RUN_DIR/pg" || true
}

# suite_export_env: (SUITE_ADMIN_PHONE and SUITE_ADMIN_PASSWORD set) development keys under SUITE_RUN_DIR/keys and every CP_* setting the
# services share, exported for the processes started after it.
suite_export_env() {
  local keys="$SUITE_RUN_DIR/keys"
  mkdir -p "$keys"
  # Identity's master key (phone and API-key hashes, sealed signing keys) and a JWKS for
  # hand-made tokens (cp_devtoken), which services trust beside identity's own published keys.
  local master_key="$keys/identity-master.key"
  if [[ ! -s "$master_key" ]]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$master_key")
  fi
  [[ -f "$keys/jwks.json" ]] || "$SUITE_BUILD_DIR/tools/devtoken/cp_devtoken" init "$keys" >/dev/null ||
    return 1
  export CP_JWKS_FILE="$keys/jwks.json"
  export CP_IDENTITY_ADDR="127.0.0.1:$(suite_port identity)"
  export CP_IDENTITY_MASTER_KEY_FILE="$master_key"
  # The first district admin of a fresh city (must change the password at first login).
  export CP_IDENTITY_BOOTSTRAP_ADMIN_PHONE="$SUITE_ADMIN_PHONE"
  export CP_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD="$SUITE_ADMIN_PASSWORD"
  # The API keys of the services that call others or publish events (activity, ledger, rewards,
  # and events, whose overviews call identity, activity, the ledger and rewards): identity
  # registers each as an internal service account; each service exchanges its key for a token.
  # The key id is random too (80 bits), so nobody can name a service's key to aim wrong secrets
  # at it; a key file made before keeps working.
  local internal_keys=() name key_file id secret
  for name in activity ledger rewards events; do
    key_file="$keys/$name.apikey"
    if [[ ! -s "$key_file" ]]; then
      id=$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n')
      secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
      (umask 077 && echo "cpk_ak_${id}_$secret" >"$key_file")
    fi
    internal_keys+=("$name=$key_file")
  done
  export CP_IDENTITY_INTERNAL_SERVICE_KEYS=$(IFS=,; echo "${internal_keys[*]}")
  export CP_LEDGER_ADDR="127.0.0.1:$(suite_port ledger)"
  export CP_PG_URL="postgresql://civicpoints@127.0.0.1:$SUITE_PG_PORT/civicpoints"
  export CP_REDIS_ADDR="127.0.0.1:$SUITE_REDIS_PORT"
  # The gateway's backends (identity's is CP_IDENTITY_ADDR), also the peers events' overviews
  # ask, and the gateway's REST/JSON port. Identity counts logins per caller address, which the
  # gateway passes on in x-client-address.
  export CP_ACTIVITY_ADDR="127.0.0.1:$(suite_port activity)"
  export CP_REWARDS_ADDR="127.0.0.1:$(suite_port rewards)"
  # Where the services publish their domain events, and where the gateway forwards the feed.
  export CP_EVENTS_ADDR="127.0.0.1:$(suite_port events)"
  # A suite on one machine is for development: webhooks may post to a receiver on loopback.
  export CP_EVENTS_WEBHOOK_ALLOW_LOOPBACK=true
  # The district dashboard's files (web/, copied by the build), served by the gateway at /dashboard/.
  if [[ -f "$SUITE_BUILD_DIR/dashboard/index.html" ]]; then
    export CP_DASHBOARD_DIR="$SUITE_BUILD_DIR/dashboard"
  fi
  export CP_HTTP_PORT=$SUITE_HTTP_PORT
  export CP_IDENTITY_TRUST_CLIENT_ADDRESS=true
  # One-time SMS codes go to identity's log: a suite on one machine sends no SMS (the end-to-end
  # test reads a rider's reset code there).
  export CP_IDENTITY_SMS_SENDER=log
}

# suite_start_services: every service in the background, identity first (the others fetch its
# token keys at start), each waited for until SERVING. Pids go to SUITE_PIDS and to
# SUITE_RUN_DIR/pids/NAME.pid; logs to SUITE_RUN_DIR/logs/NAME.log. With SUITE_DETACH=1 each runs
# in a session of its own (so it outlives the starting shell). Returns 1, naming the service and
# showing its last log lines, when one does not become SERVING within 30 s.
suite_start_services() {
  local entry name grpc_port metrics_port
  mkdir -p "$SUITE_RUN_DIR/logs" "$SUITE_RUN_DIR/pids"
  SUITE_PIDS=()
  for entry in "${SUITE_SERVICES[@]}"; do
    read -r name grpc_port metrics_port <<<"$entry"
    : >"$SUITE_RUN_DIR/logs/$name.log"
    suite_launch "$name" "$grpc_port" "$metrics_port"
    if [[ $name == identity ]]; then
      suite_wait_serving identity "$grpc_port" || return 1
    fi
  done
  for entry in "${SUITE_SERVICES[@]}"; do
    read -r name grpc_port metrics_port <<<"$entry"
    suite_wait_serving "$name" "$grpc_port" || return 1
  done
}

# suite_launch NAME GRPC_PORT METRICS_PORT: starts one service in the background (its log
# appended to, so a restart keeps what the crashed process wrote); its pid goes to SUITE_PIDS and
# SUITE_RUN_DIR/pids/NAME.pid.
suite_launch() {
  local name=$1 grpc_port=$2 metrics_port=$3 detach=() only_gateway=()
  [[ ${SUITE_DETACH:-0} == 1 ]] && detach=(setsid)
  # The gateway takes the development keys of CP_JWKS_FILE only in development mode.
  [[ $name == gateway ]] && only_gateway=(CP_DEV_MODE=true)
  CP_GRPC_PORT=$grpc_port CP_METRICS_PORT=$metrics_port \
    CP_SERVICE_API_KEY_FILE="$SUITE_RUN_DIR/keys/$name.apikey" \
    env "${only_gateway[@]}" "${detach[@]}" "$SUITE_BUILD_DIR/services/$name/civicpoints-$name" \
    </dev/null >>"$SUITE_RUN_DIR/logs/$name.log" 2>&1 &
  SUITE_PIDS+=($!)
  echo $! >"$SUITE_RUN_DIR/pids/$name.pid"
}

# suite_restart_service NAME: kills NAME if it still runs, starts it again on its ports and waits
# until it is SERVING.
suite_restart_service() {
  local entry name grpc_port metrics_port pid_file="$SUITE_RUN_DIR/pids/$1.pid"
  for entry in "${SUITE_SERVICES[@]}"; do
    read -r name grpc_port metrics_port <<<"$entry"
    [[ $name == "$1" ]] || continue
    if [[ -f $pid_file ]] && suite_alive "$(cat "$pid_file")"; then
      kill -KILL "$(cat "$pid_file")" 2>/dev/null || true
      for _ in $(seq 1 50); do suite_alive "$(cat "$pid_file")" || break; sleep 0.1; done
    fi
    suite_launch "$name" "$grpc_port" "$metrics_port"
    suite_wait_serving "$name" "$grpc_port"
    return $?
  done
  echo "suite.sh: no service named $1" >&2
  return 1
}

suite_wait_serving() {
  local name=$1 port=$2
  if ! "$SUITE_BUILD_DIR/tools/probe/cp_probe" wait "127.0.0.1:$port" 30s >/dev/null; then
    echo "civicpoints-$name did not become SERVING; last lines of $SUITE_RUN_DIR/logs/$name.log:" >&2
    tail -5 "$SUITE_RUN_DIR/logs/$name.log" >&2
    return 1
  fi
}

# suite_stop_services: SIGTERM to every service named in SUITE_RUN_DIR/pids (the gateway first,
# so no new call comes in while the others drain), then wait up to 15 s for each; a service still
# running after that gets SIGKILL.
suite_stop_services() {
  local pid_dir="$SUITE_RUN_DIR/pids" name pid
  [[ -d $pid_dir ]] || return 0
  for name in gateway events rewards activity ledger identity; do
    [[ -f $pid_dir/$name.pid ]] || continue
    kill -TERM "$(cat "$pid_dir/$name.pid")" 2>/dev/null || true
  done
  for name in gateway events rewards activity ledger identity; do
    [[ -f $pid_dir/$name.pid ]] || continue
    pid=$(cat "$pid_dir/$name.pid")
    for _ in $(seq 1 150); do suite_alive "$pid" || break; sleep 0.1; done
    if suite_alive "$pid"; then
      echo "civicpoints-$name (pid $pid) did not stop in 15 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_dir/$name.pid"
  done
}

# suite_alive PID: the process runs (an exited one nobody has reaped yet does not count).
suite_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# suite_change_admin_password OLD NEW: signs in as the bootstrap admin through the gateway's
# REST face with OLD and changes the password to NEW (the change every first login requires).
# Succeeds without a change when NEW already works. Uses Debian's python3 standard library only.
suite_change_admin_password() {
  /usr/bin/python3 - "http://127.0.0.1:$SUITE_HTTP_PORT" "$SUITE_ADMIN_PHONE" "$1" "$2" <<'EOF'
import json, sys, time, urllib.error, urllib.request

base, phone, old, new = sys.argv[1:5]

def post(path, body, token=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    # The gateway opens its REST port just after gRPC says SERVING: wait for it a little.
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")
        except urllib.error.URLError as e:
            if not isinstance(e.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)

status, body = post("/v1/auth:login", {"phone": phone, "password": new})
if status == 200 and not body.get("passwordChangeRequired"):
    sys.exit(0)
status, body = post("/v1/auth:login", {"phone": phone, "password": old})
if status != 200:
    sys.exit(f"admin login failed: HTTP {status} {body}")
token = body["tokens"]["accessToken"]
status, body = post("/v1/auth:changePassword",
                    {"idempotencyKey": "suite-admin-password", "currentPassword": old,
                     "newPassword": new}, token)
if status != 200:
    sys.exit(f"admin password change failed: HTTP {status} {body}")
EOF
}
