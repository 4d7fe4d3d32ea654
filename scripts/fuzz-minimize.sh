#!/bin/sh
# Minimises the committed fuzz corpora: for each target, libFuzzer -merge=1
# picks from tests/fuzz/corpus/<target>/ the smallest set of inputs that
# keeps every coverage feature, into a fresh directory. The corpus is then
# cut down to the files it picked (keeping their descriptive names) only
# if re-measured coverage and features did not drop; otherwise it is left
# as it is. Prints file counts and cov/ft before and after per target.
#
#   usage: scripts/fuzz-minimize.sh [--dry-run] [TARGET-REGEX]
#   env:   NL_FUZZ_BUILD  build directory shared with fuzz-ci.sh (default build/fuzz-ci)
#
# Review the result with `git status tests/fuzz/corpus` before committing.
set -eu
cd "$(dirname "$0")/.."
DRY=0
if [ "${1:-}" = "--dry-run" ]; then
    DRY=1
    shift
fi
FILTER=${1:-.}
B=${NL_FUZZ_BUILD:-build/fuzz-ci}

# Build (or bring up to date) the targets exactly as the test command does.
NL_FUZZ_BUILD="$B" ./scripts/fuzz-ci.sh --build-only "$FILTER"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

max_len_for() {
    big=$(find "$1" -type f -printf '%s\n' | sort -n | tail -n 1)
    big=${big:-0}
    [ "$big" -lt 4096 ] && big=4096
    echo "$big"
}

# "cov ft" of a corpus directory, measured by loading it once (-runs=0).
measure() {
    # A corpus input that crashes the target is a bug to fix, not a figure.
    if ! "$1" -runs=0 -max_len="$3" "$2" >"$work/measure.log" 2>&1; then
        echo "fuzz-minimize: $1 fails on its corpus $2:" >&2
        tail -n 20 "$work/measure.log" >&2
        exit 1
    fi
    line=$(grep -E '^#[0-9]+.*(INITED|DONE).*cov: ' "$work/measure.log" | tail -n 1)
    cov=$(echo "$line" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo 0)
    ft=$(echo "$line" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo 0)
    echo "${cov:-0} ${ft:-0}"
}

printf '%-22s %6s %6s %6s %6s %7s %7s  %s\n' target files after cov after ft after result
status=0
for src in tests/fuzz/*/fuzz_*.c; do
    t=$(basename "$src" .c)
    echo "$t" | grep -Eq -- "$FILTER" || continue
    bin=$B/tests/$t
    dir=tests/fuzz/corpus/$t
    if [ ! -x "$bin" ] || [ ! -d "$dir" ]; then
        printf '%-22s %s\n' "$t" "skipped (no binary or no corpus)"
        continue
    fi
    len=$(max_len_for "$dir")
    n_before=$(find "$dir" -type f | wc -l)
    # shellcheck disable=SC2046
    set -- $(measure "$bin" "$dir" "$len")
    cov0=$1 ft0=$2
    merged=$work/$t
    rm -rf "$merged"
    mkdir -p "$merged"
    if ! "$bin" -merge=1 -max_len="$len" "$merged" "$dir" >"$work/$t.merge.log" 2>&1; then
        printf '%-22s %6s %6s %6s %6s %7s %7s  %s\n' "$t" "$n_before" - "$cov0" - "$ft0" - \
            "merge FAILED (see below)"
        tail -n 20 "$work/$t.merge.log"
        status=1
        continue
    fi
    n_after=$(find "$merged" -type f | wc -l)
    # shellcheck disable=SC2046
    set -- $(measure "$bin" "$merged" "$len")
    cov1=$1 ft1=$2
    if [ "$n_after" -eq 0 ] || [ "$cov1" -lt "$cov0" ] || [ "$ft1" -lt "$ft0" ]; then
        res="kept as is (the merged set would lose coverage)"
    elif [ "$n_after" -ge "$n_before" ]; then
        res="already minimal"
    elif [ "$DRY" -eq 1 ]; then
        res="would drop $((n_before - n_after)) file(s) (dry run)"
    else
        # The merged files are named by the SHA-1 of their content: keep the
        # committed file with that content (first name wins for duplicates).
        kept=""
        dropped=0
        for f in "$dir"/*; do
            h=$(sha1sum "$f" | cut -d' ' -f1)
            if [ -e "$merged/$h" ] && ! echo "$kept" | grep -q "$h"; then
                kept="$kept $h"
            else
                rm -f "$f"
                dropped=$((dropped + 1))
            fi
        done
        res="minimised: dropped $dropped file(s)"
    fi
    printf '%-22s %6s %6s %6s %6s %7s %7s  %s\n' "$t" "$n_before" "$n_after" "$cov0" "$cov1" \
        "$ft0" "$ft1" "$res"
done
exit "$status"
