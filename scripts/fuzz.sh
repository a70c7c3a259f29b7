#!/usr/bin/env bash
# make fuzz: the fuzz targets (tests/fuzz) built with clang and libFuzzer under AddressSanitizer
# and UndefinedBehaviorSanitizer in their own build directory, then each run for a set time from
# its seed corpus. New inputs collect in BUILD/fuzz-corpus/NAME; a crash, a hang (over 1 s), a
# leak or a failed property leaves its input in BUILD/fuzz-artifacts/ (copy it into
# tests/fuzz/corpus/NAME with the fix, so `make test` replays it for good).
#
#   bash scripts/fuzz.sh [BUILD_DIR]      FUZZ_SECONDS=60 per target, FUZZ_TARGETS="csv token" to
#                                         pick, FUZZ_JOBS: build parallelism
# Prints a table (target, executions, coverage, corpus, findings) ending in one JSON line; exits 1
# when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
ALL_TARGETS=(rest_request request_messages token jwks page_token input_rules csv client_address)
read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"

bash scripts/install-deps.sh
# Our code and the fuzz targets carry libFuzzer's coverage and the sanitizers (CP_FUZZ,
# CP_SANITIZE); generated code and Debian's libraries (gRPC, protobuf, Abseil) are linked as they
# are.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCP_FUZZ=ON -DCP_SANITIZE=address,undefined -DCP_TCMALLOC=OFF \
  >/dev/null
cmake --build "$BUILD" -j "${FUZZ_JOBS:-$(nproc)}" --target cp_fuzz_targets

mkdir -p "$BUILD/fuzz-artifacts" "$BUILD/fuzz-logs"
rows=()
json_rows=()
failed=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$BUILD/fuzz-corpus/$t"
  log="$BUILD/fuzz-logs/$t.log"
  echo "fuzz: $t for ${SECONDS_EACH}s"
  status=0
  "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=1 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/$t-" \
    "$BUILD/fuzz-corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # libFuzzer's status lines: "#123 NEW cov: 456 ft: 789 corp: 12/3456b ...".
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  finding="none"
  if ((status != 0)); then
    finding=$(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z-]+|property failed: .*|ALARM: working on the last Unit for [0-9]+ seconds|==[0-9]+==ERROR: LeakSanitizer' "$log" || echo "exit $status")
    failed=1
  fi
  rows+=("$(printf '%-18s %12s %8s %8s %8s  %s' "$t" "${execs:-0}" "${cov:-0}" "${ft:-0}" "${corp:-0}" "$finding")")
  json_rows+=("\"$t\":{\"executions\":${execs:-0},\"coverage\":${cov:-0},\"features\":${ft:-0},\"corpus\":${corp:-0},\"finding\":\"${finding//\"/\'}\"}")
done

printf '%-18s %12s %8s %8s %8s  %s\n' target executions cov ft corpus finding
printf '%s\n' "${rows[@]}"
echo "logs: $BUILD/fuzz-logs, findings: $BUILD/fuzz-artifacts"
(IFS=,; echo "{\"seconds_per_target\":$SECONDS_EACH,\"targets\":{${json_rows[*]}}}")
exit $failed
