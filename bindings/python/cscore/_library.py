"""Finding, loading and declaring libcscore.so.

The library is looked up in this order, and the first hit wins:

1. the path in the environment variable CSCORE_LIBRARY (when it is set,
   nothing else is tried, so a wrong path fails instead of silently loading
   another copy);
2. the build tree, when the package is used in place from a clone:
   bindings/python/cscore/ -> <clone>/build/libcscore.so;
3. the copy bundled into an installed package (cscore/_lib/);
4. the system's library search path (ctypes.util.find_library("cscore")),
   e.g. after `cmake --install build` and `ldconfig`.
"""

import ctypes
import ctypes.util
import os
from ctypes import (
    POINTER,
    c_char_p,
    c_double,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from . import _structs as s

ENVIRONMENT_VARIABLE = "CSCORE_LIBRARY"

# The major version this package was written against. The C library keeps
# its ABI within one major version (SONAME libcscore.so.<major>).
EXPECTED_MAJOR = 0

_PACKAGE_DIR = Path(__file__).resolve().parent


def _build_tree_library() -> Optional[Path]:
    """Return <clone>/build/libcscore.so when this package sits in a clone."""
    bindings = _PACKAGE_DIR.parent.parent
    if _PACKAGE_DIR.parent.name != "python" or bindings.name != "bindings":
        return None
    return bindings.parent / "build" / "libcscore.so"


def _candidates() -> Iterator[Tuple[str, str]]:
    """Yield (how it was found, path or name) in lookup order."""
    from_environment = os.environ.get(ENVIRONMENT_VARIABLE)
    if from_environment:
        yield ENVIRONMENT_VARIABLE, from_environment
        return

    in_place = _build_tree_library()
    if in_place is not None and in_place.exists():
        yield "build tree", str(in_place)

    for bundled in sorted((_PACKAGE_DIR / "_lib").glob("libcscore.so*")):
        yield "bundled copy", str(bundled)

    system = ctypes.util.find_library("cscore")
    if system:
        yield "system library path", system


def _load() -> Tuple[ctypes.CDLL, str]:
    tried: List[str] = []
    for how, where in _candidates():
        try:
            return ctypes.CDLL(where), where
        except OSError as error:
            tried.append(f"{how}: {where} ({error})")
    found = "tried " + "; ".join(tried) if tried else "found none in the build tree, the package or the system library path"
    raise ImportError(
        f"cannot load libcscore.so: {found}. Build it with CMake (build/libcscore.so), set {ENVIRONMENT_VARIABLE} "
        "to its path, or install the package with the library bundled "
        "(see bindings/python/README.md)."
    )


# Prototypes: name -> (return type, argument types). Arrays are passed as
# addresses (c_void_p), so the caller's buffers go to C without a copy.
_H = c_void_p  # opaque handle
_P = c_void_p  # array address
_OUT_H = POINTER(c_void_p)  # handle output
_S = c_int  # cs_status

_PROTOTYPES = {
    "cs_version_number": (c_int, []),
    "cs_version_string": (c_char_p, []),
    "cs_status_name": (c_char_p, [c_int]),
    "cs_strerror": (c_char_p, [c_int]),
    "cs_last_error": (POINTER(s.ErrorInfo), []),
    "cs_last_error_message": (c_char_p, []),
    # proxies
    "cs_proxy_name": (c_char_p, [c_int]),
    "cs_proxy_direction": (c_int, [c_int]),
    "cs_proxy_is_integer": (c_int, [c_int]),
    # tracker
    "cs_tracker_options_init": (None, [POINTER(s.TrackerOptions)]),
    "cs_tracker_create": (_S, [POINTER(s.TrackerOptions), _OUT_H]),
    "cs_tracker_free": (None, [_H]),
    "cs_tracker_get_options": (_S, [_H, POINTER(s.TrackerOptions)]),
    "cs_observe_batch": (_S, [_H, _P, _P, _P, _P, c_size_t]),
    "cs_end_epoch": (_S, [_H]),
    "cs_observe_epoch": (_S, [_H, _P, _P, _P, c_size_t]),
    "cs_tracker_epochs": (c_int32, [_H]),
    "cs_tracker_repeats_dropped": (c_int64, [_H]),
    "cs_tracker_proxy_i32": (_S, [_H, c_int, _P, c_size_t]),
    "cs_tracker_proxy_f32": (_S, [_H, c_int, _P, c_size_t]),
    "cs_tracker_labels": (_S, [_H, _P, c_size_t]),
    "cs_tracker_epochs_observed": (_S, [_H, _P, c_size_t]),
    "cs_tracker_features": (_S, [_H, _P, c_size_t]),
    "cs_tracker_history": (_S, [_H, c_int32, _P, _P, _P, _P, c_size_t]),
    "cs_tracker_merge": (_S, [_H, _H]),
    "cs_tracker_save": (_S, [_H, c_char_p]),
    "cs_tracker_load": (_S, [c_char_p, _OUT_H]),
    "cs_tracker_export_csv": (_S, [_H, c_char_p]),
    "cs_tracker_export_npz": (_S, [_H, c_char_p]),
    # data sets
    "cs_dataset_options_init": (None, [POINTER(s.DatasetOptions)]),
    "cs_dataset_load_idx": (_S, [c_char_p, POINTER(s.DatasetOptions), _OUT_H]),
    "cs_dataset_free": (None, [_H]),
    "cs_dataset_examples": (_S, [_H, c_int, POINTER(s.Examples)]),
    "cs_dataset_n_classes": (c_int32, [_H]),
    # statistics
    "cs_rank_average": (_S, [_P, c_size_t, _P]),
    "cs_spearman": (_S, [_P, _P, c_size_t, POINTER(s.Subset), POINTER(c_double), POINTER(c_size_t)]),
    "cs_kendall_tau_b": (_S, [_P, _P, c_size_t, POINTER(s.Subset), POINTER(c_double), POINTER(c_size_t)]),
    "cs_auroc": (_S, [_P, _P, c_size_t, POINTER(s.Subset), POINTER(c_double), POINTER(c_size_t)]),
    "cs_statistic_name": (c_char_p, [c_int]),
    "cs_bootstrap_options_init": (None, [POINTER(s.BootstrapOptions)]),
    "cs_bootstrap_interval": (
        _S,
        [c_int, _P, _P, c_size_t, POINTER(s.Subset), POINTER(s.BootstrapOptions), POINTER(s.Interval)],
    ),
    # density proxies
    "cs_kde_options_init": (None, [POINTER(s.KdeOptions)]),
    "cs_kde_result_init": (None, [POINTER(s.KdeResult)]),
    "cs_kde_scores": (_S, [POINTER(s.Examples), c_int32, POINTER(s.KdeOptions), POINTER(s.KdeResult)]),
    "cs_kde_query": (
        _S,
        [POINTER(s.Examples), c_int32, POINTER(s.Examples), POINTER(s.KdeOptions), POINTER(s.KdeResult)],
    ),
    "cs_kde_bandwidth": (_S, [POINTER(s.Examples), POINTER(s.KdeOptions), POINTER(c_double), POINTER(c_double)]),
    # arrays and readers
    "cs_array_free": (None, [c_void_p]),
    "cs_element_type_name": (c_char_p, [c_int]),
    "cs_npy_read": (_S, [c_char_p, POINTER(POINTER(s.Array))]),
    "cs_npz_open": (_S, [c_char_p, _OUT_H]),
    "cs_npz_close": (None, [_H]),
    "cs_npz_count": (c_size_t, [_H]),
    "cs_npz_key": (c_char_p, [_H, c_size_t]),
    "cs_npz_read": (_S, [_H, c_char_p, POINTER(POINTER(s.Array))]),
    "cs_csv_read_columns": (_S, [c_char_p, POINTER(c_char_p), c_size_t, POINTER(POINTER(s.Array))]),
    # holdout estimates
    "cs_holdout_create_from_records": (_S, [c_char_p, _OUT_H]),
    "cs_holdout_free": (None, [_H]),
    "cs_holdout_recipe": (c_char_p, [_H]),
    "cs_holdout_n_examples": (c_int64, [_H]),
    "cs_holdout_merge_records": (_S, [_H, c_char_p]),
    "cs_holdout_get_summary": (_S, [_H, POINTER(s.HoldoutSummary)]),
    "cs_holdout_ratios": (_S, [_H, _P, c_size_t, POINTER(c_size_t)]),
    "cs_holdout_scores": (_S, [_H, c_int32, _P, _P, _P, c_size_t]),
    "cs_holdout_integral": (_S, [_H, _P, _P, c_size_t]),
    "cs_holdout_counts": (_S, [_H, c_int32, _P, _P, c_size_t, POINTER(c_int64)]),
    "cs_holdout_export_npz": (_S, [_H, c_char_p]),
    "cs_holdout_run_seed": (c_uint64, [c_uint64, c_int32, c_int32]),
    "cs_holdout_subset_size": (c_size_t, [c_size_t, c_int32]),
}

# Functions that newer builds export; each is declared only where present
# and looked up through optional().
_OPTIONAL_PROTOTYPES = {
    "cs_tracker_export_csv_extra": (_S, [_H, c_char_p, _P, _P, c_size_t, c_size_t]),
    "cs_tracker_export_npz_extra": (_S, [_H, c_char_p, _P, _P, c_size_t, c_size_t]),
    "cs_observe_batch_int64": (_S, [_H, _P, _P, _P, _P, c_size_t]),
}


def _declare(library: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        function = getattr(library, name)
        function.restype = restype
        function.argtypes = argtypes
    for name, (restype, argtypes) in _OPTIONAL_PROTOTYPES.items():
        function = getattr(library, name, None)
        if function is not None:
            function.restype = restype
            function.argtypes = argtypes


def _check_version(library: ctypes.CDLL, path: str) -> None:
    number = library.cs_version_number()
    if number // 10000 != EXPECTED_MAJOR:
        raise ImportError(
            f"{path} is cscore {library.cs_version_string().decode()}, but this "
            f"package needs major version {EXPECTED_MAJOR}; point "
            f"{ENVIRONMENT_VARIABLE} at a matching libcscore.so"
        )


lib, library_path = _load()
_declare(lib)
_check_version(lib, library_path)


def optional(name: str):
    """Return the library function `name`, or None if this build lacks it."""
    return getattr(lib, name, None)
