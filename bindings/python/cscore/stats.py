"""Rank statistics for comparing proxies with C-scores.

Each function takes n pairs (x[i], y[i]) as real-valued arrays, converted
to float64 once unless they already are. A pair with a NaN on either side
is dropped, and so is every element outside the subset given by `mask`
(n booleans, True keeps the element) or `indices` (distinct ids in
[0, n)). Where a statistic is undefined (fewer than 2 pairs, a constant
side, a single class for the AUROC) the result is NaN, as in scipy.stats.
"""

import ctypes
from typing import NamedTuple, Optional, Tuple

import numpy as np

from . import _structs as structs
from ._convert import (
    INTEGER_KINDS,
    REAL_KINDS,
    UINT64_RANGE,
    INT32_RANGE,
    address,
    as_c_array,
    as_index,
    require_shape,
    to_numpy,
)
from ._library import lib
from .errors import check

_STATISTICS = {"spearman": 0, "kendall_tau_b": 1, "auroc": 2}


class Interval(NamedTuple):
    """A percentile bootstrap confidence interval."""

    estimate: float  # the statistic on all pairs used
    lower: float  # (1 - confidence) / 2 quantile of the resamples
    upper: float  # (1 + confidence) / 2 quantile of the resamples
    n_used: int  # pairs used after dropping NaN and applying the subset
    resamples: int  # resamples in which the statistic was defined


def _values(value, name: str) -> np.ndarray:
    return as_c_array(value, name, np.float64, 1, REAL_KINDS)


def _pairs(x, y, x_name: str, y_name: str) -> Tuple[np.ndarray, np.ndarray]:
    x_array = _values(x, x_name)
    y_array = _values(y, y_name)
    require_shape(y_array, y_name, (x_array.shape[0],), f"as many values as {x_name}")
    return x_array, y_array


def _subset(mask, indices, n: int):
    """Return (cs_subset or None, arrays to keep alive during the call)."""
    if mask is not None and indices is not None:
        raise ValueError("pass mask or indices, not both")
    if mask is None and indices is None:
        return None, ()
    subset = structs.Subset()
    if mask is not None:
        mask_array = to_numpy(mask, "mask")
        if mask_array.dtype.kind in INTEGER_KINDS:
            mask_array = mask_array != 0
        mask_array = as_c_array(mask_array, "mask", np.bool_, 1, "b")
        require_shape(mask_array, "mask", (n,), "one boolean per element")
        # numpy bools are bytes holding 0 or 1, the layout of the C mask.
        mask_array = mask_array.view(np.uint8)
        subset.mask = address(mask_array)
        return subset, (mask_array,)
    index_array = as_c_array(indices, "indices", np.int64, 1, INTEGER_KINDS)
    subset.indices = address(index_array)
    subset.n_indices = index_array.shape[0]
    return subset, (index_array,)


def _pair_statistic(function, x, y, x_name, y_name, mask, indices) -> float:
    x_array, y_array = _pairs(x, y, x_name, y_name)
    n = x_array.shape[0]
    subset, _keep_alive = _subset(mask, indices, n)
    value = ctypes.c_double()
    n_used = ctypes.c_size_t()
    subset_pointer = ctypes.byref(subset) if subset is not None else None
    check(function(address(x_array), address(y_array), n, subset_pointer, ctypes.byref(value), ctypes.byref(n_used)))
    return value.value


def ranks(values) -> np.ndarray:
    """Return the 1-based ascending ranks of `values` as float64, ties
    sharing their mean rank (scipy.stats.rankdata's "average"); NaN values
    get NaN ranks and are not counted. Negate values for descending ranks."""
    array = _values(values, "values")
    out = np.empty(array.shape[0], dtype=np.float64)
    check(lib.cs_rank_average(address(array), array.shape[0], address(out)))
    return out


def spearman(x, y, *, mask=None, indices=None) -> float:
    """Return Spearman's rank correlation rho of x and y."""
    return _pair_statistic(lib.cs_spearman, x, y, "x", "y", mask, indices)


def kendall_tau_b(x, y, *, mask=None, indices=None) -> float:
    """Return Kendall's tau-b of x and y (exact, O(n log n))."""
    return _pair_statistic(lib.cs_kendall_tau_b, x, y, "x", "y", mask, indices)


def auroc(scores, labels, *, mask=None, indices=None) -> float:
    """Return the area under the ROC curve of `scores` for binary `labels`.

    labels are 0 (negative), 1 (positive) or NaN (dropped); a higher score
    means "more likely positive", and ties count one half. For example,
    auroc(-tracker.cbtl, flipped) measures how well CBTL finds flipped
    labels.
    """
    return _pair_statistic(lib.cs_auroc, scores, labels, "scores", "labels", mask, indices)


def bootstrap_interval(
    statistic: str,
    x,
    y,
    *,
    mask=None,
    indices=None,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Return a percentile bootstrap confidence interval of a statistic.

    Args:
        statistic: "spearman", "kendall_tau_b" or "auroc" (x the scores,
            y the labels).
        resamples: B >= 1 resamples of the pairs, drawn with replacement.
        confidence: the interval's level, in (0, 1).
        seed: seeds the resampling; the same seed and inputs give the same
            interval on every platform.
    """
    if statistic not in _STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; expected one of {', '.join(_STATISTICS)}")
    x_array, y_array = _pairs(x, y, "x", "y")
    n = x_array.shape[0]
    subset, _keep_alive = _subset(mask, indices, n)

    options = structs.BootstrapOptions()
    lib.cs_bootstrap_options_init(ctypes.byref(options))
    options.resamples = as_index(resamples, "resamples", *INT32_RANGE)
    options.confidence = float(confidence)
    options.seed = as_index(seed, "seed", *UINT64_RANGE)

    out = structs.Interval()
    subset_pointer: Optional[object] = ctypes.byref(subset) if subset is not None else None
    check(
        lib.cs_bootstrap_interval(
            _STATISTICS[statistic],
            address(x_array),
            address(y_array),
            n,
            subset_pointer,
            ctypes.byref(options),
            ctypes.byref(out),
        )
    )
    return Interval(out.estimate, out.lower, out.upper, out.n_used, out.resamples)
