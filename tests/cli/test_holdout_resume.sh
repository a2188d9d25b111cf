#!/usr/bin/env bash
# End-to-end checks of `cscore holdout` and `cscore holdout-merge` on the
# first Fashion-MNIST images. They cover usage errors, and a run killed
# with SIGKILL while its workers train: resumed from its record file, it
# gives the same arrays as an uninterrupted run. A record file of another
# seed is rejected, and slices run as separate jobs merge into the same
# arrays.
# Usage: test_holdout_resume.sh PATH_TO_CSCORE. Exits 77 (skipped) without
# the data set.
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

# expect_exit CODE NAME -- COMMAND...: runs COMMAND with its output in
# $work/stdout and $work/stderr, and checks its exit status.
expect_exit() {
    local want=$1 name=$2
    shift 3
    local got=0
    "$@" >"$work/stdout" 2>"$work/stderr" || got=$?
    if [ "$got" -eq "$want" ]; then pass "$name"; else
        fail "$name: exit $got, expected $want"; cat "$work/stderr"; fi
}

expect_stderr() {
    if grep -q -- "$2" "$work/stderr"; then pass "$1"; else
        fail "$1: stderr lacks '$2'"; cat "$work/stderr"; fi
}

# same_arrays NAME A.npz B.npz: every array equal, NaN where NaN.
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

# --- help and usage errors ------------------------------------------------
expect_exit 0 "holdout help" -- "$cscore" holdout --help
grep -q -- '--records FILE' "$work/stdout" && pass "help lists --records" ||
    fail "help lists --records"
grep -q -- '--epochs E' "$work/stdout" && pass "help lists the recipe" ||
    fail "help lists the recipe"
expect_exit 0 "holdout-merge help" -- "$cscore" holdout-merge --help
expect_exit 2 "missing --ratios" -- "$cscore" holdout --runs 2 \
    --records "$work/x" --out "$work/x.npz"
expect_stderr "missing --ratios is named" "--ratios"
expect_exit 2 "ratio 100" -- "$cscore" holdout --ratios 50,100 --runs 2 \
    --records "$work/x" --out "$work/x.npz"
expect_exit 2 "repeated ratio" -- "$cscore" holdout --ratios 50,50 --runs 2 \
    --records "$work/x" --out "$work/x.npz"
expect_exit 2 "bad --slice" -- "$cscore" holdout --ratios 50 --runs 2 \
    --slice 3/3 --records "$work/x" --out "$work/x.npz"
expect_exit 2 "--threads with --jobs" -- "$cscore" holdout --ratios 50 \
    --runs 2 --jobs 2 --threads 2 --records "$work/x" --out "$work/x.npz"
expect_exit 2 "merge without files" -- "$cscore" holdout-merge --out "$work/x.npz"
[ ! -e "$work/x" ] && pass "usage errors write nothing" ||
    fail "usage errors write nothing"

if [ ! -f "$data/train-labels-idx1-ubyte.gz" ] && [ ! -f "$data/train-labels-idx1-ubyte" ]; then
    echo "skipped: the runs need Fashion-MNIST in $data" \
         "(Debian package dataset-fashion-mnist)"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 77
    exit 1
fi
if ! "$python" -c 'import numpy' 2>/dev/null; then
    echo "skipped: comparing results needs numpy in $python (python3-numpy)"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 77
    exit 1
fi

# Runs of about 0.2 s each, so that a kill lands inside a run.
args=(--data "$data" --first 2000 --epochs 12 --hidden 128 --threads 1
      --ratios 20,50,80 --runs 4 --seed 11)

# --- uninterrupted reference ---------------------------------------------
expect_exit 0 "reference run" -- "$cscore" holdout "${args[@]}" --jobs 2 \
    --records "$work/ref.records" --out "$work/ref.npz"
grep -q '^run 12/12 ' "$work/stderr" && pass "progress counts runs" ||
    fail "progress counts runs"
grep -q 'rho vs integral' "$work/stdout" && pass "summary prints rho" ||
    fail "summary prints rho"

# --- killed after three runs, then resumed ---------------------------------
"$cscore" holdout "${args[@]}" --jobs 2 --records "$work/kill.records" \
    --out "$work/kill.npz" >"$work/kill.out" 2>"$work/kill.err" &
pid=$!
for _ in $(seq 6000); do # at most about 60 s
    [ "$(grep -c '^run ' "$work/kill.err" || true)" -ge 3 ] && break
    sleep 0.01
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null && fail "killed run exits by the signal" ||
    pass "killed run exits by the signal"
finished=$(grep -c '^run ' "$work/kill.err" || true)
[ "$finished" -ge 3 ] && [ "$finished" -lt 12 ] &&
    pass "kill came after 3 and before 12 runs ($finished)" ||
    fail "kill came after 3 and before 12 runs ($finished)"
[ ! -e "$work/kill.npz" ] && pass "killed run wrote no result" ||
    fail "killed run wrote no result"

expect_exit 0 "resumed run" -- "$cscore" holdout "${args[@]}" --jobs 2 \
    --records "$work/kill.records" --out "$work/kill.npz"
resumed=$(sed -n 's/.* \([0-9]*\) already in .*/\1/p' "$work/stdout")
[ "$resumed" -ge "$finished" ] && pass "resume skips the $resumed recorded runs" ||
    fail "resume skips the recorded runs ($resumed of $finished)"
trained=$(grep -c '^run ' "$work/stderr" || true)
[ "$((resumed + trained))" -eq 12 ] && pass "resume trains only the rest" ||
    fail "resume trains only the rest ($resumed + $trained)"
same_arrays "resumed equals uninterrupted" "$work/ref.npz" "$work/kill.npz"

# A finished record file resumes to the same result without training.
expect_exit 0 "rerun of a finished file" -- "$cscore" holdout "${args[@]}" \
    --records "$work/ref.records" --out "$work/again.npz"
[ ! -s "$work/stderr" ] && pass "finished file trains nothing" ||
    fail "finished file trains nothing"
same_arrays "rerun equals the first result" "$work/ref.npz" "$work/again.npz"

# --- a record file of another estimate ------------------------------------
expect_exit 1 "other seed rejected" -- "$cscore" holdout "${args[@]}" \
    --seed 12 --records "$work/ref.records" --out "$work/other.npz"
expect_stderr "other seed names the field" "master seed 11"

# --- array-job slices, merged ---------------------------------------------
for slice in 0 1 2; do
    expect_exit 0 "slice $slice of 3" -- "$cscore" holdout "${args[@]}" \
        --slice "$slice/3" --records "$work/slice$slice.records" \
        --out "$work/slice$slice.npz"
done
expect_exit 0 "merge slices" -- "$cscore" holdout-merge \
    --records "$work"/slice0.records "$work"/slice1.records \
    "$work"/slice2.records "$work/ref.records" --out "$work/merged.npz"
grep -q 'Runs counted: 12' "$work/stdout" && pass "merge counts each run once" ||
    fail "merge counts each run once"
same_arrays "merged slices equal one run" "$work/ref.npz" "$work/merged.npz"
expect_exit 1 "merge of a missing file" -- "$cscore" holdout-merge \
    --records "$work/slice0.records" "$work/none.records" --out "$work/m.npz"
expect_stderr "missing file is named" "none.records"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
