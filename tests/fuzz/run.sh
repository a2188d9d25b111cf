#!/usr/bin/env bash
# Builds the libFuzzer harnesses in build-fuzz/ with clang 14 and runs each
# one for SECONDS seconds, at most FUZZ_PARALLEL (default 2) at a time.
#
# Usage: tests/fuzz/run.sh SECONDS [HARNESS...]
#   HARNESS: npy npz idx bench_config checkpoint holdout csv (default: all)
#
# Each harness fuzzes a working copy of its corpus in
# build-fuzz/fuzz-work/NAME/corpus: the seeds of tests/fuzz/corpus/NAME, the
# past crash inputs of tests/fuzz/crashes/NAME, and, when present, small
# real files from outside the repository (Debian's Fashion-MNIST labels,
# the bench configurations). New crash inputs go to
# build-fuzz/fuzz-work/NAME/crashes/, which the script prints; copy the ones
# worth keeping to tests/fuzz/crashes/NAME/ once the bug is fixed. Prints
# each harness's final exec/s and total executions, and exits 1 when any
# harness found a crash, a timeout or a leak.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzz=$root/tests/fuzz
build=$root/build-fuzz
all=(npy npz idx bench_config checkpoint holdout csv)

if (($# < 1)) || ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 1)); then
    echo "usage: $0 SECONDS [HARNESS...]; harnesses: ${all[*]}" >&2
    exit 2
fi
seconds=$1
shift
harnesses=("$@")
((${#harnesses[@]} > 0)) || harnesses=("${all[@]}")
for harness in "${harnesses[@]}"; do
    if [[ ! -f $fuzz/fuzz_$harness.c ]]; then
        echo "run.sh: unknown harness '$harness'; choose from ${all[*]}" >&2
        exit 2
    fi
done
parallel=${FUZZ_PARALLEL:-2}

"$root/scripts/install-deps" "$fuzz/debian-packages.txt"

CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSCORE_FUZZ=ON \
    -DCSCORE_WITH_FAISS=OFF -DCSCORE_BUILD_BENCH=OFF \
    -DCSCORE_BUILD_EXAMPLES=OFF -DCSCORE_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)" \
    --target "${harnesses[@]/#/fuzz_}"

# Maximum input length in bytes per harness (-max_len). It leaves room for
# the seeds and the Fashion-MNIST label files and keeps runs fast.
max_len() {
    case $1 in
        npz | checkpoint) echo 16384 ;;
        idx) echo 32768 ;;
        *) echo 4096 ;;
    esac
}

# Real files from outside the repository that a harness may add to its
# working corpus; missing ones are skipped.
extra_inputs() {
    case $1 in
        idx) echo /usr/share/datasets/fashion-mnist/*-labels-idx1-ubyte.gz ;;
        bench_config) echo "$root"/bench/*.yaml ;;
    esac
}

# Copies the seeds, past crashes and extra inputs into the working corpus.
prepare_corpus() {
    local harness=$1 work=$2 limit file
    limit=$(max_len "$harness")
    mkdir -p "$work/corpus" "$work/crashes"
    cp "$fuzz/corpus/$harness"/* "$work/corpus/"
    if [[ -d $fuzz/crashes/$harness ]]; then
        find "$fuzz/crashes/$harness" -type f -exec cp {} "$work/corpus/" \;
    fi
    for file in $(extra_inputs "$harness"); do
        if [[ -f $file ]] && (($(stat -c %s "$file") <= limit)); then
            cp "$file" "$work/corpus/"
        fi
    done
}

# Runs one harness; its output goes to WORK/fuzz.log and libFuzzer's exit
# status to WORK/status, because `wait -n` may already have collected it.
run_harness() {
    local harness=$1 work=$build/fuzz-work/$1
    local options=()
    prepare_corpus "$harness" "$work"
    if [[ -f $fuzz/$harness.dict ]]; then
        options+=("-dict=$fuzz/$harness.dict")
    fi
    # -timeout: seconds one input may take before it counts as a hang.
    local status=0
    "$build/tests/fuzz/fuzz_$harness" "${options[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(max_len "$harness")" -print_final_stats=1 \
        -artifact_prefix="$work/crashes/" "$work/corpus" \
        >"$work/fuzz.log" 2>&1 || status=$?
    echo "$status" >"$work/status"
}

# Prints one harness's result from its log.
report() {
    local harness=$1 status=$2 work=$build/fuzz-work/$1 runs speed
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
        "$work/fuzz.log" | grep -o '[0-9]*$' || echo "?")
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' \
        "$work/fuzz.log" | grep -o '[0-9]*$' || echo "?")
    printf '%-13s %6s s  %8s exec/s  %11s executions  %s\n' "$harness" \
        "$seconds" "$speed" "$runs" \
        "$([[ $status == 0 ]] && echo ok || echo "FAILED, see $work/fuzz.log")"
    echo "              crash inputs: $work/crashes/"
}

echo "run.sh: fuzzing ${harnesses[*]} for $seconds s each, $parallel at a time"
for harness in "${harnesses[@]}"; do
    rm -f "$build/fuzz-work/$harness/status"
    while (($(jobs -rp | wc -l) >= parallel)); do
        wait -n || true
    done
    run_harness "$harness" &
done
wait

failed=0
for harness in "${harnesses[@]}"; do
    status=$(cat "$build/fuzz-work/$harness/status" 2>/dev/null || echo 1)
    ((status == 0)) || failed=1
    report "$harness" "$status"
done
exit "$failed"
