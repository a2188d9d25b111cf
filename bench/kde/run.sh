#!/usr/bin/env bash
# Times cscore's KDE scores on one data set and prints the figures side
# by side. They are the exact and sampled methods with their peak memory,
# Spearman's rho of the sampled scores against the exact ones, and plain
# cblas_sgemm throughput on the exact path's shapes. Then come the same
# scores computed in NumPy and in PyTorch (Debian's /usr/bin/python3) with
# the same bandwidth.
#
# usage: bench/kde/run.sh [BUILD_DIR] [bench_kde options]
#   e.g. bench/kde/run.sh build --random 20000 --dim 256 --threads 2
#        bench/kde/run.sh build --features DIR/features.npy \
#            --labels DIR/labels.npy --threads 2
#
# BUILD_DIR defaults to build/ under the repository root and must have
# been configured with the benchmarks on (CSCORE_BUILD_BENCH). The
# remaining options go to bench_kde (see the top of bench_kde.c); pass
# --threads, since the Python side needs a thread count too. Peak memory is
# the maximum resident set size from GNU time, minus that of a run that only
# loads the data. Set SKIP_PYTHON=1 to leave out NumPy and PyTorch, which
# take minutes at N = 60,000.
set -euo pipefail
export LC_ALL=C

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$script_dir/../.." && pwd)

build_dir="$source_dir/build"
if [[ $# -gt 0 && $1 != -* ]]; then
  build_dir=$1
  shift
fi

threads=1
arguments=("$@")
for ((k = 0; k + 1 < ${#arguments[@]}; k++)); do
  if [[ ${arguments[k]} == --threads ]]; then
    threads=${arguments[k + 1]}
  fi
done

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT

if ! cmake --build "$build_dir" --target bench_kde -j2 \
  >"$work_dir/build.log" 2>&1; then
  cat "$work_dir/build.log" >&2
  echo "run.sh: building bench_kde in $build_dir failed; the folder must" \
    "be a configured build with CSCORE_BUILD_BENCH=ON" >&2
  exit 2
fi
bench="$build_dir/bench/kde/bench_kde"

# Runs bench_kde with the given extra options under GNU time; its output
# goes to $work_dir/NAME.txt and its peak memory in KiB to NAME.kib.
measure() {
  local name=$1
  shift
  /usr/bin/time -f %M -o "$work_dir/$name.kib" \
    "$bench" "${arguments[@]}" "$@" >"$work_dir/$name.txt"
}

# Prints the value of key=value from an output file.
field() {
  sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$work_dir/$1.txt" | tail -n 1
}

# Peak memory above the baseline, in MiB.
extra_mib() {
  awk -v run="$(cat "$work_dir/$1.kib")" \
    -v base="$(cat "$work_dir/baseline.kib")" \
    'BEGIN { printf "%.0f", (run - base) / 1024 }'
}

measure baseline --method none
measure exact --method exact --save "$work_dir"
measure sampled --method sampled --compare "$work_dir"
measure sgemm --method none --sgemm

head -n 1 "$work_dir/exact.txt"
echo "bandwidth $(field exact bandwidth) (standard error" \
  "$(field exact bandwidth_se))"
echo
printf '%-28s %10s %10s %14s\n' "" "best s" "median s" "peak MiB (+)"
printf '%-28s %10s %10s %14s\n' "cscore exact" \
  "$(field exact exact_seconds_best)" "$(field exact exact_seconds_median)" \
  "$(extra_mib exact)"
printf '%-28s %10s %10s %14s\n' \
  "cscore sampled, M = $(field sampled reference_count)" \
  "$(field sampled sampled_seconds_best)" \
  "$(field sampled sampled_seconds_median)" "$(extra_mib sampled)"
echo "rho of sampled vs exact: KDE +-L $(field sampled rho_pm)," \
  "KDE L $(field sampled rho_l), class-free $(field sampled rho_free)"
echo
echo "GFLOP/s: exact path (whole run, a lower bound of its distance stage)" \
  "$(field exact exact_distance_gflops_lower_bound); plain sgemm on" \
  "tile x tile x d with the same threads $(field sgemm sgemm_tile_gflops);" \
  "one large sgemm $(field sgemm sgemm_large_gflops)"

if [[ ${SKIP_PYTHON:-0} == 1 ]]; then
  exit 0
fi
python=/usr/bin/python3
echo
for library in numpy torch; do
  if ! "$python" "$script_dir/kde_numpy.py" "$work_dir" \
    --bandwidth "$(field exact bandwidth)" --library "$library" \
    --threads "$threads" >"$work_dir/$library.txt" 2>&1; then
    echo "$library: failed:"
    cat "$work_dir/$library.txt"
    continue
  fi
  seconds=$(field "$library" seconds)
  awk -v name="$library" -v s="$seconds" \
    -v c="$(field exact exact_seconds_best)" \
    -v pm="$(field "$library" max_difference_pm)" \
    -v l="$(field "$library" max_difference_l)" \
    -v free="$(field "$library" max_difference_free)" 'BEGIN {
      printf "%-8s %8.3f s, %5.1fx the exact path; largest difference from" \
        " cscore (of the class-free score): %s %s %s\n", name, s, s / c,
        pm, l, free }'
done
