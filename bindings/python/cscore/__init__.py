"""cscore: per-example C-score proxies from one training run.

A numpy-first binding of libcscore. A training loop creates a Tracker,
passes it each batch's predictions with the example ids of the rows, and
ends each epoch. The proxies are then numpy arrays ordered by example id:

    tracker = cscore.Tracker(n_examples=60000, n_classes=10)
    for epoch in range(epochs):
        for inputs, labels, ids in loader:
            logits = model(inputs)
            ...
            tracker.observe_batch(logits, labels, ids)
        tracker.end_epoch()
    least_regular = numpy.argsort(tracker.cbtl)[:100]

Arrays of the C dtype that are C-contiguous are read in place; others,
and PyTorch CPU tensors, are converted once. Argument errors raise
TypeError or ValueError naming the argument; failures reported by the
library raise cscore.Error with the library's message and status.

cscore.distributed merges the trackers of torch.distributed ranks.
"""

from ._library import library_path as _library_path
from .errors import Error, Status
from .holdout import HoldoutEstimate, HoldoutSummary, RatioScores, merge_holdout_records
from .io import FASHION_MNIST_DIR, IdxDataset, load_idx_dataset, read_csv_columns, read_npy, read_npz
from .kde import NEIGHBOR_SCORES, SCORES, KdeOptions, KdeResult, kde_bandwidth, kde_query, kde_scores
from .stats import Interval, auroc, bootstrap_interval, kendall_tau_b, ranks, spearman
from .tracker import DEFAULT_PROBABILITY_TOLERANCE, PROXIES, PROXY_DIRECTION, EpochHistory, Tracker

__version__ = "0.1.0"


def library_path() -> str:
    """Return the path or name of the libcscore.so that was loaded."""
    return _library_path


def library_version() -> str:
    """Return the version of the loaded libcscore.so, e.g. "0.1.0"."""
    from ._library import lib

    return lib.cs_version_string().decode()


__all__ = [
    "DEFAULT_PROBABILITY_TOLERANCE",
    "Error",
    "EpochHistory",
    "FASHION_MNIST_DIR",
    "HoldoutEstimate",
    "HoldoutSummary",
    "IdxDataset",
    "Interval",
    "KdeOptions",
    "KdeResult",
    "NEIGHBOR_SCORES",
    "PROXIES",
    "PROXY_DIRECTION",
    "RatioScores",
    "SCORES",
    "Status",
    "Tracker",
    "auroc",
    "bootstrap_interval",
    "kde_bandwidth",
    "kde_query",
    "kde_scores",
    "kendall_tau_b",
    "library_path",
    "library_version",
    "load_idx_dataset",
    "merge_holdout_records",
    "ranks",
    "read_csv_columns",
    "read_npy",
    "read_npz",
    "spearman",
]
