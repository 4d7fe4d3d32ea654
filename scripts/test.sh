#!/bin/sh
# The whole test suite, as run by `make test` and CI (.ci/run):
#   1. ASan+UBSan build: unit, API, fuzz-corpus replay and integration tests;
#   2. plain build: the unit tests under valgrind (zero leaks), and the
#      install + out-of-tree pkg-config consumer check;
#   3. clang + libFuzzer build of the fuzz targets, each run for a fixed
#      short time (NL_FUZZ_SECONDS, default 10) from its corpus (fuzz-ci.sh).
# Prints ctest's summary for each stage and exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc)
start=$(date +%s)

echo "== stage 1: sanitizer build (ASan + UBSan) =="
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DNL_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$JOBS"
(cd build/asan && ctest -j"$JOBS" --output-on-failure -LE 'valgrind|install')

echo "== stage 2: plain build: valgrind and install checks =="
cmake -S . -B build/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/plain -j"$JOBS"
(cd build/plain && ctest -j"$JOBS" --output-on-failure -L 'valgrind|install')

echo "== stage 3: fuzzing: every target for ${NL_FUZZ_SECONDS:-10} s (clang + libFuzzer) =="
./scripts/fuzz-ci.sh

echo "== all stages passed in $(( $(date +%s) - start )) s =="
