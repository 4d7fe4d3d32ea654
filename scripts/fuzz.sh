#!/bin/sh
# Local fuzzing campaign: builds every fuzz target with clang + libFuzzer
# (ASan/UBSan, library instrumented) and runs each for SECONDS (default 60),
# starting from its committed corpus (new inputs go to a scratch dir, so the
# repo corpus only changes when you minimise on purpose). Prints one line per
# target: executions, exec/s, coverage edges, features, and crashes.
#   usage: scripts/fuzz.sh [SECONDS] [TARGET-REGEX]
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-60}
FILTER=${2:-.}
B=build/fuzz
cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DNL_FUZZ=ON -DNL_SANITIZE=ON \
      -DNL_BUILD_EXAMPLES=OFF >/dev/null
targets=$(cd tests/fuzz && ls */fuzz_*.c | sed 's#.*/##; s#\.c$##' | grep -E "$FILTER")
# shellcheck disable=SC2086
cmake --build "$B" -j"$(nproc)" --target $targets >/dev/null
printf '%-22s %12s %9s %7s %9s %s\n' target execs exec/s edges features result
for t in $targets; do
    scratch=$(mktemp -d)
    log=$B/$t.log
    rc=0
    ASAN_OPTIONS=detect_leaks=1 "$B/tests/$t" -max_total_time="$SECS" -print_final_stats=1 \
        -artifact_prefix="$B/$t-" "$scratch" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    last=$(grep -E '#[0-9]+.*cov:' "$log" | tail -n 1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo 0)
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo 0)
    res=ok
    [ "$rc" -ne 0 ] && res="FAILED (see $log)"
    printf '%-22s %12s %9s %7s %9s %s\n' "$t" "$execs" "$rate" "$cov" "$ft" "$res"
    rm -rf "$scratch"
done
