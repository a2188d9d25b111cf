#!/usr/bin/env bash
# `cscore holdout` under mpirun with two ranks gives the same arrays as one
# process, writes one record file per rank, resumes from them, and the
# rank files merge into the same arrays. Usage: test_holdout_mpi.sh
# PATH_TO_CSCORE. Exits 77 (skipped), with the reason, when mpirun, the
# data set or numpy is missing, or cscore was built without MPI.
set -euo pipefail

cscore=$1
data=${CSCORE_TEST_DATA:-/usr/share/datasets/fashion-mnist}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAILED: $1"; }
skip() { echo "skipped: $1"; exit 77; }

command -v mpirun >/dev/null ||
    skip "mpirun is not installed (Debian packages openmpi-bin and libopenmpi-dev)"
"$cscore" holdout --help | grep -q 'built with MPI support' ||
    skip "$cscore was built without MPI; configure with -DCSCORE_WITH_MPI=ON"
[ -f "$data/train-labels-idx1-ubyte.gz" ] || [ -f "$data/train-labels-idx1-ubyte" ] ||
    skip "the runs need Fashion-MNIST in $data (dataset-fashion-mnist)"
"$python" -c 'import numpy' 2>/dev/null ||
    skip "comparing results needs numpy in $python (python3-numpy)"

# In a sanitizer build, Open MPI's leaks must be traced back to its own
# libraries to match tests/lsan.supp. Its components are unloaded before
# the leak check and built without frame pointers, so the default fast
# unwinder stops at them. The slow unwinder walks on to libmpi.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

# Open MPI refuses to start as root without this flag, and --oversubscribe
# lets two ranks start on a machine with fewer free cores.
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
args=(--data "$data" --first 1000 --epochs 3 --hidden 64 --threads 1
      --ratios 30,60,90 --runs 3 --seed 5)

run() { # run NAME COMMAND...: expects exit 0, output kept in $work/log
    local name=$1
    shift
    if "$@" >"$work/log" 2>&1; then pass "$name"; else
        fail "$name"; cat "$work/log"; fi
}

same_arrays() {
    if "$python" - "$2" "$3" <<'EOF'; then pass "$1"; else fail "$1"; fi
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert sorted(a.files) == sorted(b.files), (a.files, b.files)
for name in a.files:
    assert np.array_equal(a[name], b[name], equal_nan=True), name
EOF
}

run "one process" "$cscore" holdout "${args[@]}" \
    --records "$work/one.records" --out "$work/one.npz"
run "two ranks" "${mpi[@]}" "$cscore" holdout "${args[@]}" \
    --records "$work/two.records" --out "$work/two.npz"
[ -s "$work/two.records.rank0" ] && [ -s "$work/two.records.rank1" ] &&
    [ ! -e "$work/two.records" ] && pass "one record file per rank" ||
    fail "one record file per rank"
grep -q 'Runs counted: 9 of 9 planned' "$work/log" &&
    pass "rank 0 reports every run" || fail "rank 0 reports every run"
same_arrays "two ranks equal one process" "$work/one.npz" "$work/two.npz"

run "two ranks resume" "${mpi[@]}" "$cscore" holdout "${args[@]}" \
    --records "$work/two.records" --out "$work/again.npz"
grep -q '^run ' "$work/log" && fail "resume trains nothing" ||
    pass "resume trains nothing"
same_arrays "resumed ranks equal one process" "$work/one.npz" "$work/again.npz"

run "merge rank files" "$cscore" holdout-merge \
    --records "$work/two.records.rank0" "$work/two.records.rank1" \
    --out "$work/merged.npz"
same_arrays "merged rank files equal one process" "$work/one.npz" \
    "$work/merged.npz"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
