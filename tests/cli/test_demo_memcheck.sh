#!/usr/bin/env bash
# Runs the demo's job, `cscore train` with its KDE scores and exports, on a
# small subset of Fashion-MNIST under valgrind memcheck. Fails on any
# memcheck error and on any definite leak. Leaks that valgrind files as
# "possibly lost" or "still reachable" (OpenBLAS's thread pool, libgomp)
# are not counted.
#
# usage: test_demo_memcheck.sh PATH_TO_CSCORE [DATA_DIR]
# DATA_DIR defaults to Debian's /usr/share/datasets/fashion-mnist. Exits 77
# (skipped), with the reason, when valgrind or the data set is missing.
set -euo pipefail

cscore=$1
data=${2:-/usr/share/datasets/fashion-mnist}
# Examples kept from each of the training and test files. Memcheck slows
# the program down many times over, so the subset and the network are
# small. The code paths are those of the full demo.
keep=256

skip() {
    echo "test_demo_memcheck: skipped: $*"
    exit 77
}
command -v valgrind >/dev/null ||
    skip "valgrind is not installed (Debian package valgrind)"
[[ -r $data/train-images-idx3-ubyte.gz ]] ||
    skip "no Fashion-MNIST in $data (Debian package dataset-fashion-mnist)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Writes the first $keep records of IDX file $1 (gzip) to $2 (plain), with
# the record count in the header (bytes 4 to 7, big-endian) set to $keep.
# $3 is the header size in bytes and $4 the size of one record.
cut_idx() {
    local source=$1 target=$2 header=$3 record=$4
    local count
    # head closes the pipe early, so zcat ends on SIGPIPE, as expected.
    local -
    set +o pipefail
    count=$(printf '%08x' "$keep")
    {
        zcat "$source" | head -c 4
        printf '%b' "\\x${count:0:2}\\x${count:2:2}\\x${count:4:2}\\x${count:6:2}"
        zcat "$source" | head -c $((header + keep * record)) | tail -c +9
    } >"$target"
}

mkdir "$work/data"
for set in train t10k; do
    cut_idx "$data/$set-images-idx3-ubyte.gz" \
        "$work/data/$set-images-idx3-ubyte" 16 784
    cut_idx "$data/$set-labels-idx1-ubyte.gz" \
        "$work/data/$set-labels-idx1-ubyte" 8 1
done

# --error-exitcode makes any memcheck error, definite leaks included by
# --errors-for-leak-kinds, fail the run with status 99.
status=0
valgrind --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --track-origins=yes --log-file="$work/memcheck.log" \
    "$cscore" train --data "$work/data" --epochs 2 --hidden 64,32 \
    --threads 2 --out "$work/out" >"$work/train.log" 2>&1 || status=$?

if ((status != 0)); then
    cat "$work/train.log" "$work/memcheck.log"
    echo "test_demo_memcheck: FAIL: cscore train under memcheck exited" \
        "with status $status (99: memcheck found errors, listed above)"
    exit 1
fi
for file in proxies.csv proxies.npz features.npy labels.npy; do
    [[ -s $work/out/$file ]] || {
        echo "test_demo_memcheck: FAIL: $file was not written"
        exit 1
    }
done
grep -E 'ERROR SUMMARY|definitely lost' "$work/memcheck.log"
echo "test_demo_memcheck: ok"
