# Civic Points — the two commands:
#   make run    install what is missing, build (Release), start PostgreSQL, Redis, every service
#               and the gateway on loopback; Ctrl-C stops it all.
#   make test   install what is missing, lint, build, and run every test with ctest.
# Other targets: build, lint, format, bench, fault, soak, fuzz, test-asan, clean.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CTEST_ARGS ?=
DEMO ?= 1

# safe.directory: CI runs as root in a clone it may not own.
# Our C++ files: tracked, and new ones not yet added (so `make format` before the first commit of a
# file formats it too).
CLANG_FORMAT_FILES = $(shell git -c safe.directory='*' ls-files --cached --others --exclude-standard '*.cc' '*.h' 2>/dev/null)

.PHONY: all deps tools build test lint format run bench fault soak fuzz test-asan clean

all: build

deps:
	@bash scripts/install-deps.sh

# buf comes from the npm registry, pinned by tools/package-lock.json.
tools/node_modules/.bin/buf: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

tools: deps tools/node_modules/.bin/buf

$(BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# buf breaking holds the contracts to the v1 baseline as released (protos/v1-baseline.binpb,
# `buf build protos --exclude-source-info -o protos/v1-baseline.binpb` at the release): a
# change that breaks a city system's client fails here; additions pass.
lint: tools
	tools/node_modules/.bin/buf lint protos
	tools/node_modules/.bin/buf breaking protos --against protos/v1-baseline.binpb
	@test -n "$(CLANG_FORMAT_FILES)" || { echo "lint: no C++ files found (is this a git checkout?)"; exit 1; }
	@clang-format --dry-run --Werror $(CLANG_FORMAT_FILES) && echo "clang-format: clean"

format:
	clang-format -i $(CLANG_FORMAT_FILES)

test: lint build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 $(CTEST_ARGS)

# DEMO=0 starts without the story's demo data (tools/demo/cp_demo).
run: build
	@DEMO=$(DEMO) bash scripts/run.sh $(BUILD_DIR)

# Benchmarks print their figures; they are not tests and do not run in `make test`.
bench: build
	@bash scripts/bench.sh $(BUILD_DIR)

# The suite under load through ROUNDS random faults (tests/fault), then its books checked; SEED
# reruns a schedule. `make test` runs 4 short rounds.
ROUNDS ?= 50
fault: build
	@$(BUILD_DIR)/tests/fault/cp_fault_rounds --rounds=$(ROUNDS) $(if $(SEED),--seed=$(SEED))

# An hour (MINUTES) of mixed load on one suite with each process's memory sampled: flat after
# warm-up, or the run exits 1 naming the process that grew.
MINUTES ?= 60
soak: build
	@$(BUILD_DIR)/tests/fault/cp_soak --minutes=$(MINUTES)

# libFuzzer on each fuzz target for FUZZ_SECONDS (60) in build-fuzz (clang); `make test` only
# replays the seed corpora.
FUZZ_SECONDS ?= 60
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh build-fuzz

# Every test against an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan, GCC).
test-asan: deps
	@bash scripts/test-asan.sh build-asan $(CTEST_ARGS)

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz .run
