"""Compute the three KDE scores of cs_kde_scores the way a NumPy or PyTorch
user would, and time it.

The script reads what ``bench_kde --save DIR`` wrote: DIR/features.f32
(float32, N x d, raw), DIR/labels.i32 (int32, N, raw) and, when the C
program ran the exact method, DIR/scores_exact.f32 (float32, 3 x N: KDE
+-L, KDE L, class-free). It takes the bandwidth from the command line, so
that both sides compute the same quantity, and times only the scores:

    for each chunk of rows:
        squared distances  |a|^2 + |b|^2 - 2 a.b  (float32 matrix product)
        K = exp(-max(d2, 0) / h^2), with each row's own entry set to 0
        class-free = K.sum(1) / N
        KDE L      = (K * same_label).sum(1) / N
        KDE +-L    = 2 KDE L - class-free

The chunk is sized so that a chunk x N float32 block stays near 256 MB
(the full N x N matrix does not fit for large N). Both libraries use
float32 throughout, as a user handing float32 features would.

Usage, with Debian's interpreter and packages (python3-numpy,
python3-torch):

    /usr/bin/python3 kde_numpy.py DIR --bandwidth H [--library numpy|torch]
        [--threads T] [--repeat R]

Prints key=value lines: seconds (best of the repeats), and, when the C
scores are present, the largest difference from them relative to the
class-free score, per score.

With --check-precision it times nothing. It evaluates the scores in
float64, and again with float32 sums accumulated one term after another,
as a float accumulator in a C loop would. For each, and for the C scores,
it reports how many examples change rank against float64 and by how many
places at most. This is the check behind the double-precision sums in
src/kde/.
"""

import argparse
import os
import sys
import time
from pathlib import Path

# Bytes of one float32 chunk x N block of the kernel matrix.
CHUNK_BYTES = 256 * 1024 * 1024


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path,
                        help="folder written by bench_kde --save")
    parser.add_argument("--bandwidth", type=float, required=True,
                        help="kernel bandwidth h, in the units of the "
                             "features (bench_kde prints it)")
    parser.add_argument("--library", choices=("numpy", "torch"),
                        default="numpy", help="library to time")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for the matrix products")
    parser.add_argument("--repeat", type=int, default=1,
                        help="timed runs; the best is printed")
    parser.add_argument("--check-precision", action="store_true",
                        help="compare float32 and float64 sums instead of "
                             "timing")
    return parser.parse_args()


def load(folder):
    import numpy as np

    labels = np.fromfile(folder / "labels.i32", dtype=np.int32)
    features = np.fromfile(folder / "features.f32", dtype=np.float32)
    n = labels.size
    features = features.reshape(n, features.size // n)
    exact_path = folder / "scores_exact.f32"
    exact = None
    if exact_path.exists():
        exact = np.fromfile(exact_path, dtype=np.float32).reshape(3, n)
    return features, labels, exact


def scores_numpy(features, labels, h):
    import numpy as np

    n = features.shape[0]
    chunk = max(1, CHUNK_BYTES // (4 * n))
    norms = (features * features).sum(axis=1)
    inverse_h2 = np.float32(1.0 / (h * h))
    pm = np.empty(n, np.float32)
    same = np.empty(n, np.float32)
    total = np.empty(n, np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        block = features[start:stop] @ features.T
        block *= -2.0
        block += norms[start:stop, None]
        block += norms[None, :]
        np.maximum(block, 0.0, out=block)
        block *= -inverse_h2
        np.exp(block, out=block)
        rows = np.arange(stop - start)
        block[rows, rows + start] = 0.0
        mask = labels[start:stop, None] == labels[None, :]
        total[start:stop] = block.sum(axis=1)
        same[start:stop] = np.where(mask, block, 0.0).sum(axis=1)
    pm[:] = (2.0 * same - total) / n
    return pm, same / n, total / n


def scores_torch(features, labels, h):
    import torch

    x = torch.from_numpy(features)
    y = torch.from_numpy(labels)
    n = x.shape[0]
    chunk = max(1, CHUNK_BYTES // (4 * n))
    norms = (x * x).sum(dim=1)
    same = torch.empty(n)
    total = torch.empty(n)
    with torch.no_grad():
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            block = torch.addmm(norms[None, :], x[start:stop], x.T,
                                beta=1.0, alpha=-2.0)
            block += norms[start:stop, None]
            block.clamp_(min=0.0).mul_(-1.0 / (h * h)).exp_()
            rows = torch.arange(stop - start)
            block[rows, rows + start] = 0.0
            mask = y[start:stop, None] == y[None, :]
            total[start:stop] = block.sum(dim=1)
            same[start:stop] = (block * mask).sum(dim=1)
    pm = (2.0 * same - total) / n
    return pm.numpy(), (same / n).numpy(), (total / n).numpy()


def scores_float64_and_sequential(features, labels, h):
    """Returns the (KDE +-L, KDE L, class-free) scores in float64, and with
    float32 sums taken one term at a time in index order."""
    import numpy as np

    n = features.shape[0]
    chunk = max(1, CHUNK_BYTES // (8 * n))
    x = features.astype(np.float64)
    norms = (x * x).sum(axis=1)
    exact = np.zeros((2, n))
    sequential = np.zeros((2, n), np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        block = norms[start:stop, None] + norms[None, :] - 2.0 * (
            x[start:stop] @ x.T)
        np.maximum(block, 0.0, out=block)
        kernel = np.exp(-block / (h * h))
        rows = np.arange(stop - start)
        kernel[rows, rows + start] = 0.0
        same = np.where(labels[start:stop, None] == labels[None, :], kernel,
                        0.0)
        exact[0, start:stop] = same.sum(axis=1)
        exact[1, start:stop] = kernel.sum(axis=1)
        # cumsum adds in order, unlike sum's pairwise summation.
        sequential[0, start:stop] = np.cumsum(
            same.astype(np.float32), axis=1, dtype=np.float32)[:, -1]
        sequential[1, start:stop] = np.cumsum(
            kernel.astype(np.float32), axis=1, dtype=np.float32)[:, -1]

    def scores(sums):
        same, total = sums.astype(np.float64)
        return np.stack([(2.0 * same - total) / n, same / n, total / n])

    return scores(exact), scores(sequential)


def check_precision(features, labels, h, c_scores):
    import numpy as np

    def ranks(values):
        order = np.argsort(values, kind="stable")
        result = np.empty(values.size, np.int64)
        result[order] = np.arange(values.size)
        return result

    reference, sequential = scores_float64_and_sequential(features, labels, h)
    candidates = [("float32_sequential", sequential)]
    if c_scores is not None:
        candidates.append(("cscore", c_scores.astype(np.float64)))
    for label, values in candidates:
        for index, name in enumerate(("pm", "l", "free")):
            moved = ranks(values[index]) - ranks(reference[index])
            error = np.abs(values[index] - reference[index]) / np.maximum(
                reference[2], 1e-300)
            print(f"{label}_{name}: ranks_moved={np.count_nonzero(moved)} "
                  f"max_places={np.abs(moved).max()} "
                  f"max_error={error.max():.3g}")


def main():
    args = parse_arguments()
    if args.library == "torch":
        import torch

        torch.set_num_threads(args.threads)
        compute = scores_torch
    else:
        compute = scores_numpy

    features, labels, exact = load(args.folder)
    if args.check_precision:
        check_precision(features, labels, args.bandwidth, exact)
        return 0

    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = compute(features, labels, args.bandwidth)
        best = min(best, time.perf_counter() - start)
    print(f"library={args.library} n={labels.size} dim={features.shape[1]} "
          f"threads={args.threads} seconds={best:.3f}")

    if exact is not None:
        import numpy as np

        scale = np.maximum(exact[2].astype(np.float64), 1e-30)
        for name, ours, theirs in zip(("pm", "l", "free"), exact, result):
            difference = np.abs(ours.astype(np.float64) - theirs) / scale
            print(f"max_difference_{name}={difference.max():.3g}")
    return 0


if __name__ == "__main__":
    # The thread count of NumPy's BLAS is read when NumPy loads, so it is
    # set from --threads before any import of numpy.
    for argument_index, argument in enumerate(sys.argv):
        if argument == "--threads" and argument_index + 1 < len(sys.argv):
            os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[argument_index + 1]
    sys.exit(main())
