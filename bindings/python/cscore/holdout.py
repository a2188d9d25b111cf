"""Holdout estimates (ground-truth C-scores) merged from record files.

`cscore holdout` appends one record per trained run to a record file. The
functions here read such files, from one job or many, and turn the counts
into per-example arrays. At ratio R, the score of example j is the share
of the runs that held j out in which the model predicted j's label.
"""

import ctypes
import os
import threading
import weakref
from typing import Dict, NamedTuple, Tuple

import numpy as np

from . import _structs as structs
from ._convert import INT32_RANGE, address, as_index
from ._library import lib
from ._paths import encode_path
from .errors import check

_MAX_RATIOS = 99


class HoldoutSummary(NamedTuple):
    """Figures of an estimate since it was created."""

    runs_planned: int  # -1 for an estimate read from record files
    runs_done: int  # counted runs
    records_read: int  # valid records read from record files
    records_duplicate: int  # of those, runs already counted once
    records_outside: int  # of those, runs outside the plan
    records_torn: int  # torn last records skipped
    train_seconds: float  # seconds inside the trainer, summed over runs
    overhead_seconds: float  # seconds outside the trainer, summed over runs


class RatioScores(NamedTuple):
    """Per-example results of one ratio, each of length N."""

    score: np.ndarray  # float64: mean correctness when held out, NaN if never
    count: np.ndarray  # int32: runs that held the example out
    se: np.ndarray  # float64: binomial standard error, NaN when count is 0


class HoldoutEstimate:
    """Counts of a holdout estimate, read from record files.

    Create one with merge_holdout_records(). A run found in several files
    counts once, and a torn last record (a file still being written) is
    skipped. The files are only read.
    """

    def __init__(self, path):
        handle = ctypes.c_void_p()
        check(lib.cs_holdout_create_from_records(encode_path(path), ctypes.byref(handle)))
        self._handle = handle.value
        self._lock = threading.Lock()
        weakref.finalize(self, lib.cs_holdout_free, self._handle)
        self.n_examples = lib.cs_holdout_n_examples(self._handle)

    def merge_records(self, path) -> None:
        """Count the runs of another record file of the same estimate.

        Raises Error with E_RECORDS_MISMATCH when the file belongs to
        another estimate (other examples, labels, master seed or recipe).
        """
        with self._lock:
            check(lib.cs_holdout_merge_records(self._handle, encode_path(path)))

    @property
    def recipe(self) -> str:
        """The text naming the trainer and its settings."""
        with self._lock:
            return lib.cs_holdout_recipe(self._handle).decode()

    @property
    def ratios(self) -> Tuple[int, ...]:
        """Ratios (whole percents) with at least one counted run, ascending."""
        out = np.empty(_MAX_RATIOS, dtype=np.int32)
        count = ctypes.c_size_t()
        with self._lock:
            check(lib.cs_holdout_ratios(self._handle, address(out), _MAX_RATIOS, ctypes.byref(count)))
        return tuple(int(ratio) for ratio in out[: count.value])

    @property
    def summary(self) -> HoldoutSummary:
        """Counts of runs and records, and the time spent."""
        summary = structs.HoldoutSummary()
        summary.struct_size = ctypes.sizeof(summary)
        with self._lock:
            check(lib.cs_holdout_get_summary(self._handle, ctypes.byref(summary)))
        return HoldoutSummary(*(getattr(summary, name) for name in HoldoutSummary._fields))

    def scores(self, ratio: int) -> RatioScores:
        """Return the per-example score, held-out count and standard error
        at `ratio` (one of self.ratios)."""
        ratio = as_index(ratio, "ratio", *INT32_RANGE)
        n = self.n_examples
        score = np.empty(n, dtype=np.float64)
        count = np.empty(n, dtype=np.int32)
        se = np.empty(n, dtype=np.float64)
        with self._lock:
            check(lib.cs_holdout_scores(self._handle, ratio, address(score), address(count), address(se), n))
        return RatioScores(score, count, se)

    def integral(self) -> Tuple[np.ndarray, np.ndarray]:
        """Return (integral, heldout_count): the mean over ratios of the
        scores that are not NaN (float64), and the held-out counts summed
        over ratios (int32)."""
        n = self.n_examples
        integral = np.empty(n, dtype=np.float64)
        heldout = np.empty(n, dtype=np.int32)
        with self._lock:
            check(lib.cs_holdout_integral(self._handle, address(integral), address(heldout), n))
        return integral, heldout

    def counts(self, ratio: int) -> Tuple[np.ndarray, np.ndarray, int]:
        """Return (heldout, correct, runs) of `ratio`: per example the runs
        that held it out and those of them that predicted it correctly
        (int32), and the number of runs counted."""
        ratio = as_index(ratio, "ratio", *INT32_RANGE)
        n = self.n_examples
        heldout = np.empty(n, dtype=np.int32)
        correct = np.empty(n, dtype=np.int32)
        runs = ctypes.c_int64()
        with self._lock:
            check(
                lib.cs_holdout_counts(self._handle, ratio, address(heldout), address(correct), n, ctypes.byref(runs))
            )
        return heldout, correct, runs.value

    def to_dict(self) -> Dict[str, np.ndarray]:
        """Return the arrays of `cscore holdout`'s .npz without labels:
        score_sR, count_sR, se_sR for each ratio R, integral and
        heldout_count."""
        table: Dict[str, np.ndarray] = {}
        for ratio in self.ratios:
            result = self.scores(ratio)
            table[f"score_s{ratio}"] = result.score
            table[f"count_s{ratio}"] = result.count
            table[f"se_s{ratio}"] = result.se
        table["integral"], table["heldout_count"] = self.integral()
        return table

    def to_npz(self, path) -> None:
        """Write the .npz that `cscore holdout` writes, labels included."""
        with self._lock:
            check(lib.cs_holdout_export_npz(self._handle, encode_path(path)))


def merge_holdout_records(*paths) -> HoldoutEstimate:
    """Read one or more record files of the same estimate into one.

    Accepts paths as separate arguments or as one list.
    """
    if len(paths) == 1 and not isinstance(paths[0], (str, bytes, os.PathLike)):
        paths = tuple(paths[0])
    if not paths:
        raise ValueError("merge_holdout_records() needs at least one record file")
    estimate = HoldoutEstimate(paths[0])
    for path in paths[1:]:
        estimate.merge_records(path)
    return estimate
