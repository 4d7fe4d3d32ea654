#!/bin/sh
# The whole test suite, as run by `make test` and CI (.ci/run):
#   1. ASan+UBSan build: unit, API, fuzz-corpus replay and integration tests;
#   2. plain build: the unit tests under valgrind (zero leaks), and the
#      install + out-of-tree pkg-config consumer check.
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

echo "== all stages passed in $(( $(date +%s) - start )) s =="
