"""ctypes mirrors of the structs in include/cscore.h.

Field order and types must match the header exactly. Every options struct
starts with struct_size, which the library's *_init functions set to the C
sizeof, so the tests compare ctypes.sizeof() with that value.
"""

import ctypes
from ctypes import c_char, c_double, c_int, c_int32, c_int64, c_size_t, c_uint64, c_void_p

# C enums are int-sized on the platforms cscore builds on (GCC, Clang).
c_enum = c_int


class ErrorInfo(ctypes.Structure):
    _fields_ = [
        ("status", c_enum),
        ("function", c_char * 48),
        ("argument", c_char * 48),
        ("index", c_int64),
        ("example_id", c_int64),
        ("value", c_char * 64),
        ("path", c_char * 512),
        ("offset", c_int64),
        ("line", c_int64),
        ("column", c_int64),
        ("message", c_char * 768),
    ]


class TrackerOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("n_examples", c_int64),
        ("n_classes", c_int32),
        ("input_kind", c_enum),
        ("feature_dim", c_int32),
        ("keep_history", c_int32),
        ("repeat_policy", c_enum),
        ("probability_tolerance", c_double),
    ]


class Examples(ctypes.Structure):
    _fields_ = [
        ("inputs", c_void_p),
        ("labels", c_void_p),
        ("n", c_size_t),
        ("n_inputs", c_int32),
    ]


class DatasetOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("train_count", c_int64),
    ]


class Subset(ctypes.Structure):
    _fields_ = [
        ("mask", c_void_p),
        ("indices", c_void_p),
        ("n_indices", c_size_t),
    ]


class BootstrapOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("resamples", c_int32),
        ("confidence", c_double),
        ("seed", c_uint64),
    ]


class Interval(ctypes.Structure):
    _fields_ = [
        ("estimate", c_double),
        ("lower", c_double),
        ("upper", c_double),
        ("n_used", c_size_t),
        ("resamples", c_int32),
    ]


class KdeOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("method", c_enum),
        ("bandwidth", c_double),
        ("reference_size", c_int64),
        ("bandwidth_pairs", c_int64),
        ("bandwidth_exact_limit", c_int64),
        ("seed", c_uint64),
        ("tile_size", c_int32),
        ("threads", c_int32),
        ("neighbor_index", c_enum),
        ("neighbors", c_int64),
        ("ivf_nlist", c_int64),
        ("ivf_nprobe", c_int64),
        ("hnsw_m", c_int32),
        ("hnsw_ef_construction", c_int32),
        ("hnsw_ef_search", c_int32),
    ]


class KdeResult(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("n", c_size_t),
        ("kde_pm", c_void_p),
        ("kde_l", c_void_p),
        ("kde_free", c_void_p),
        ("bandwidth", c_double),
        ("bandwidth_se", c_double),
        ("reference_count", c_int64),
        ("knn_kde_pm", c_void_p),
        ("knn_kde_l", c_void_p),
        ("knn_kde_free", c_void_p),
        ("knn_agree", c_void_p),
        ("knn_missing", c_int64),
    ]


ARRAY_MAX_DIMS = 8


class Array(ctypes.Structure):
    _fields_ = [
        ("type", c_enum),
        ("ndim", c_int32),
        ("shape", c_int64 * ARRAY_MAX_DIMS),
        ("count", c_size_t),
        ("data", c_void_p),
    ]


class HoldoutSummary(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("runs_planned", c_int64),
        ("runs_done", c_int64),
        ("records_read", c_int64),
        ("records_duplicate", c_int64),
        ("records_outside", c_int64),
        ("records_torn", c_int64),
        ("train_seconds", c_double),
        ("overhead_seconds", c_double),
    ]
