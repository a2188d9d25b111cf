#!/usr/bin/env bash
# End-to-end checks of `cscore correlate` and `cscore bench` on small files
# that bench_fixtures.py generates with numpy, compared with scipy.stats.
# For correlate: alignment by ids, a label order mismatch caught at its
# first row, NaN pairs dropped and counted, --class and --ids, the truth
# key default and its error, CSV proxies. For bench: a whole run with its
# results files, and configuration errors at their line and column. The
# authors' published C-scores are read through --truth when SHARED_DIR
# has them.
#
# Usage: test_bench.sh PATH_TO_CSCORE [SHARED_DIR]
# Exits 77 (skipped) when /usr/bin/python3 lacks numpy or scipy.
set -euo pipefail

cscore=$1
shared=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
fixtures="$here/bench_fixtures.py"

if ! "$python" -c 'import numpy, scipy' 2>/dev/null; then
    echo "skipped: $python lacks numpy or scipy (Debian packages" \
         "python3-numpy and python3-scipy)"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAILED: $1"; }

# expect_exit CODE NAME -- COMMAND...: runs COMMAND, keeps its output in
# $work/stdout and $work/stderr, and checks its exit status.
expect_exit() {
    local want=$1 name=$2
    shift 3
    local got=0
    "$@" >"$work/stdout" 2>"$work/stderr" || got=$?
    if [ "$got" -eq "$want" ]; then pass "$name"; else
        fail "$name: exit $got, expected $want"; cat "$work/stderr"; fi
}

expect_in() {
    local name=$1 stream=$2 text=$3
    if grep -qF -- "$text" "$work/$stream"; then pass "$name"; else
        fail "$name: $stream lacks '$text'"; cat "$work/$stream"; fi
}

# check ARGS...: runs a bench_fixtures.py check and counts its "ok:" and
# "FAILED:" lines; a check that stops with an error counts as one failure.
check() {
    local output status=0 failures
    output=$("$python" "$fixtures" "$@" 2>&1) || status=$?
    echo "$output"
    failures=$(grep -c '^FAILED:' <<<"$output" || true)
    passed=$((passed + $(grep -c '^ok:' <<<"$output" || true)))
    failed=$((failed + failures))
    if [ "$status" -ne 0 ] && [ "$failures" -eq 0 ]; then
        fail "bench_fixtures.py $1 stopped with status $status"
    fi
}

d=$work/data
mkdir -p "$d"
if [ -n "$shared" ] && [ -d "$shared/data/published-cscores" ]; then
    "$python" "$fixtures" generate "$d" "$shared"
else
    "$python" "$fixtures" generate "$d"
fi

# --- correlate: alignment, NaN pairs, subsets ------------------------------
expect_exit 0 "correlate help" -- "$cscore" correlate --help
expect_in "help explains negative signs" stdout "correlate negatively"

expect_exit 0 "correlate by ids" -- "$cscore" correlate --truth "$d/truth.npz" \
    --proxies "$d/proxies.npz" --bootstrap 0
expect_in "aligned by ids" stdout "aligned by ids"
cp "$work/stdout" "$work/all.txt"
check check-correlate "$d" all "$work/all.txt"

expect_exit 0 "correlate --class" -- "$cscore" correlate --truth "$d/truth.npz" \
    --proxies "$d/proxies.npz" --bootstrap 0 --class 1
expect_in "subset reported" stdout "of class 1"
cp "$work/stdout" "$work/class.txt"
check check-correlate "$d" class "$work/class.txt"

expect_exit 0 "correlate --ids" -- "$cscore" correlate --truth "$d/truth.npz" \
    --proxies "$d/proxies.npz" --bootstrap 0 --ids "$d/ids.txt"
cp "$work/stdout" "$work/ids.txt"
check check-correlate "$d" ids "$work/ids.txt"

expect_exit 0 "correlate CSV proxies" -- "$cscore" correlate \
    --truth "$d/truth.npz" --proxies "$d/proxies.csv" --bootstrap 0
cp "$work/stdout" "$work/csv.txt"
check check-correlate "$d" csv "$work/csv.txt"

expect_exit 0 "bootstrap intervals" -- "$cscore" correlate \
    --truth "$d/truth.npz" --proxies "$d/proxies.npz" --keys cbtl,p_l_mean \
    --bootstrap 50 --seed 3
expect_in "interval columns" stdout "spearman 95% CI"
cp "$work/stdout" "$work/boot1.txt"
"$cscore" correlate --truth "$d/truth.npz" --proxies "$d/proxies.npz" \
    --keys cbtl,p_l_mean --bootstrap 50 --seed 3 >"$work/boot2.txt"
cmp -s "$work/boot1.txt" "$work/boot2.txt" && pass "same seed, same intervals" ||
    fail "same seed, same intervals"

# --- correlate: the truth file and its key ---------------------------------
expect_exit 0 "truth key integral by default" -- "$cscore" correlate \
    --truth "$d/truth-integral.npz" --proxies "$d/proxies.npz" --bootstrap 0
expect_in "integral chosen" stdout "key integral"
expect_exit 0 "truth from .npy" -- "$cscore" correlate \
    --truth "$d/truth.npy" --proxies "$d/proxies.npz" --bootstrap 0
cp "$work/stdout" "$work/npy.txt"
check check-correlate "$d" npy "$work/npy.txt"
expect_exit 0 "truth FILE:KEY" -- "$cscore" correlate \
    --truth "$d/truth-other.npz:foo" --proxies "$d/proxies.npz" --bootstrap 0
cp "$work/stdout" "$work/key.txt"
check check-correlate "$d" key "$work/key.txt"
expect_exit 1 "truth without a default key" -- "$cscore" correlate \
    --truth "$d/truth-other.npz" --proxies "$d/proxies.npz"
expect_in "key error names both defaults" stderr "neither 'scores' nor 'integral'"
expect_in "key error lists the keys" stderr "Keys: foo, bar"
expect_exit 1 "truth key missing" -- "$cscore" correlate \
    --truth "$d/truth-other.npz:baz" --proxies "$d/proxies.npz"
expect_in "missing key lists the keys" stderr "its keys are: foo, bar"
expect_exit 2 "key on a .npy truth" -- "$cscore" correlate \
    --truth "$d/truth.npy:scores" --proxies "$d/proxies.npz"

# --- correlate: order mistakes ---------------------------------------------
row=$(cat "$d/swapped-row.txt")
expect_exit 0 "same order, no ids" -- "$cscore" correlate \
    --truth "$d/truth.npz" --proxies "$d/proxies-full.npz" --bootstrap 0
expect_in "aligned by position" stdout "aligned by position"
expect_exit 1 "labels in another order" -- "$cscore" correlate \
    --truth "$d/truth.npz" --proxies "$d/proxies-swapped.npz" --bootstrap 0
expect_in "first differing row named" stderr "labels differ first at row $row "
expect_in "order mistake explained" stderr "not in the same example order"
expect_in "differing labels counted" stderr "2 of 300 labels differ"
expect_exit 1 "lengths differ without ids" -- "$cscore" correlate \
    --truth "$d/truth.npz" --proxies "$d/proxies-noids.npz"
expect_in "length error" stderr "has 200 examples and the truth file"
expect_exit 0 "flipped rows skip the label check" -- "$cscore" correlate \
    --truth "$d/truth.npz" --proxies "$d/noise.npz" --bootstrap 0

# --- correlate: usage errors --------------------------------------------------
expect_exit 2 "missing --truth" -- "$cscore" correlate --proxies "$d/proxies.npz"
expect_exit 2 "unknown --keys entry" -- "$cscore" correlate \
    --truth "$d/truth.npz" --proxies "$d/proxies.npz" --keys cbtl,cbtll
expect_in "keys error lists the proxies" stderr "its proxies are: cbtl, p_l_mean"
expect_exit 2 "bad --bootstrap" -- "$cscore" correlate --truth "$d/truth.npz" \
    --proxies "$d/proxies.npz" --bootstrap -3
expect_exit 1 "class without examples" -- "$cscore" correlate \
    --truth "$d/truth.npz" --proxies "$d/proxies.npz" --class 7
expect_exit 1 "missing truth file" -- "$cscore" correlate \
    --truth "$d/none.npz" --proxies "$d/proxies.npz"
expect_in "missing truth named" stderr "$d/none.npz does not exist"

# --- published C-scores ------------------------------------------------------
for name in cifar10 cifar100; do
    file=${shared:+$shared/data/published-cscores/$name-cscores-orig-order.npz}
    if [ -z "$file" ] || [ ! -f "$file" ]; then
        echo "skipped: published $name C-scores not found" \
             "(pass the shared folder as the second argument)"
        continue
    fi
    expect_exit 0 "published $name through --truth" -- "$cscore" correlate \
        --truth "$file" --proxies "$d/$name-proxies.npz" --bootstrap 0
    expect_in "published $name key" stdout "key scores (50000 examples)"
    cp "$work/stdout" "$work/$name.txt"
    check check-published "$d" "$shared" "$name" "$work/$name.txt"

    # The ready configuration, with its placeholder filled in.
    sed -e "s|path: .*published-cscores/.*|path: $file|" \
        -e "s|path: /path/to/your/.*|path: $name-proxies.npz|" \
        -e "s|^output: .*|output: $name-results|" \
        -e "s|^bootstrap: .*|bootstrap: 0|" \
        "$here/../../bench/$name.yaml" >"$d/$name.yaml"
    expect_exit 0 "bench/$name.yaml runs" -- "$cscore" bench --no-plot \
        "$d/$name.yaml"
    expect_in "bench/$name.yaml correlates" stdout "p_l_mean"
done

# --- bench -------------------------------------------------------------------
cat >"$d/bench.yaml" <<'EOF'
# a small bench over generated files
truth:
  path: truth.npz
proxy_files:
  - name: run
    path: proxies.npz
  - name: csv
    path: proxies.csv
    keys: [cbtl]
output: results
bootstrap: 20
seed: 5
per_epoch: run
label_noise:
  path: noise.npz
figures:
  images: images.idx.gz
  per_class: 3
  class_names: [zero, one, 'two "quoted" \ back']
EOF
expect_exit 0 "bench runs" -- "$cscore" bench --no-plot "$d/bench.yaml"
for f in results.csv results.json; do
    [ -s "$d/results/$f" ] && pass "bench writes $f" || fail "bench writes $f"
done
check check-bench "$d" "$d/results"

cat >"$d/optional.yaml" <<'EOF'
truth: {path: truth.npz}
proxy_files:
  - {name: later, path: later.npz, optional: true}
  - {name: run, path: proxies.npz}
output: optional-results
bootstrap: 0
per_epoch: later
label_noise: {path: flip.npz, optional: true}
EOF
expect_exit 0 "bench skips optional files" -- "$cscore" bench --no-plot \
    "$d/optional.yaml"
expect_in "skipped proxy file named" stdout "optional proxy file 'later'"
expect_in "skipped noise file named" stdout "optional label-noise file"
expect_in "per-epoch skipped" stdout "Per-epoch analysis: skipped"

# bench_error NAME LINE:COLUMN TEXT: writes $work/bad.yaml (from stdin),
# runs the bench on it and expects the error at that position.
bench_error() {
    local name=$1 position=$2 text=$3
    cat >"$d/bad.yaml"
    expect_exit 1 "bench rejects $name" -- "$cscore" bench --no-plot "$d/bad.yaml"
    expect_in "$name at $position" stderr "$d/bad.yaml:$position: "
    expect_in "$name message" stderr "$text"
}

bench_error "unknown proxy" 7:17 "unknown proxy 'cbtll'" <<'EOF'
truth:
  path: truth.npz
proxy_files:
  - name: run
    path: proxies.npz
output: results
proxies: [cbtl, cbtll]
EOF
bench_error "unknown key in a file" 6:22 "unknown proxy 'aum'" <<'EOF'
truth:
  path: truth.npz
proxy_files:
  - name: run
    path: proxies.npz
    keys: [p_l_mean, aum]
output: results
EOF
bench_error "malformed YAML" 3:7 "invalid YAML" <<'EOF'
truth:
  path: truth.npz
   key: scores
proxy_files: [{name: run, path: proxies.npz}]
output: results
EOF
bench_error "optional not a boolean" 5:15 "'optional' must be true or false" <<'EOF'
truth:
  path: truth.npz
proxy_files:
  - name: run
    optional: yes
    path: proxies.npz
output: results
EOF
bench_error "missing key" 1:1 "missing required key 'proxy_files'" <<'EOF'
truth:
  path: truth.npz
output: results
EOF
bench_error "missing proxy file" 5:11 "proxy file" <<'EOF'
truth:
  path: truth.npz
proxy_files:
  - name: run
    path: nowhere.npz
output: results
EOF
bench_error "unknown per_epoch file" 7:12 "'per_epoch' names 'ru'" <<'EOF'
truth:
  path: truth.npz
proxy_files:
  - name: run
    path: proxies.npz
output: results
per_epoch: ru
EOF
bench_error "label noise without flipped" 8:9 "has no 'flipped' array" <<'EOF'
truth:
  path: truth.npz
proxy_files:
  - name: run
    path: proxies.npz
output: results
label_noise:
  path: proxies.npz
EOF
bench_error "unknown truth key" 3:8 "has no array 'score'" <<'EOF'
truth:
  path: truth.npz
  key: score
proxy_files:
  - name: run
    path: proxies.npz
output: results
EOF
expect_exit 1 "missing config file" -- "$cscore" bench "$d/none.yaml"
expect_in "missing config named" stderr "$d/none.yaml"
expect_exit 2 "bench without a config" -- "$cscore" bench

# --- figures ----------------------------------------------------------------
if "$python" -c 'import matplotlib' 2>/dev/null; then
    expect_exit 0 "bench draws figures" -- "$cscore" bench \
        --plot-script "$here/../../bench/plot.py" --out "$d/plotted" \
        "$d/bench.yaml"
    for figure in correlations rho_by_epoch learning_speed cscore_histogram \
                  label_noise image_grid; do
        for ext in png svg; do
            [ -s "$d/plotted/$figure.$ext" ] && pass "figure $figure.$ext" ||
                fail "figure $figure.$ext"
        done
    done
else
    expect_exit 0 "bench without matplotlib" -- "$cscore" bench \
        --plot-script "$here/../../bench/plot.py" --out "$d/plotted" \
        "$d/bench.yaml"
    expect_in "plot command printed" stdout "python3-matplotlib"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
