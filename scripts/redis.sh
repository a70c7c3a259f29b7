#!/usr/bin/env bash
# Throwaway Redis on loopback for `make run` and the tests.
#   scripts/redis.sh start DIR PORT   start redis-server with its files in DIR
#   scripts/redis.sh stop DIR         stop it
# Rankings in Redis are a cache rebuilt from PostgreSQL, so this server keeps no snapshot.
set -euo pipefail

cmd=${1:?usage: redis.sh start DIR PORT | stop DIR}
dir=$(realpath -m "${2:?DIR missing}")
port=${3:-56379}
command -v redis-server >/dev/null || { echo "redis.sh: redis-server not found (apt install redis-server)" >&2; exit 1; }

case "$cmd" in
  start)
    mkdir -p "$dir"
    # Running means answering: a server killed with SIGKILL may linger as a zombie that kill -0
    # still finds, and its pid file stays behind.
    if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      echo "redis.sh: Redis already running on 127.0.0.1:$port"
      exit 0
    fi
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --dir "$dir" \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no
    for _ in $(seq 1 100); do
      redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG && break
      sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG ||
      { echo "redis.sh: Redis did not start; see $dir/redis.log" >&2; exit 1; }
    echo "redis.sh: Redis on 127.0.0.1:$port"
    ;;
  stop)
    if [[ -f "$dir/redis.pid" ]]; then
      pid=$(cat "$dir/redis.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/redis.pid"
    fi
    ;;
  *)
    echo "usage: redis.sh start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
