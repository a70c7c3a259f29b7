#!/usr/bin/env bash
# `make bench`: the ledger, identity, gateway, rewards and activity benchmarks against a throwaway
# PostgreSQL and Redis of their own (ports 25434 and 26381, under build/bench-run), stopped
# afterwards. Each prints its figures; each one's last line is a JSON object. `make bench BENCH=identity` (or
# ledger, gateway, rewards, activity, events, insights, home) runs one of them.
set -euo pipefail
build_dir=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/$build_dir/bench-run"
trap 'bash "$root/scripts/redis.sh" stop "$run/redis"; bash "$root/scripts/pg.sh" stop "$run/pg"' EXIT
bash "$root/scripts/pg.sh" start "$run/pg" 25434 >/dev/null
bash "$root/scripts/redis.sh" start "$run/redis" 26381 >/dev/null
pg_url="postgresql://civicpoints@127.0.0.1:25434/civicpoints"
which=${BENCH:-all}
if [[ $which == all || $which == ledger ]]; then
  "$root/$build_dir/tests/bench/ledger_bench" --pg_url="$pg_url" --redis_addr=127.0.0.1:26381 \
    --ledger_bin="$root/$build_dir/services/ledger/civicpoints-ledger" "${@:2}"
fi
if [[ $which == all || $which == identity ]]; then
  "$root/$build_dir/tests/bench/identity_bench" --pg_url="$pg_url" \
    --identity_bin="$root/$build_dir/services/identity/civicpoints-identity" "${@:2}"
fi
if [[ $which == all || $which == gateway ]]; then
  "$root/$build_dir/tests/bench/gateway_bench" --pg_url="$pg_url" --redis_addr=127.0.0.1:26381 \
    --ledger_bin="$root/$build_dir/services/ledger/civicpoints-ledger" \
    --gateway_bin="$root/$build_dir/services/gateway/civicpoints-gateway" "${@:2}"
fi
if [[ $which == all || $which == rewards ]]; then
  "$root/$build_dir/tests/bench/rewards_bench" --pg_url="$pg_url" --redis_addr=127.0.0.1:26381 \
    --ledger_bin="$root/$build_dir/services/ledger/civicpoints-ledger" "${@:2}"
fi
if [[ $which == all || $which == events ]]; then
  # The whole suite of its own (scripts/suite.sh, ports 27150-27181), not the PostgreSQL above.
  "$root/$build_dir/tests/bench/events_bench" "${@:2}"
fi
if [[ $which == all || $which == insights ]]; then
  # The whole suite of its own with the demo loaded (ports 27250-27281).
  "$root/$build_dir/tests/bench/insights_bench" "${@:2}"
fi
if [[ $which == all || $which == home ]]; then
  # The whole suite of its own with the demo loaded (ports 27350-27381).
  "$root/$build_dir/tests/bench/home_bench" "${@:2}"
fi
if [[ $which == all || $which == activity ]]; then
  "$root/$build_dir/tests/bench/activity_bench" --pg_url="$pg_url" \
    --activity_bin="$root/$build_dir/services/activity/civicpoints-activity" "${@:2}"
fi
