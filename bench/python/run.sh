#!/usr/bin/env bash
# Times Tracker.observe_batch() from Python against PyTorch training steps
# and softmax (bench_observe_batch.py) and prints a table.
#
# Usage: bench/python/run.sh [BUILD_DIR] [--batches N] [--warmup N]
#                            [--threads T] [--seed S]
#   BUILD_DIR  CMake build folder with libcscore.so (default: build)
#   the options go to bench_observe_batch.py (--help lists them)
# Exits 1 when the hook takes 2% or more of a training step.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build
if [[ $# -gt 0 && $1 != -* ]]; then
    build=$1
    shift
fi
build=$(cd "$build" && pwd)

if [[ ! -e $build/libcscore.so ]]; then
    echo "run.sh: $build/libcscore.so not found; build it with" >&2
    echo "  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build" >&2
    exit 2
fi

# Debian's interpreter, which has python3-numpy and python3-torch.
CSCORE_LIBRARY=$build/libcscore.so PYTHONPATH=$root/bindings/python \
    exec /usr/bin/python3 "$root/bench/python/bench_observe_batch.py" "$@"
