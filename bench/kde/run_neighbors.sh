#!/usr/bin/env bash
# Times the neighbour scores (bench_neighbors) on one data set and prints
# its key=value lines: the kernel-sum method's seconds and bandwidth, then
# per index the seconds, empty neighbour slots, Spearman's rho of each
# neighbour score against kde_pm and, after a flat run, the agreement with
# flat. The build folder must be configured with FAISS (CSCORE_WITH_FAISS).
#
# usage: bench/kde/run_neighbors.sh [BUILD_DIR] [bench_neighbors options]
#   e.g. bench/kde/run_neighbors.sh build --random 1000000 --dim 256 \
#            --kde sampled --index ivf,hnsw --threads 2
#        bench/kde/run_neighbors.sh build --features DIR/features.npy \
#            --labels DIR/labels.npy --kde exact --index flat,ivf,hnsw
#
# BUILD_DIR defaults to build/ under the repository root. The options are
# listed at the top of bench_neighbors.c. The run is nice'd, since at
# N = 1,000,000 it takes tens of minutes on two cores.
set -euo pipefail
export LC_ALL=C

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$script_dir/../.." && pwd)

build_dir="$source_dir/build"
if [[ $# -gt 0 && $1 != -* ]]; then
  build_dir=$1
  shift
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! cmake --build "$build_dir" --target bench_neighbors -j2 >"$log" 2>&1; then
  cat "$log" >&2
  echo "run_neighbors.sh: building bench_neighbors in $build_dir failed;" \
    "the folder must be a configured build with CSCORE_BUILD_BENCH=ON" >&2
  exit 2
fi

echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs:" \
  "$(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
nice "$build_dir/bench/kde/bench_neighbors" "$@"
