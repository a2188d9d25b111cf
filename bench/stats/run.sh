#!/usr/bin/env bash
# Times cs_spearman() and cs_kendall_tau_b() against scipy.stats.spearmanr
# and kendalltau on the same arrays, in one run on one thread, and prints
# the best of several calls for each, the speed-up and whether the values
# agree within 1e-9.
#
# usage: bench/stats/run.sh [BUILD_DIR] [--repeats R] [--seed S]
#
# BUILD_DIR defaults to build/ under the repository root. It is configured
# (Release) if it has no CMakeCache.txt, and bench_stats is rebuilt if it
# is out of date. bench_stats saves its data and stats_scipy.py reads it,
# so both always process the same arrays.
#
# Exits 1 if a value differs from scipy's by more than 1e-9.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$script_dir/../.." && pwd)

build_dir="$source_dir/build"
if [[ $# -gt 0 && $1 != -* ]]; then
  build_dir=$1
  shift
fi
repeats=5
seed=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --repeats) repeats=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [BUILD_DIR] [--repeats R] [--seed S]" >&2; exit 2 ;;
  esac
done

# Debian's interpreter, which finds Debian's python3-scipy.
python=/usr/bin/python3
if ! "$python" -c 'import scipy.stats' 2>/dev/null; then
  echo "run.sh: $python cannot import scipy.stats; install python3-scipy" >&2
  exit 2
fi

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DCSCORE_BUILD_BENCH=ON >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
if [[ $build_type != Release ]]; then
  echo "run.sh: warning: $build_dir is a '$build_type' build; figures from" \
    "it are not comparable with Release ones" >&2
fi
cmake --build "$build_dir" --target bench_stats -j2 >/dev/null
bench="$build_dir/bench/stats/bench_stats"

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT

# One thread everywhere, so that neither side gains from a thread pool.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

"$bench" --save "$work_dir" --repeats "$repeats" --seed "$seed" \
  >"$work_dir/c.txt"
"$python" "$script_dir/stats_scipy.py" "$work_dir" --repeats "$repeats" \
  >"$work_dir/scipy.txt"

head -n 1 "$work_dir/c.txt"
head -n 1 "$work_dir/scipy.txt"
echo "Best of $repeats calls, seconds:"
echo

# Joins the two outputs on (n, data, statistic) and prints the table.
awk '
  function field(line, key,    parts, k, pair) {
    split(line, parts, " ")
    for (k in parts) {
      split(parts[k], pair, "=")
      if (pair[1] == key) return pair[2]
    }
    return ""
  }
  FNR == 1 { next }
  FILENAME ~ /c\.txt$/ {
    key = field($0, "n") " " field($0, "data") " " field($0, "statistic")
    c_time[key] = field($0, "seconds_best"); c_value[key] = field($0, "value")
    order[++count] = key
    next
  }
  {
    key = field($0, "n") " " field($0, "data") " " field($0, "statistic")
    s_time[key] = field($0, "seconds_best"); s_value[key] = field($0, "value")
  }
  END {
    printf "%-9s %-11s %-9s %10s %10s %9s %10s\n", "n", "data",
      "statistic", "cscore", "scipy", "speed-up", "|diff|"
    status = 0
    for (k = 1; k <= count; k++) {
      key = order[k]
      split(key, part, " ")
      diff = c_value[key] - s_value[key]
      if (diff < 0) diff = -diff
      if (!(diff <= 1e-9)) status = 1
      printf "%-9s %-11s %-9s %10.4f %10.4f %8.1fx %10.1e\n", part[1],
        part[2], part[3], c_time[key], s_time[key],
        s_time[key] / c_time[key], diff
    }
    exit status
  }' "$work_dir/c.txt" "$work_dir/scipy.txt"
