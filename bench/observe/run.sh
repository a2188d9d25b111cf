#!/usr/bin/env bash
# Times cs_observe_epoch() against the same accumulations in NumPy, in one
# run on one thread, and prints ns per logit, the ratio and whether the
# results agree.
#
# usage: bench/observe/run.sh [BUILD_DIR] [bench_observe options]
#
# BUILD_DIR defaults to build/ under the repository root. A folder without
# CMakeCache.txt is configured as a Release build first, and bench_observe
# is rebuilt there when it is out of date. The remaining options go to
# bench_observe: --n, --classes, --epochs, --history, --seed. The NumPy side
# reads the data that bench_observe saves, so both process the same logits.
#
# Exits 1 if the NumPy results do not match cscore's.
set -euo pipefail
export LC_ALL=C

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$script_dir/../.." && pwd)

build_dir="$source_dir/build"
if [[ $# -gt 0 && $1 != -* ]]; then
  build_dir=$1
  shift
fi

# Debian's interpreter, which finds Debian's python3-numpy.
python=/usr/bin/python3
if ! "$python" -c 'import numpy' 2>/dev/null; then
  echo "run.sh: $python cannot import numpy; install python3-numpy" >&2
  exit 2
fi

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT

# Runs a configure or build command quietly. On failure it prints the log
# and exits.
build_quietly() {
  if ! "$@" >"$work_dir/build.log" 2>&1; then
    cat "$work_dir/build.log" >&2
    echo "run.sh: the build failed: $*" >&2
    exit 2
  fi
}

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  build_quietly cmake -S "$source_dir" -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=Release -DCSCORE_BUILD_BENCH=ON
fi
if grep -q '^CSCORE_BUILD_BENCH:BOOL=OFF' "$build_dir/CMakeCache.txt"; then
  echo "run.sh: $build_dir was configured with CSCORE_BUILD_BENCH=OFF;" \
    "reconfigure it with -DCSCORE_BUILD_BENCH=ON or pass another folder" >&2
  exit 2
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
if [[ $build_type != Release ]]; then
  echo "run.sh: warning: $build_dir is a '$build_type' build; figures from" \
    "it are not comparable with Release ones" >&2
fi
build_quietly cmake --build "$build_dir" --target bench_observe -j2
bench="$build_dir/bench/observe/bench_observe"

# One thread everywhere: cscore links OpenBLAS, whose thread pool would
# otherwise start (and spin) in the C program too.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

"$bench" --save "$work_dir" "$@" >"$work_dir/c.txt"
for style in plain tuned; do
  "$python" "$script_dir/observe_numpy.py" "$work_dir" --style "$style" \
    >"$work_dir/$style.txt" || true
done

# Prints the value of key=value in a program's output file.
field() {
  sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$work_dir/$1.txt" | tail -n 1
}

numpy_version=$("$python" -c 'import numpy; print(numpy.__version__)')

grep -v '^ns_per_logit' "$work_dir/c.txt"
printf '\n%-20s %8s %8s %8s %14s %14s\n' "ns per logit" mean median best \
  "NumPy/C mean" "NumPy/C median"
printf '%-20s %8.3f %8.3f %8.3f\n' "cscore (C)" "$(field c ns_per_logit_mean)" \
  "$(field c ns_per_logit_median)" "$(field c ns_per_logit_best)"
for style in plain tuned; do
  if [[ -z $(field "$style" ns_per_logit_mean) ]]; then
    echo "run.sh: observe_numpy.py --style $style failed:" >&2
    cat "$work_dir/$style.txt" >&2
    exit 1
  fi
  awk -v label="NumPy $numpy_version $style" \
    -v mean="$(field "$style" ns_per_logit_mean)" \
    -v median="$(field "$style" ns_per_logit_median)" \
    -v best="$(field "$style" ns_per_logit_best)" \
    -v c_mean="$(field c ns_per_logit_mean)" \
    -v c_median="$(field c ns_per_logit_median)" 'BEGIN {
      printf "%-20s %8.3f %8.3f %8.3f %13.1fx %13.1fx\n", label, mean,
        median, best, mean / c_mean, median / c_median }'
done

status=0
echo
echo "Agreement of the NumPy proxies with cscore's (integers equal, floats" \
  "within 1e-5):"
for style in plain tuned; do
  agreement=$(grep '^agreement=' "$work_dir/$style.txt")
  printf '  %-6s %s\n' "$style" "$agreement"
  [[ $agreement == agreement=yes* ]] || status=1
done
exit "$status"
