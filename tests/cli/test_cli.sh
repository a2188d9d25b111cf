#!/usr/bin/env bash
# End-to-end checks of the `cscore` program: help and usage errors, a
# short deterministic training run, replaying its saved logits, and a
# corrupt IDX file. Usage: test_cli.sh PATH_TO_CSCORE
set -euo pipefail

cscore=$1
data=${CSCORE_TEST_DATA:-/usr/share/datasets/fashion-mnist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAILED: $1"; }

# expect_exit CODE NAME -- COMMAND...: runs COMMAND, keeps its stderr in
# $work/stderr, and checks its exit status.
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

# --- help, version and usage errors -------------------------------------
expect_exit 0 "version" -- "$cscore" --version
grep -q '^cscore [0-9]' "$work/stdout" && pass "version text" || fail "version text"
expect_exit 0 "help" -- "$cscore" --help
for sub in train proxies; do
    expect_exit 0 "$sub help" -- "$cscore" "$sub" --help
    grep -q -- '--out' "$work/stdout" && pass "$sub help lists --out" ||
        fail "$sub help lists --out"
done
grep -q 'default 128' <("$cscore" train --help) && pass "train help defaults" ||
    fail "train help defaults"
expect_exit 2 "no command" -- "$cscore"
expect_exit 2 "unknown command" -- "$cscore" frobnicate
expect_exit 2 "unknown option" -- "$cscore" train --bogus --out "$work/x"
expect_exit 2 "missing --out" -- "$cscore" train --first 10
expect_exit 2 "bad --epochs" -- "$cscore" train --epochs 0 --out "$work/x"
expect_stderr "bad --epochs names the option" "--epochs"
expect_exit 2 "bad --lr" -- "$cscore" train --lr fast --out "$work/x"
expect_exit 2 "bad --schedule" -- "$cscore" train --schedule cosine --out "$work/x"
expect_exit 2 "bad --hidden" -- "$cscore" train --hidden 512,,x --out "$work/x"
expect_exit 2 "proxies without --labels" -- "$cscore" proxies --logits 'x*' --out "$work/x"
[ ! -e "$work/x" ] && pass "usage errors write nothing" || fail "usage errors write nothing"

if [ ! -f "$data/train-labels-idx1-ubyte.gz" ] && [ ! -f "$data/train-labels-idx1-ubyte" ]; then
    echo "skipped: training checks need Fashion-MNIST in $data" \
         "(Debian package dataset-fashion-mnist; scripts/test installs it)"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi

# --- a short run, twice: same seed and threads give identical proxies ----
run_args=(--data "$data" --first 600 --epochs 3 --seed 7 --threads 1)
expect_exit 0 "train run 1" -- "$cscore" train "${run_args[@]}" --save-logits --out "$work/run1"
expect_exit 0 "train run 2" -- "$cscore" train "${run_args[@]}" --out "$work/run2"
for f in proxies.csv proxies.npz labels.npy features.npy logits/epoch_003.npy; do
    [ -s "$work/run1/$f" ] && pass "run writes $f" || fail "run writes $f"
done
cmp -s "$work/run1/proxies.csv" "$work/run2/proxies.csv" &&
    pass "same seed, same proxies" || fail "same seed, same proxies"
grep -q 'class 9:' "$work/stdout" && pass "least regular summary" ||
    fail "least regular summary"

# --- replaying the saved logits reproduces the run -----------------------
expect_exit 0 "proxies replay" -- "$cscore" proxies \
    --logits "$work/run1/logits/epoch_*.npy" --labels "$work/run1/labels.npy" \
    --out "$work/replay"
# The run appends its KDE columns (kde_*_e3) after the proxies; the replay,
# which has no features, stops before them.
columns=$(head -n 1 "$work/replay/proxies.csv" | tr ',' '\n' | wc -l)
cmp -s <(cut -d, -f"1-$columns" "$work/run1/proxies.csv") \
    "$work/replay/proxies.csv" &&
    pass "replay equals the run" || fail "replay equals the run"
expect_exit 1 "replay without matches" -- "$cscore" proxies \
    --logits "$work/none_*.npy" --labels "$work/run1/labels.npy" --out "$work/r2"
expect_stderr "no match is named" "no file matches"
expect_exit 1 "replay with a missing labels file" -- "$cscore" proxies \
    --logits "$work/run1/logits/epoch_*.npy" --labels "$work/none.npy" \
    --out "$work/r3"
expect_stderr "the option of the missing file is named" "^cscore proxies: --labels: cannot open"
# Ids with a repeat: the hint names the program's option, not the C API's.
if /usr/bin/python3 - "$work/run1/labels.npy" "$work/repeated_ids.npy" <<'PY'
import sys
import numpy as np
ids = np.arange(len(np.load(sys.argv[1])), dtype=np.int64)
ids[1] = ids[0]
np.save(sys.argv[2], ids)
PY
then
    expect_exit 1 "replay with a repeated id" -- "$cscore" proxies \
        --logits "$work/run1/logits/epoch_*.npy" \
        --labels "$work/run1/labels.npy" --ids "$work/repeated_ids.npy" \
        --out "$work/r4"
    expect_stderr "the repeat hint names --keep-first" "pass --keep-first"
else
    fail "writing the repeated ids"
fi

# --- label noise: a seeded share of labels is replaced and marked --------
expect_exit 2 "bad --flip-labels" -- "$cscore" train --flip-labels 1 --out "$work/x"
expect_exit 0 "train with flipped labels" -- "$cscore" train --data "$data" \
    --first 600 --epochs 1 --threads 1 --flip-labels 0.1 --flip-seed 5 \
    --out "$work/noisy"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    if /usr/bin/python3 - "$work/noisy/proxies.npz" "$work/run1/labels.npy" <<'PY'
import sys
import numpy as np
noisy = np.load(sys.argv[1])
clean = np.load(sys.argv[2])
flipped = noisy["flipped"] > 0
assert flipped.sum() == 60, flipped.sum()
assert np.all(noisy["labels"][flipped] != clean[flipped])
assert np.all(noisy["labels"][~flipped] == clean[~flipped])
PY
    then pass "flipped labels marked and changed"; else fail "flipped labels marked and changed"; fi
fi

# --- a truncated IDX file is reported and nothing is written -------------
mkdir "$work/bad"
for f in "$data"/*; do ln -s "$f" "$work/bad/$(basename "$f")"; done
rm "$work/bad/train-images-idx3-ubyte"*
(gzip -dc "$data/train-images-idx3-ubyte.gz" || true) | head -c 100000 >"$work/bad/train-images-idx3-ubyte"
expect_exit 1 "truncated IDX" -- "$cscore" train --data "$work/bad" --out "$work/badout"
expect_stderr "truncated IDX names the file" "train-images-idx3-ubyte"
[ ! -e "$work/badout" ] && pass "truncated IDX writes nothing" ||
    fail "truncated IDX writes nothing"
expect_exit 1 "missing data folder" -- "$cscore" train --data "$work/nowhere" --out "$work/badout"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
