#!/usr/bin/env bash
# `make bench`: the ledger benchmark against a throwaway PostgreSQL and Redis of its own (ports
# 55434 and 56381, under build/bench-run), stopped afterwards. Its last line is a JSON object.
set -euo pipefail
build_dir=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/$build_dir/bench-run"
trap 'bash "$root/scripts/redis.sh" stop "$run/redis"; bash "$root/scripts/pg.sh" stop "$run/pg"' EXIT
bash "$root/scripts/pg.sh" start "$run/pg" 55434 >/dev/null
bash "$root/scripts/redis.sh" start "$run/redis" 56381 >/dev/null
"$root/$build_dir/tests/bench/ledger_bench" \
  --pg_url="postgresql://civicpoints@127.0.0.1:55434/civicpoints" \
  --redis_addr=127.0.0.1:56381 \
  --ledger_bin="$root/$build_dir/services/ledger/civicpoints-ledger" "${@:2}"
