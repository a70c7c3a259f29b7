#!/usr/bin/env bash
# make test-asan: the whole build with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer on our own code (GCC, CP_SANITIZE), in its own build directory, and
# every test run against it. Services the tests start as processes are the sanitized binaries
# too; each process writes any report to BUILD/sanitizer-reports/, and a report fails the run even
# when the process that wrote it was a child whose exit nobody checked.
#
#   bash scripts/test-asan.sh [BUILD_DIR] [ctest arguments...]     (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build-asan}
shift || true
JOBS=${JOBS:-$(nproc)}

bash scripts/install-deps.sh
# -O1 with debug lines: reports name the line, and the tests run at a usable speed. ccache keyed
# on paths relative to the checkout, so a fresh clone elsewhere reuses what an earlier one built.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
# Test ports of its own (PostgreSQL, Redis, the suite fixture, the fault rounds), so it may run
# beside the normal build's tests.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCP_SANITIZE=address,undefined -DCP_TCMALLOC=OFF \
  -DCP_TEST_PG_PORT=25533 -DCP_TEST_REDIS_PORT=26480 -DCP_TEST_SUITE_PORT_BASE=30050 \
  -DCP_TEST_FAULT_PORT_BASE=29050 >/dev/null
cmake --build "$BUILD" -j "$JOBS"

reports="$PWD/$BUILD/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0"

status=0
(cd "$BUILD" && ctest --output-on-failure -j 2 "$@") || status=$?
if compgen -G "$reports/*" >/dev/null; then
  echo "test-asan: sanitizer reports:"
  for f in "$reports"/*; do
    echo "== $f"
    head -60 "$f"
  done
  status=1
fi
((status == 0)) && echo "test-asan: clean"
exit $status
