#!/usr/bin/env bash
# Makes the training runs of the Fashion-MNIST correlation bench, then runs
# `cscore bench bench/fashion-mnist.yaml`. Each run uses the first 10,000
# training images, the examples of the ground truth in bench/data/, and the
# trainer's default recipe, which is the recipe of that ground truth.
#
# Usage: bench/fashion-mnist.sh [BUILD_DIR]   (default: build)
#
# Runs go to bench/runs/, results and figures to bench/results/fashion-mnist/.
# Steps that need a feature this build lacks are skipped with a message,
# and the bench skips the files they would have made (they are marked
# optional in the configuration):
# - the label-noise run needs `cscore train --flip-labels`;
# - the neighbour scores need a cscore built with FAISS.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cscore=$build/cscore
runs=$root/bench/runs
python=/usr/bin/python3
train_help=$("$cscore" train --help)

# Same seed and one OpenBLAS thread, so that a rerun gives the same proxies.
common=(--first 10000 --seed 0 --threads 1)

kde_epochs=()
if grep -q -- '--kde-epochs' <<<"$train_help"; then
    kde_epochs=(--kde-epochs 1,2,5,10)
fi
echo "== training run: $runs/fashion-mnist-10k"
"$cscore" train "${common[@]}" "${kde_epochs[@]}" \
    --out "$runs/fashion-mnist-10k"

if grep -q -- '--flip-labels' <<<"$train_help"; then
    echo "== label-noise run: 5% of the labels flipped"
    "$cscore" train "${common[@]}" --flip-labels 0.05 --flip-seed 1 \
        --out "$runs/fashion-mnist-10k-flip5"
else
    echo "== skipped the label-noise run: this cscore train has no" \
         "--flip-labels"
fi

# Input-space density: the same scores on the raw pixels, scaled to [0, 1]
# as the trainer scales them.
echo "== input-space density scores"
"$python" - "$runs/fashion-mnist-10k" <<'EOF'
import gzip, sys
import numpy as np
with gzip.open("/usr/share/datasets/fashion-mnist/"
               "train-images-idx3-ubyte.gz", "rb") as stream:
    pixels = np.frombuffer(stream.read(), np.uint8, offset=16)
pixels = pixels.reshape(-1, 784)[:10000].astype(np.float32) / 255
np.save(f"{sys.argv[1]}/pixels.npy", pixels)
EOF
"$cscore" kde --features "$runs/fashion-mnist-10k/pixels.npy" \
    --labels "$runs/fashion-mnist-10k/labels.npy" --threads 2 \
    --out "$runs/fashion-mnist-10k/kde-input.npz"

echo "== neighbour scores of the last hidden layer"
if ! "$cscore" kde --features "$runs/fashion-mnist-10k/features.npy" \
    --labels "$runs/fashion-mnist-10k/labels.npy" --neighbors flat --k 10 \
    --threads 2 --out "$runs/fashion-mnist-10k/kde-hidden-knn.npz"; then
    echo "== skipped the neighbour scores: this cscore has no FAISS"
fi

echo "== bench"
"$cscore" bench "$root/bench/fashion-mnist.yaml"
