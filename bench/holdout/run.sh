#!/usr/bin/env bash
# Times holdout runs of the reference setting with `cscore holdout` and
# with the same recipe in PyTorch on the CPU, in one run of this script.
# The setting is the first 10,000 Fashion-MNIST training images, the
# default recipe and ratio 50. Each side runs once with one worker using
# every core and once with one single-threaded worker per core. Prints runs
# per hour for each, and for cscore the share of the workers' time spent in
# the estimator rather than in the trainer.
#
# usage: bench/holdout/run.sh [BUILD_DIR] [--runs K] [--first N]
#
# BUILD_DIR defaults to build/ and must hold a Release build of the cscore
# program. K (default 8) runs are timed per configuration.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$here/../../build
if [[ $# -gt 0 && $1 != -* ]]; then
    build=$1
    shift
fi
runs=8 first=10000
while [[ $# -gt 0 ]]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --first) first=$2; shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

cscore=$build/cscore
python=/usr/bin/python3
cores=$(nproc)
if [[ ! -x $cscore ]]; then
    echo "run.sh: $cscore not found; build the cscore program in Release" \
        "mode first" >&2
    exit 2
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "run.sh: $python cannot import torch; install python3-torch" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs `cscore holdout` on a fresh record file and prints its timing line.
time_cscore() {
    local jobs=$1 threads=$2
    rm -f "$work/records"
    "$cscore" holdout --first "$first" --ratios 50 --runs "$runs" \
        --jobs "$jobs" --threads "$threads" --records "$work/records" \
        --out "$work/out.npz" 2>/dev/null | grep '^Time in this call'
}

echo "Machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
    head -1), $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Setting: first $first examples, ratio 50, default recipe, $runs runs" \
    "per configuration"
echo
echo "== cscore, 1 job with $cores OpenBLAS threads"
time_cscore 1 "$cores"
echo "== cscore, $cores jobs with 1 OpenBLAS thread each"
time_cscore "$cores" 1
echo "== PyTorch, 1 job with $cores threads"
"$python" "$here/holdout_torch.py" --first "$first" --runs "$runs" \
    --jobs 1 --threads "$cores"
echo "== PyTorch, $cores jobs with 1 thread each"
"$python" "$here/holdout_torch.py" --first "$first" --runs "$runs" \
    --jobs "$cores"
