#!/usr/bin/env bash
# The gateway refuses development signing keys (CP_JWKS_FILE) unless started in development mode
# (CP_DEV_MODE=true), naming the setting; in development mode it starts and warns at once.
#   dev_mode_test.sh PATH/civicpoints-gateway
set -uo pipefail
bin=$1
dir=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
echo '{"keys": []}' >"$dir/jwks.json"
export CP_JWKS_FILE="$dir/jwks.json" CP_GRPC_PORT=0 CP_HTTP_PORT=0 CP_METRICS_PORT=0 \
  CP_IDENTITY_ADDR=127.0.0.1:1
out=$(timeout 20 "$bin" 2>&1)
rc=$?
if [[ $rc -eq 0 || $rc -eq 124 ]]; then
  echo "FAIL: the gateway started with CP_JWKS_FILE but without CP_DEV_MODE (exit $rc)" >&2
  exit 1
fi
if ! grep -q "CP_DEV_MODE" <<<"$out"; then
  echo "FAIL: the refusal does not name CP_DEV_MODE:" >&2
  echo "$out" >&2
  exit 1
fi
CP_DEV_MODE=true "$bin" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 200); do
  grep -q "DEVELOPMENT MODE" "$dir/log" && break
  sleep 0.05
done
if ! grep -q "DEVELOPMENT MODE" "$dir/log" || ! kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: in development mode the gateway did not start with a warning:" >&2
  cat "$dir/log" >&2
  exit 1
fi
kill -TERM "$pid"
wait "$pid"
pid=
echo "PASS"
