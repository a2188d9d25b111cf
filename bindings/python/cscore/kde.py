"""Hidden-space density proxies (kernel density scores).

For N examples with feature rows x_i and labels y_i, with the kernel
K(a, b) = exp(-||a - b||^2 / h^2) and sums over j != i:

    kde_pm[i]   = (1/N) sum_j (2 [y_i = y_j] - 1) K(x_i, x_j)   KDE +-L
    kde_l[i]    = (1/N) sum_j [y_i = y_j] K(x_i, x_j)           KDE L
    kde_free[i] = (1/N) sum_j K(x_i, x_j)                       class-free

A higher value marks a more regular example. The default bandwidth h is
half the mean Euclidean distance over pairs. Builds with FAISS also give
scores over the k nearest neighbours (knn_kde_pm, knn_kde_l, knn_kde_free,
knn_agree); without FAISS, requesting them raises Error with status
E_UNSUPPORTED. include/cscore.h documents the methods, memory and
precision in full.
"""

import ctypes
import dataclasses
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from . import _structs as structs
from ._convert import (
    FLOAT_KINDS,
    INT32_RANGE,
    INT64_RANGE,
    INTEGER_KINDS,
    UINT64_RANGE,
    address,
    as_c_array,
    as_index,
    require_shape,
)
from ._library import lib
from .errors import check

#: The kernel sums over every other example.
SCORES = ("kde_pm", "kde_l", "kde_free")
#: The sums over the k nearest neighbours, and their label agreement.
NEIGHBOR_SCORES = ("knn_kde_pm", "knn_kde_l", "knn_kde_free", "knn_agree")
_NEEDS_LABELS = frozenset({"kde_pm", "kde_l", "knn_kde_pm", "knn_kde_l", "knn_agree"})

_METHODS = {"exact": 0, "sampled": 1}
_NEIGHBOR_INDEXES = {"flat": 0, "ivf": 1, "hnsw": 2}


@dataclasses.dataclass(frozen=True)
class KdeOptions:
    """Options of the density functions; None keeps the library's default.

    Attributes:
        method: "exact" (every pair) or "sampled" (a stratified random
            reference set of about reference_size examples).
        bandwidth: h > 0 in the units of the features; None for half the
            mean pairwise distance.
        reference_size: "sampled": the reference set's size (default 5,000).
        bandwidth_pairs: pairs sampled for the automatic bandwidth when N is
            above bandwidth_exact_limit (default 200,000).
        bandwidth_exact_limit: largest N whose automatic bandwidth averages
            over every pair (default 5,000).
        seed: seeds the reference set and the sampled pairs (default 0).
        tile_size: rows per tile, 1 .. 4096 (default 512).
        threads: worker threads; 0 uses one per online CPU (default 0).
        neighbor_index: "flat", "ivf" or "hnsw", the FAISS index that finds
            the neighbours for the knn_ scores (default "flat").
        neighbors: k for the knn_ scores (default 10).
        ivf_nlist, ivf_nprobe: IVF lists (0 for round(sqrt(N))) and lists
            scanned per query (default 8).
        hnsw_m, hnsw_ef_construction, hnsw_ef_search: HNSW links per row
            and candidates per insertion and per query (defaults 32, 40, 64).
    """

    method: str = "exact"
    bandwidth: Optional[float] = None
    reference_size: Optional[int] = None
    bandwidth_pairs: Optional[int] = None
    bandwidth_exact_limit: Optional[int] = None
    seed: Optional[int] = None
    tile_size: Optional[int] = None
    threads: Optional[int] = None
    neighbor_index: str = "flat"
    neighbors: Optional[int] = None
    ivf_nlist: Optional[int] = None
    ivf_nprobe: Optional[int] = None
    hnsw_m: Optional[int] = None
    hnsw_ef_construction: Optional[int] = None
    hnsw_ef_search: Optional[int] = None


# Integer fields of KdeOptions and the range of their C types.
_INTEGER_FIELDS = {
    "reference_size": INT64_RANGE,
    "bandwidth_pairs": INT64_RANGE,
    "bandwidth_exact_limit": INT64_RANGE,
    "seed": UINT64_RANGE,
    "tile_size": INT32_RANGE,
    "threads": INT32_RANGE,
    "neighbors": INT64_RANGE,
    "ivf_nlist": INT64_RANGE,
    "ivf_nprobe": INT64_RANGE,
    "hnsw_m": INT32_RANGE,
    "hnsw_ef_construction": INT32_RANGE,
    "hnsw_ef_search": INT32_RANGE,
}


@dataclasses.dataclass
class KdeResult:
    """Scores and figures of one call; result["kde_pm"] reads a score."""

    scores: Dict[str, np.ndarray]  # requested output name -> float32 array
    bandwidth: float  # h used
    bandwidth_se: float  # standard error of h; 0 when given or exact
    reference_count: int  # reference examples summed over
    knn_missing: int  # neighbour slots an approximate index left empty

    def __getitem__(self, name: str) -> np.ndarray:
        return self.scores[name]


def _resolve_options(options: Optional[KdeOptions], overrides: dict) -> KdeOptions:
    if options is None:
        options = KdeOptions()
    elif not isinstance(options, KdeOptions):
        raise TypeError(f"options must be a cscore.KdeOptions; got {type(options).__name__}")
    try:
        return dataclasses.replace(options, **overrides)
    except TypeError:
        known = ", ".join(field.name for field in dataclasses.fields(KdeOptions))
        unknown = ", ".join(sorted(set(overrides) - {f.name for f in dataclasses.fields(KdeOptions)}))
        raise TypeError(f"unknown option {unknown}; the options are {known}") from None


def _c_options(options: KdeOptions) -> structs.KdeOptions:
    c_options = structs.KdeOptions()
    lib.cs_kde_options_init(ctypes.byref(c_options))
    if options.method not in _METHODS:
        raise ValueError(f"method is {options.method!r}; use 'exact' or 'sampled'")
    c_options.method = _METHODS[options.method]
    if options.neighbor_index not in _NEIGHBOR_INDEXES:
        raise ValueError(f"neighbor_index is {options.neighbor_index!r}; use 'flat', 'ivf' or 'hnsw'")
    c_options.neighbor_index = _NEIGHBOR_INDEXES[options.neighbor_index]
    if options.bandwidth is not None:
        try:
            c_options.bandwidth = float(options.bandwidth)
        except (TypeError, ValueError):
            raise TypeError(f"bandwidth must be a number; got {type(options.bandwidth).__name__}") from None
    for name, (low, high) in _INTEGER_FIELDS.items():
        value = getattr(options, name)
        if value is not None:
            setattr(c_options, name, as_index(value, name, low, high))
    return c_options


def _points(features, labels, features_name: str, labels_name: str):
    """Return (cs_examples, arrays kept alive) for one set of rows."""
    feature_array = as_c_array(features, features_name, np.float32, 2, FLOAT_KINDS)
    label_array = None
    if labels is not None:
        label_array = as_c_array(labels, labels_name, np.int32, 1, INTEGER_KINDS)
        require_shape(label_array, labels_name, (feature_array.shape[0],), f"one label per row of {features_name}")
    examples = structs.Examples()
    examples.inputs = address(feature_array)
    examples.labels = address(label_array)
    examples.n = feature_array.shape[0]
    examples.n_inputs = as_index(feature_array.shape[1], f"{features_name}.shape[1]", *INT32_RANGE)
    return examples, (feature_array, label_array)


def _check_outputs(outputs: Iterable[str], labelled: bool) -> Tuple[str, ...]:
    if isinstance(outputs, str):
        outputs = (outputs,)
    names = tuple(outputs)
    if not names:
        raise ValueError("outputs is empty; request at least one score")
    for name in names:
        if name not in SCORES and name not in NEIGHBOR_SCORES:
            raise ValueError(f"unknown output {name!r}; expected names from {SCORES + NEIGHBOR_SCORES}")
        if name in _NEEDS_LABELS and not labelled:
            raise ValueError(f"output {name!r} needs labels; pass labels or request only kde_free")
    return names


def _default_classes(n_classes, *label_arrays) -> int:
    if n_classes is not None:
        return as_index(n_classes, "n_classes", *INT32_RANGE)
    given = [labels for labels in label_arrays if labels is not None and labels.size > 0]
    if not given:
        return 0
    # Negative labels are left to the library, which names the first one,
    # or with all labels negative rejects the resulting n_classes of 0.
    return max(0, max(int(labels.max()) for labels in given) + 1)


def _result(names: Tuple[str, ...], n: int) -> Tuple[structs.KdeResult, Dict[str, np.ndarray]]:
    result = structs.KdeResult()
    lib.cs_kde_result_init(ctypes.byref(result))
    result.n = n
    scores = {}
    for name in names:
        scores[name] = np.empty(n, dtype=np.float32)
        setattr(result, name, address(scores[name]))
    return result, scores


def _finish(result: structs.KdeResult, scores: Dict[str, np.ndarray]) -> KdeResult:
    return KdeResult(scores, result.bandwidth, result.bandwidth_se, result.reference_count, result.knn_missing)


def kde_scores(
    features,
    labels=None,
    *,
    n_classes: Optional[int] = None,
    outputs: Iterable[str] = SCORES,
    options: Optional[KdeOptions] = None,
    **option_fields,
) -> KdeResult:
    """Compute the density scores of every example among the others.

    Args:
        features: N x d feature rows (float32 is used as is), N >= 2.
        labels: N integer labels, or None when only kde_free and
            knn_kde_free are requested.
        n_classes: C; by default 1 + the largest label.
        outputs: names from SCORES and NEIGHBOR_SCORES to compute.
        options: a KdeOptions; keyword arguments (method="sampled",
            bandwidth=..., ...) override its fields.

    Returns:
        A KdeResult whose scores map each requested name to N float32
        values, score i for example i.
    """
    c_options = _c_options(_resolve_options(options, option_fields))
    examples, kept = _points(features, labels, "features", "labels")
    names = _check_outputs(outputs, labels is not None)
    classes = _default_classes(n_classes, kept[1])
    result, scores = _result(names, examples.n)
    check(lib.cs_kde_scores(ctypes.byref(examples), classes, ctypes.byref(c_options), ctypes.byref(result)))
    return _finish(result, scores)


def kde_query(
    reference_features,
    reference_labels,
    query_features,
    query_labels=None,
    *,
    n_classes: Optional[int] = None,
    outputs: Iterable[str] = SCORES,
    options: Optional[KdeOptions] = None,
    **option_fields,
) -> KdeResult:
    """Score new points against a reference set of N examples.

    The sums run over every reference example and are divided by N. The
    automatic bandwidth here comes from the reference set alone, so pass
    the bandwidth that kde_scores() reported on the reference set to
    compare query scores with the reference's own. reference_labels and
    query_labels (given or predicted) are needed for the labelled scores
    and may be None otherwise. Other arguments as kde_scores().
    """
    c_options = _c_options(_resolve_options(options, option_fields))
    reference, kept_reference = _points(reference_features, reference_labels, "reference_features", "reference_labels")
    queries, kept_queries = _points(query_features, query_labels, "query_features", "query_labels")
    labelled = reference_labels is not None and query_labels is not None
    names = _check_outputs(outputs, labelled)
    classes = _default_classes(n_classes, kept_reference[1], kept_queries[1])
    result, scores = _result(names, queries.n)
    check(
        lib.cs_kde_query(
            ctypes.byref(reference), classes, ctypes.byref(queries), ctypes.byref(c_options), ctypes.byref(result)
        )
    )
    return _finish(result, scores)


def kde_bandwidth(
    features, *, options: Optional[KdeOptions] = None, **option_fields
) -> Tuple[float, float]:
    """Return (h, standard error of h): the automatic bandwidth of
    kde_scores(), half the mean distance between feature rows. The
    standard error is 0 when every pair was used."""
    c_options = _c_options(_resolve_options(options, option_fields))
    examples, _kept = _points(features, None, "features", "labels")
    bandwidth = ctypes.c_double()
    standard_error = ctypes.c_double()
    check(
        lib.cs_kde_bandwidth(
            ctypes.byref(examples), ctypes.byref(c_options), ctypes.byref(bandwidth), ctypes.byref(standard_error)
        )
    )
    return bandwidth.value, standard_error.value
