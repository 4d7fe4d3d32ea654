#!/bin/sh
# Fuzzing stage of the test command (scripts/test.sh, stage 3): builds every
# fuzz target with clang + libFuzzer (ASan/UBSan, library instrumented, only
# the fuzz targets) and runs each one for a fixed short time, starting from
# its committed corpus. New inputs go to a scratch directory, so the repo
# corpus never changes here (scripts/fuzz-minimize.sh does that on purpose).
#
# Any crash, sanitizer report, leak, timeout or out-of-memory fails the stage;
# for each one the reproducer path and the one-line command that reproduces
# it are printed. Prints a table of executions and coverage per target and
# ends with "fuzz: N passed, M failed".
#
#   usage: scripts/fuzz-ci.sh [--build-only] [TARGET-REGEX]
#   env:   NL_FUZZ_SECONDS  seconds per target (default 10)
#          NL_FUZZ_JOBS     targets run side by side (default: number of CPUs)
#          NL_FUZZ_BUILD    build directory (default build/fuzz-ci)
#
# Budget: about 25 s of build from scratch and 10 targets x 10 s on 2 lanes,
# so well under the 3 minutes the stage may take on 2 cores.
set -eu
cd "$(dirname "$0")/.."
BUILD_ONLY=0
if [ "${1:-}" = "--build-only" ]; then
    BUILD_ONLY=1
    shift
fi
FILTER=${1:-.}
SECS=${NL_FUZZ_SECONDS:-10}
JOBS=${NL_FUZZ_JOBS:-$(nproc)}
B=${NL_FUZZ_BUILD:-build/fuzz-ci}
start=$(date +%s)

case "$SECS" in
    '' | 0 | *[!0-9]*) echo "fuzz: NL_FUZZ_SECONDS must be a positive number" >&2; exit 2 ;;
esac
if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang not found (scripts/deps.sh --test installs it)" >&2
    echo "fuzz: 0 passed, 1 failed"
    exit 1
fi

mkdir -p "$B"
# -O1: about twice the executions per second of -O0 for a few seconds more build.
cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
      -DNL_FUZZ=ON -DNL_SANITIZE=ON -DNL_BUILD_EXAMPLES=OFF >"$B/configure.log" 2>&1 || {
    cat "$B/configure.log" >&2
    echo "fuzz: 0 passed, 1 failed (configure)"
    exit 1
}

# The targets CMake defines. (|| true: grep exits 1 when it keeps no line;
# every fuzz source then fails the check below.)
known=$(cmake --build "$B" --target help | sed -n 's/^\.\.\. \(fuzz_[a-z0-9_]*\)$/\1/p' |
        grep -v '_replay$' || true)
targets=""
for src in tests/fuzz/*/fuzz_*.c; do
    t=$(basename "$src" .c)
    echo "$t" | grep -Eq -- "$FILTER" || continue
    echo "$known" | grep -qx "$t" || { echo "fuzz: $t has no CMake target (is tests/fuzz/<module>/ a real module?)"; exit 1; }
    targets="$targets $t"
done
if [ -z "$targets" ]; then
    echo "fuzz: no target matches '$FILTER': nothing was fuzzed"
    exit 1
fi

# shellcheck disable=SC2086
if ! cmake --build "$B" -j"$JOBS" --target $targets >"$B/build.log" 2>&1; then
    grep -E 'error|Error' "$B/build.log" | head -n 40 >&2
    echo "fuzz: build failed, full log in $B/build.log" >&2
    echo "fuzz: 0 passed, 1 failed (build)"
    exit 1
fi
# shellcheck disable=SC2086
ntargets=$(echo $targets | wc -w)
if [ "$BUILD_ONLY" -eq 1 ]; then
    echo "fuzz: built $ntargets targets in $B/tests"
    exit 0
fi
echo "fuzz: built $ntargets targets in $(( $(date +%s) - start )) s;" \
     "running each for $SECS s, $JOBS at a time"

ART=$B/artifacts
LOGS=$B/logs
rm -rf "$ART" "$LOGS"
mkdir -p "$ART" "$LOGS"

# Inputs as big as the biggest seed, at least 4 KiB: larger inputs only
# exercise the parsers' size caps, which the seeds already reach.
max_len_for() {
    big=$(find "tests/fuzz/corpus/$1" -type f -printf '%s\n' 2>/dev/null | sort -n | tail -n 1)
    big=${big:-0}
    [ "$big" -lt 4096 ] && big=4096
    echo "$big"
}

run_one() {
    t=$1
    scratch=$(mktemp -d)
    rc=0
    # Leaks are detected at the end of each input by libFuzzer (-detect_leaks
    # defaults to on under ASan); UBSan aborts (-fno-sanitize-recover).
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$B/tests/$t" -max_total_time="$SECS" -max_len="$(max_len_for "$t")" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$ART/$t-" "$scratch" "tests/fuzz/corpus/$t" \
        >"$LOGS/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$LOGS/$t.rc"
    rm -rf "$scratch"
}

# JOBS lanes, each running its share of the targets one after the other.
lane=0
while [ "$lane" -lt "$JOBS" ]; do
    (
        i=0
        for t in $targets; do
            [ $((i % JOBS)) -eq "$lane" ] && run_one "$t"
            i=$((i + 1))
        done
    ) &
    lane=$((lane + 1))
done
wait

# The input libFuzzer saved for a crash, leak, timeout or OOM (slow-unit-*
# files are only a report, not a failure).
reproducer() {
    sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$1" | grep -v '/slow-unit-' | head -n 1
}

num() { grep -o "$1" "$2" | tail -n 1 | grep -o '[0-9]*$' || echo 0; }

passed=0
failed=0
failures=""
printf '%-22s %10s %8s %6s %7s %6s  %s\n' target execs exec/s cov ft corpus result
for t in $targets; do
    log=$LOGS/$t.log
    rc=$(cat "$LOGS/$t.rc" 2>/dev/null || echo 99)
    execs=$(num 'stat::number_of_executed_units: *[0-9]*' "$log")
    rate=$(num 'stat::average_exec_per_sec: *[0-9]*' "$log")
    # The figures are for the table; pass or fail comes from rc and the
    # reproducer only, so a log without them (|| true) just shows zeros.
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo 0)
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo 0)
    corp=$(echo "$last" | grep -o 'corp: [0-9]*' | grep -o '[0-9]*' || echo 0)
    repro=$(reproducer "$log")
    if [ "$rc" -eq 0 ] && [ -z "$repro" ]; then
        res=ok
        passed=$((passed + 1))
    else
        kind=$(grep -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+( [a-z-]+)?|runtime error|out-of-memory' "$log" | head -n 1 || true)
        res="FAILED: ${kind:-exit $rc}"
        failed=$((failed + 1))
        failures="$failures $t"
    fi
    printf '%-22s %10s %8s %6s %7s %6s  %s\n' "$t" "$execs" "$rate" "$cov" "$ft" "$corp" "$res"
done

for t in $failures; do
    log=$LOGS/$t.log
    repro=$(reproducer "$log")
    echo
    echo "---- $t failed; log: $log"
    # The sanitizer's report (or libFuzzer's), without the long tail.
    sed -n '/==[0-9]*==ERROR\|runtime error\|ALARM\|out-of-memory\|deadly signal/,$p' "$log" | head -n 40
    if [ -n "$repro" ]; then
        echo "reproducer: $repro"
        echo "reproduce:  $B/tests/$t $repro"
        echo "  (or with gcc: build/asan/tests/${t}_replay $repro)"
    else
        echo "no reproducer written (exit $(cat "$LOGS/$t.rc" 2>/dev/null)); rerun: $B/tests/$t tests/fuzz/corpus/$t"
    fi
done

echo "fuzz: stage took $(( $(date +%s) - start )) s"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
