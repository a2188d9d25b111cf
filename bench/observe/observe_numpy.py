"""Time the per-epoch accumulations of cs_observe_epoch written in NumPy.

The script reads the data that ``bench_observe --save DIR`` wrote
(labels.npy, base_logits.npy, boost.npy) and rebuilds each epoch's logits
exactly as the C program did. It then times one vectorised update per epoch
over all N x C logits. The update computes a stable softmax, p_L, p_max and
correctness (the true logit strictly larger than every other, so a tie is
wrong). It accumulates CBTL, forgetting events, the first learned epoch,
the means of p_L and p_max, Welford's variance of p_L, the AUM margin and
EL2N. The first epoch is an untimed warm-up, as in the C program. At the
end the proxies are compared with cscore_results.npz, which the C program
exported.

Two styles of NumPy are timed. ``plain`` is the textbook version: every
step makes a new N x C temporary, the full softmax matrix included.
``tuned`` reuses preallocated buffers (``out=``) and the library's
formulas, such as p_max = 1 / sum(exp(z - max)), so it makes fewer passes
over the logits. Both update the per-example accumulators the same way.

Run it with Debian's /usr/bin/python3 and python3-numpy, on one thread:
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 observe_numpy.py DIR
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# Largest absolute difference accepted between a float proxy of cscore and
# of NumPy. Both compute per-epoch values in float32 and running sums in
# float64. cscore's exp is its own polynomial, not NumPy's, so the last bits
# differ; the runs recorded in bench/README.md stay below 1e-6.
FLOAT_TOLERANCE = 1e-5

INT_PROXIES = ("cbtl", "forgetting", "first_learned")
FLOAT_PROXIES = ("cbtl_frac", "p_l_last", "p_l_mean", "p_max_last",
                 "p_max_mean", "p_l_std", "aum", "el2n")


class NumpyTracker:
    """Per-example accumulators updated once per whole epoch."""

    def __init__(self, labels, n_classes, total_epochs, keep_history):
        n = labels.shape[0]
        self.labels = labels
        self.rows = np.arange(n, dtype=np.int64)
        self.flat_label_index = self.rows * n_classes + labels
        self.epochs = 0

        # Buffers of the tuned style, allocated once.
        self.work = np.empty((n, n_classes), dtype=np.float32)
        self.max_other = np.empty(n, dtype=np.float32)
        self.sum_other = np.empty(n, dtype=np.float32)
        self.sq_other = np.empty(n, dtype=np.float32)

        self.cbtl = np.zeros(n, dtype=np.int32)
        self.forgetting = np.zeros(n, dtype=np.int32)
        self.first_learned = np.full(n, -1, dtype=np.int32)
        self.last_correct = np.zeros(n, dtype=bool)
        self.p_l_last = np.zeros(n, dtype=np.float32)
        self.p_max_last = np.zeros(n, dtype=np.float32)
        self.el2n_last = np.zeros(n, dtype=np.float32)
        self.p_l_mean = np.zeros(n, dtype=np.float64)
        self.p_l_m2 = np.zeros(n, dtype=np.float64)
        self.p_max_sum = np.zeros(n, dtype=np.float64)
        self.margin_sum = np.zeros(n, dtype=np.float64)

        self.history = None
        if keep_history:
            self.history = {
                "hist_correct": np.zeros((total_epochs, n), dtype=np.uint8),
                "hist_p_l": np.zeros((total_epochs, n), dtype=np.float32),
                "hist_p_max": np.zeros((total_epochs, n), dtype=np.float32),
            }

    def row_stats_tuned(self, logits):
        """Return correct, p_L, p_max, margin and EL2N, using preallocated buffers.

        The formulas are the library's. The true label's exp is summed apart
        from the others, so 1 - p_L stays accurate when p_L is close to 1,
        and p_max = 1 / sum(exp(z - max)) because the largest term is 1.
        """
        work = self.work
        flat_work = work.reshape(-1)
        index = self.flat_label_index

        # Largest logit among the other classes: hide the true label.
        z_label = logits.reshape(-1)[index]
        np.copyto(work, logits)
        flat_work[index] = -np.inf
        np.max(work, axis=1, out=self.max_other)
        shift = np.maximum(z_label, self.max_other)

        np.subtract(logits, shift[:, None], out=work)
        np.exp(work, out=work)
        e_label = flat_work[index]
        flat_work[index] = 0.0
        np.sum(work, axis=1, out=self.sum_other)
        np.einsum("ij,ij->i", work, work, out=self.sq_other)
        total = self.sum_other + e_label

        correct = z_label > self.max_other
        p_l = e_label / total
        p_max = 1.0 / total
        margin = z_label - self.max_other
        el2n = np.sqrt(self.sum_other * self.sum_other + self.sq_other) / total
        return correct, p_l, p_max, margin, el2n

    def row_stats_plain(self, logits):
        """Return correct, p_L, p_max, margin and EL2N in textbook NumPy.

        Every step makes a new N x C temporary, the full softmax matrix
        included, and EL2N is the norm of softmax minus the one-hot label.
        """
        rows = self.rows
        labels = self.labels

        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probabilities = exp / exp.sum(axis=1, keepdims=True)
        p_l = probabilities[rows, labels]
        p_max = probabilities.max(axis=1)

        z_label = logits[rows, labels]
        others = logits.copy()
        others[rows, labels] = -np.inf
        max_other = others.max(axis=1)
        correct = z_label > max_other
        margin = z_label - max_other

        residual = probabilities.copy()
        residual[rows, labels] -= 1.0
        el2n = np.linalg.norm(residual, axis=1)
        return correct, p_l, p_max, margin, el2n

    def observe_epoch(self, logits, style):
        """Add one epoch of N x C float32 logits to the accumulators."""
        if style == "tuned":
            stats = self.row_stats_tuned(logits)
        else:
            stats = self.row_stats_plain(logits)
        correct, p_l, p_max, margin, el2n = stats

        self.epochs += 1
        epoch = self.epochs
        self.cbtl += correct
        self.forgetting += self.last_correct & ~correct
        newly_learned = correct & (self.first_learned < 0)
        self.first_learned[newly_learned] = epoch
        self.last_correct = correct

        self.p_l_last = p_l
        self.p_max_last = p_max
        self.el2n_last = el2n
        # Welford's update of the mean and variance of p_L.
        delta = p_l - self.p_l_mean
        self.p_l_mean += delta / epoch
        self.p_l_m2 += delta * (p_l - self.p_l_mean)
        self.p_max_sum += p_max
        self.margin_sum += margin

        if self.history is not None:
            self.history["hist_correct"][epoch - 1] = correct
            self.history["hist_p_l"][epoch - 1] = p_l
            self.history["hist_p_max"][epoch - 1] = p_max

    def proxies(self):
        """Return the final proxies under cscore's export names."""
        epochs = self.epochs
        result = {
            "cbtl": self.cbtl,
            "forgetting": self.forgetting,
            "first_learned": self.first_learned,
            "cbtl_frac": self.cbtl / epochs,
            "p_l_last": self.p_l_last,
            "p_l_mean": self.p_l_mean,
            "p_max_last": self.p_max_last,
            "p_max_mean": self.p_max_sum / epochs,
            "p_l_std": np.sqrt(self.p_l_m2 / epochs),
            "aum": self.margin_sum / epochs,
            "el2n": self.el2n_last,
        }
        if self.history is not None:
            result.update(self.history)
        return result


def compare(numpy_results, cscore_results, verbose):
    """Compare NumPy's proxies with cscore's; return a summary line and a verdict.

    Integer proxies, and with history the per-epoch correctness, must be
    equal. Float proxies must be within FLOAT_TOLERANCE.
    """
    mismatches = 0
    for name in INT_PROXIES + ("hist_correct",):
        if name not in cscore_results or name not in numpy_results:
            continue
        count = int(np.count_nonzero(cscore_results[name] != numpy_results[name]))
        mismatches += count
        if verbose:
            print(f"  {name:<14} {count} examples differ")

    largest, worst = 0.0, ""
    for name in FLOAT_PROXIES + ("hist_p_l", "hist_p_max"):
        if name not in cscore_results or name not in numpy_results:
            continue
        difference = float(np.max(np.abs(
            cscore_results[name].astype(np.float64) - numpy_results[name])))
        if verbose:
            print(f"  {name:<14} max abs difference {difference:.2e}")
        if difference >= largest:
            largest, worst = difference, name

    agree = mismatches == 0 and largest <= FLOAT_TOLERANCE
    return (f"agreement={'yes' if agree else 'no'} "
            f"integer_mismatches={mismatches} "
            f"max_abs_difference={largest:.2e} worst={worst}"), agree


def load_data(folder):
    """Return labels, base logits and boosts from bench_observe --save."""
    labels = np.load(folder / "labels.npy")
    base = np.load(folder / "base_logits.npy")
    boost = np.load(folder / "boost.npy")
    n, n_classes = base.shape
    if (base.dtype != np.float32 or labels.dtype != np.int32
            or boost.dtype != np.float32 or labels.shape != (n,)
            or boost.ndim != 2 or boost.shape[1] != n or boost.shape[0] < 2):
        raise SystemExit(f"observe_numpy: the arrays in {folder} do not match "
                         "what bench_observe --save writes; rerun it")
    return labels, base, boost


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path,
                        help="folder written by bench_observe --save")
    parser.add_argument("--style", choices=("plain", "tuned"), default="tuned",
                        help="plain: textbook NumPy with temporaries; tuned: "
                        "preallocated buffers and the library's formulas "
                        "(default)")
    parser.add_argument("--verbose", action="store_true",
                        help="print the difference of every proxy")
    args = parser.parse_args()

    labels, base, boost = load_data(args.data)
    with np.load(args.data / "cscore_results.npz") as archive:
        cscore_results = {name: archive[name] for name in archive.files}
    keep_history = "hist_p_l" in cscore_results

    n, n_classes = base.shape
    total_epochs = boost.shape[0]
    tracker = NumpyTracker(labels, n_classes, total_epochs, keep_history)
    logits = np.empty_like(base)
    flat_index = tracker.flat_label_index

    seconds = []
    for epoch in range(total_epochs):
        # The same single float32 addition as fill_epoch_logits() in C.
        np.copyto(logits, base)
        logits.reshape(-1)[flat_index] += boost[epoch]

        start = time.perf_counter_ns()
        tracker.observe_epoch(logits, args.style)
        elapsed = time.perf_counter_ns() - start
        if epoch > 0:
            seconds.append(elapsed * 1e-9)

    print(f"NumPy {np.__version__} ({args.style}), {n} x {n_classes} float32 "
          f"logits, {total_epochs - 1} timed epochs after 1 warm-up, "
          f"history {'on' if keep_history else 'off'}")
    summary, agree = compare(tracker.proxies(), cscore_results, args.verbose)

    seconds = np.array(seconds)
    mean, median, best = seconds.mean(), np.median(seconds), seconds.min()
    ns_scale = 1e9 / (n * n_classes)
    print(f"time per epoch        {1e3 * mean:.3f} ms mean, "
          f"{1e3 * median:.3f} ms median, {1e3 * best:.3f} ms best")
    print(summary)
    print(f"ns_per_logit_mean={ns_scale * mean:.4f} "
          f"ns_per_logit_median={ns_scale * median:.4f} "
          f"ns_per_logit_best={ns_scale * best:.4f}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
