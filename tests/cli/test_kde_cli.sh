#!/usr/bin/env bash
# End-to-end checks of `cscore kde` and of `cscore train --kde-epochs`:
# - help and usage errors;
# - scores against a NumPy evaluation on small synthetic data, and the
#   neighbour scores when FAISS is built in;
# - every kind of bad input file, each of which exits 1 and writes nothing;
# - the KDE columns that train adds to proxies.csv and proxies.npz.
# Usage: test_kde_cli.sh PATH_TO_CSCORE
# Exits 77 (skipped) without NumPy under /usr/bin/python3.
set -euo pipefail

cscore=$1
python=/usr/bin/python3
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

expect_absent() {
    if [ ! -e "$2" ]; then pass "$1"; else fail "$1: $2 exists"; fi
}

# check NAME -- PYTHON_CODE: runs Python code that asserts; passes when
# it exits 0.
check() {
    local name=$1
    shift 2
    if "$python" -c "$1" >"$work/python.log" 2>&1; then pass "$name"; else
        fail "$name"; cat "$work/python.log"; fi
}

if ! "$python" -c 'import numpy' 2>/dev/null; then
    echo "skipped: these checks need NumPy in $python (Debian package python3-numpy)"
    exit 77
fi

# --- help and usage errors ------------------------------------------------
expect_exit 0 "kde help" -- "$cscore" kde --help
for text in --features --labels --out --neighbors 'default 10' 'default 16' \
    'default sampled' 'units of the features'; do
    grep -q -- "$text" "$work/stdout" && pass "help mentions '$text'" ||
        fail "help mentions '$text'"
done
grep -q '  kde ' <("$cscore" --help) && pass "kde in the command list" ||
    fail "kde in the command list"
out=$work/usage.npz
expect_exit 2 "missing --features" -- "$cscore" kde --labels x.npy --out "$out"
expect_exit 2 "bad --method" -- "$cscore" kde --features x --labels y --method fast --out "$out"
expect_stderr "bad --method names the option" "--method"
expect_exit 2 "bad --neighbors" -- "$cscore" kde --features x --labels y --neighbors lsh --out "$out"
expect_exit 2 "zero --bandwidth" -- "$cscore" kde --features x --labels y --bandwidth 0 --out "$out"
expect_exit 2 "word --bandwidth" -- "$cscore" kde --features x --labels y --bandwidth wide --out "$out"
expect_exit 2 "zero --k" -- "$cscore" kde --features x --labels y --k 0 --out "$out"
expect_exit 2 "extra argument" -- "$cscore" kde --features x --labels y --out "$out" extra
expect_absent "usage errors write nothing" "$out"

# --- input files ------------------------------------------------------------
"$python" - "$work" <<'EOF'
import sys
import numpy as np

work = sys.argv[1]
rng = np.random.default_rng(5)
n, d = 300, 12
centres = rng.normal(scale=3.0, size=(4, d))
labels = rng.integers(0, 4, size=n)
features = (centres[labels] + rng.normal(size=(n, d))).astype(np.float32)
np.save(f"{work}/f32.npy", features)
np.save(f"{work}/f64.npy", features.astype(np.float64))
np.save(f"{work}/l64.npy", labels.astype(np.int64))
np.save(f"{work}/l32.npy", labels.astype(np.int32))

# Bad files: one problem each.
np.save(f"{work}/short_labels.npy", labels[:-1].astype(np.int64))
with_nan = features.copy()
with_nan[17, 3] = np.nan
np.save(f"{work}/nan.npy", with_nan)
np.save(f"{work}/int_features.npy", features.astype(np.int32))
np.save(f"{work}/float_labels.npy", labels.astype(np.float32))
np.save(f"{work}/flat_features.npy", features.ravel())
np.save(f"{work}/column_labels.npy", labels.reshape(-1, 1))
negative = labels.copy()
negative[9] = -2
np.save(f"{work}/negative_labels.npy", negative)
EOF

# NumPy's reference scores of a .npz written by cscore kde: kernel sums
# over every other example (and over the k nearest with FAISS), divided
# by N, with the bandwidth that cscore reports.
reference_check='
import sys
import numpy as np
work, name, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
x = np.load(f"{work}/f32.npy").astype(np.float64)
y = np.load(f"{work}/l64.npy")
out = np.load(f"{work}/{name}")
n = len(y)
h = float(out["bandwidth"])
d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
kernel = np.exp(-d2 / h**2)
np.fill_diagonal(kernel, 0.0)
same = y[:, None] == y[None, :]
def close(a, b):
    return np.allclose(a, b, rtol=1e-4, atol=1e-7)
assert close(out["kde_free"], kernel.sum(1) / n), "kde_free"
assert close(out["kde_l"], (kernel * same).sum(1) / n), "kde_l"
assert close(out["kde_pm"], (kernel * (2 * same - 1)).sum(1) / n), "kde_pm"
if k > 0:
    np.fill_diagonal(d2, np.inf)
    nearest = np.argsort(d2, axis=1)[:, :k]
    kn = np.take_along_axis(kernel, nearest, 1)
    sn = np.take_along_axis(same, nearest, 1)
    assert close(out["knn_kde_free"], kn.sum(1) / n), "knn_kde_free"
    assert close(out["knn_kde_l"], (kn * sn).sum(1) / n), "knn_kde_l"
    assert close(out["knn_kde_pm"], (kn * (2 * sn - 1)).sum(1) / n), "knn_kde_pm"
    assert close(out["knn_agree"], sn.mean(1)), "knn_agree"
for key in out.files:
    if key != "bandwidth":
        assert out[key].dtype == np.float32, key
        assert out[key].shape == (n,), key
assert out["bandwidth"].shape == ()
assert out["bandwidth"].dtype == np.float64
'

# --- scores against NumPy -------------------------------------------------
expect_exit 0 "exact run" -- "$cscore" kde --features "$work/f32.npy" \
    --labels "$work/l64.npy" --method exact --threads 2 --out "$work/exact.npz"
"$python" -c "$reference_check" "$work" exact.npz 0 >"$work/python.log" 2>&1 &&
    pass "exact scores match NumPy" ||
    { fail "exact scores match NumPy"; cat "$work/python.log"; }
check "exact run has no knn arrays" -- "
import numpy as np
assert sorted(np.load('$work/exact.npz').files) == ['bandwidth', 'kde_free', 'kde_l', 'kde_pm']"

expect_exit 0 "float64 features, int32 labels" -- "$cscore" kde \
    --features "$work/f64.npy" --labels "$work/l32.npy" --out "$work/f64.npz"
check "float64 input gives the same scores" -- "
import numpy as np
a, b = np.load('$work/exact.npz'), np.load('$work/f64.npz')
assert all(np.array_equal(a[k], b[k]) for k in a.files)"

expect_exit 0 "given bandwidth" -- "$cscore" kde --features "$work/f32.npy" \
    --labels "$work/l64.npy" --bandwidth 2.5 --out "$work/h.npz"
check "given bandwidth is written" -- "
import numpy as np
assert float(np.load('$work/h.npz')['bandwidth']) == 2.5"

# --- neighbour scores -------------------------------------------------------
neighbors_built=yes
"$cscore" kde --features "$work/f32.npy" --labels "$work/l64.npy" \
    --neighbors flat --k 5 --out "$work/probe.npz" >/dev/null 2>"$work/stderr" ||
    neighbors_built=no
if [ "$neighbors_built" = no ]; then
    expect_stderr "without FAISS the error says how to get it" "libfaiss-dev"
    expect_absent "without FAISS nothing is written" "$work/probe.npz"
    echo "skipped: neighbour score checks (this cscore was built without FAISS)"
else
    expect_exit 0 "flat neighbours" -- "$cscore" kde --features "$work/f32.npy" \
        --labels "$work/l64.npy" --method exact --neighbors flat --k 7 \
        --out "$work/flat.npz"
    "$python" -c "$reference_check" "$work" flat.npz 7 >"$work/python.log" 2>&1 &&
        pass "flat neighbour scores match NumPy" ||
        { fail "flat neighbour scores match NumPy"; cat "$work/python.log"; }
    grep -q "0 empty neighbour slots" "$work/stdout" && pass "summary line" ||
        fail "summary line"
    # Scanning every IVF list, or HNSW with a wide search, finds the exact
    # neighbours on 300 points.
    expect_exit 0 "ivf neighbours" -- "$cscore" kde --features "$work/f32.npy" \
        --labels "$work/l64.npy" --method exact --neighbors ivf --nlist 8 \
        --nprobe 8 --k 7 --out "$work/ivf.npz"
    "$python" -c "$reference_check" "$work" ivf.npz 7 >"$work/python.log" 2>&1 &&
        pass "ivf neighbour scores match NumPy" ||
        { fail "ivf neighbour scores match NumPy"; cat "$work/python.log"; }
    expect_exit 0 "hnsw neighbours" -- "$cscore" kde --features "$work/f32.npy" \
        --labels "$work/l64.npy" --method exact --neighbors hnsw --hnsw-m 16 \
        --ef-construction 200 --ef-search 300 --k 7 --threads 1 \
        --out "$work/hnsw.npz"
    "$python" -c "$reference_check" "$work" hnsw.npz 7 >"$work/python.log" 2>&1 &&
        pass "hnsw neighbour scores match NumPy" ||
        { fail "hnsw neighbour scores match NumPy"; cat "$work/python.log"; }

    expect_exit 1 "k of N" -- "$cscore" kde --features "$work/f32.npy" \
        --labels "$work/l64.npy" --neighbors flat --k 300 --out "$work/bad.npz"
    expect_stderr "k of N names the value" "--k 300"
    expect_exit 1 "nlist above N" -- "$cscore" kde --features "$work/f32.npy" \
        --labels "$work/l64.npy" --neighbors ivf --nlist 301 --out "$work/bad.npz"
    expect_stderr "nlist above N names the value" "ivf_nlist is 301"
fi

# --- bad input files: exit 1, a message naming the problem, no output -----
bad() {
    local name=$1 features=$2 labels=$3 message=$4
    expect_exit 1 "$name" -- "$cscore" kde --features "$work/$features" \
        --labels "$work/$labels" --out "$work/bad.npz"
    expect_stderr "$name: message" "$message"
}
bad "mismatched N" f32.npy short_labels.npy "has 299 labels but --features has 300"
bad "NaN feature" nan.npy l64.npy "example 17, feature 3 is nan"
bad "integer features" int_features.npy l64.npy "int32 with 2 dimensions"
bad "float labels" f32.npy float_labels.npy "float32 with 1 dimensions"
bad "1-D features" flat_features.npy l64.npy "with 1 dimensions"
bad "2-D labels" f32.npy column_labels.npy "with 2 dimensions"
bad "negative label" f32.npy negative_labels.npy "label 9 is -2"
bad "missing file" nowhere.npy l64.npy "nowhere.npy"
"$python" -c "
import numpy as np
np.save('$work/same.npy', np.ones((10, 3), np.float32))
np.save('$work/same_labels.npy', np.zeros(10, np.int64))"
bad "identical features" same.npy same_labels.npy "bandwidth"
expect_absent "bad input writes nothing" "$work/bad.npz"

# --- cscore train --kde-epochs ---------------------------------------------
if [ ! -f "$data/train-labels-idx1-ubyte.gz" ] && [ ! -f "$data/train-labels-idx1-ubyte" ]; then
    echo "skipped: --kde-epochs checks need Fashion-MNIST in $data" \
        "(Debian package dataset-fashion-mnist)"
else
    run_args=(--data "$data" --first 400 --epochs 3 --seed 3 --threads 1)
    expect_exit 0 "train --kde-epochs 1,3" -- "$cscore" train "${run_args[@]}" \
        --kde-epochs 3,1 --kde-method exact --out "$work/train"
    header=$(head -n 1 "$work/train/proxies.csv")
    [[ $header == *,kde_pm_e1,kde_l_e1,kde_free_e1,kde_pm_e3,kde_l_e3,kde_free_e3 ]] &&
        pass "CSV ends with the KDE columns" || fail "CSV ends with the KDE columns: $header"
    # The last epoch's columns equal `cscore kde` on the features.npy that
    # the run wrote, which are that epoch's features.
    expect_exit 0 "kde of the trained features" -- "$cscore" kde \
        --features "$work/train/features.npy" --labels "$work/train/labels.npy" \
        --method exact --out "$work/trained.npz"
    check "npz columns equal cscore kde" -- "
import numpy as np
p, k = np.load('$work/train/proxies.npz'), np.load('$work/trained.npz')
for s in ('pm', 'l', 'free'):
    assert p[f'kde_{s}_e3'].dtype == np.float32
    assert np.allclose(p[f'kde_{s}_e3'], k[f'kde_{s}'], rtol=1e-6, atol=1e-9), s
    assert p[f'kde_{s}_e1'].shape == (400,)
    assert not np.allclose(p[f'kde_{s}_e1'], p[f'kde_{s}_e3']), s
csv = np.genfromtxt('$work/train/proxies.csv', delimiter=',', names=True)
assert np.allclose(csv['kde_pm_e3'], p['kde_pm_e3'], rtol=1e-6)"

    expect_exit 0 "train default KDE epoch" -- "$cscore" train "${run_args[@]}" \
        --epochs 2 --out "$work/default"
    head -n 1 "$work/default/proxies.csv" | grep -q ',kde_pm_e2,kde_l_e2,kde_free_e2$' &&
        pass "default is the last epoch" || fail "default is the last epoch"
    expect_exit 2 "--kde-epochs past the end" -- "$cscore" train "${run_args[@]}" \
        --kde-epochs 4 --out "$work/late"
    expect_stderr "--kde-epochs past the end names the epoch" "epoch 4"
    expect_exit 2 "--kde-epochs repeated" -- "$cscore" train "${run_args[@]}" \
        --kde-epochs 2,2 --out "$work/late"
    expect_exit 2 "bad --kde-method" -- "$cscore" train "${run_args[@]}" \
        --kde-method fast --out "$work/late"
    expect_absent "train usage errors write nothing" "$work/late"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
