"""Readers: .npy and .npz files, CSV columns and IDX data sets.

Arrays that the library reads are handed to numpy without a copy: each
numpy array owns the C buffer and frees it (cs_array_free(),
cs_dataset_free()) when the last view of it is garbage-collected.
"""

import ctypes
import weakref
from typing import Dict, Iterable, NamedTuple, Optional

import numpy as np

from . import _structs as structs
from ._convert import INT64_RANGE, as_index
from ._library import lib
from ._paths import encode_path
from .errors import check

#: Folder of Debian's dataset-fashion-mnist package (CS_FASHION_MNIST_DIR).
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

# cs_element_type -> numpy dtype
_DTYPES = {
    0: np.dtype(np.bool_),
    1: np.dtype(np.uint8),
    2: np.dtype(np.int32),
    3: np.dtype(np.int64),
    4: np.dtype(np.float32),
    5: np.dtype(np.float64),
}


class _Memory:
    """Exposes C memory to numpy through the array interface.

    numpy keeps this object as the array's base. When the last view is
    gone, `release` runs, or `owner` (the object that frees the memory)
    loses one reference.
    """

    def __init__(self, data: int, shape, dtype: np.dtype, release=None, owner=None):
        self._owner = owner
        self.__array_interface__ = {
            "version": 3,
            "shape": tuple(shape),
            "typestr": dtype.str,
            "data": (data, False),
        }
        if release is not None:
            weakref.finalize(self, release)


def _adopt_array(pointer) -> np.ndarray:
    """Return a numpy array that owns the cs_array at `pointer`."""
    header = pointer.contents
    dtype = _DTYPES[header.type]
    shape = tuple(header.shape[: header.ndim])
    address = ctypes.addressof(header)
    if header.count == 0 or not header.data:
        lib.cs_array_free(address)
        return np.empty(shape, dtype=dtype)
    memory = _Memory(header.data, shape, dtype, release=lambda: lib.cs_array_free(address))
    return np.asarray(memory)


def read_npy(path) -> np.ndarray:
    """Read a .npy file (bool, uint8, int32, int64, float32 or float64)."""
    pointer = ctypes.POINTER(structs.Array)()
    check(lib.cs_npy_read(encode_path(path), ctypes.byref(pointer)))
    return _adopt_array(pointer)


def read_npz(path, keys: Optional[Iterable[str]] = None) -> Dict[str, np.ndarray]:
    """Read members of a .npz archive (stored or deflated) into a dict.

    keys: member names to read, in that order; None reads every member in
    the archive's order. A missing key raises Error (E_INVALID_ARGUMENT)
    with a message that lists the keys present.
    """
    handle = ctypes.c_void_p()
    check(lib.cs_npz_open(encode_path(path), ctypes.byref(handle)))
    try:
        if keys is None:
            count = lib.cs_npz_count(handle)
            keys = [lib.cs_npz_key(handle, index).decode() for index in range(count)]
        elif isinstance(keys, str):
            keys = [keys]
        members = {}
        for key in keys:
            pointer = ctypes.POINTER(structs.Array)()
            check(lib.cs_npz_read(handle, encode_path(key, "key"), ctypes.byref(pointer)))
            members[key] = _adopt_array(pointer)
        return members
    finally:
        lib.cs_npz_close(handle)


def read_csv_columns(path, names: Iterable[str]) -> Dict[str, np.ndarray]:
    """Read columns of a CSV file by header name as float64 arrays.

    Empty cells read as NaN. Every name must appear exactly once in the
    header. A cell that is not a number raises Error (E_FORMAT) with its
    line and column.
    """
    if isinstance(names, str):
        names = [names]
    names = list(names)
    encoded = (ctypes.c_char_p * len(names))(*(encode_path(name, "names") for name in names))
    columns = (ctypes.POINTER(structs.Array) * len(names))()
    check(lib.cs_csv_read_columns(encode_path(path), encoded, len(names), columns))
    return {name: _adopt_array(columns[index]) for index, name in enumerate(names)}


class IdxDataset(NamedTuple):
    """An MNIST-style data set. Inputs are float32 rows of pixels / 255,
    labels int32. The arrays share the library's memory."""

    train_inputs: np.ndarray  # n_train x D
    train_labels: np.ndarray  # n_train
    test_inputs: np.ndarray  # n_test x D
    test_labels: np.ndarray  # n_test
    n_classes: int  # 1 + the largest label of both splits


class _DatasetHandle:
    def __init__(self, handle: int):
        self.handle = handle
        weakref.finalize(self, lib.cs_dataset_free, handle)


def _split_arrays(owner: _DatasetHandle, split: int):
    examples = structs.Examples()
    check(lib.cs_dataset_examples(owner.handle, split, ctypes.byref(examples)))
    # Every array refers to `owner`, so the data set is freed only after
    # the arrays of both splits are gone.
    inputs = np.asarray(_Memory(examples.inputs, (examples.n, examples.n_inputs), _DTYPES[4], owner=owner))
    labels = np.asarray(_Memory(examples.labels, (examples.n,), _DTYPES[2], owner=owner))
    return inputs, labels


def load_idx_dataset(folder=FASHION_MNIST_DIR, *, train_count: int = 0) -> IdxDataset:
    """Load the four IDX files of an MNIST-style data set (plain or .gz).

    train_count keeps only the first train_count training examples in
    file order, so that example ids are row numbers of the file; 0 keeps
    all. The test split is always loaded whole.
    """
    options = structs.DatasetOptions()
    lib.cs_dataset_options_init(ctypes.byref(options))
    options.train_count = as_index(train_count, "train_count", *INT64_RANGE)
    handle = ctypes.c_void_p()
    check(lib.cs_dataset_load_idx(encode_path(folder, "folder"), ctypes.byref(options), ctypes.byref(handle)))
    owner = _DatasetHandle(handle.value)
    train_inputs, train_labels = _split_arrays(owner, 0)
    test_inputs, test_labels = _split_arrays(owner, 1)
    return IdxDataset(train_inputs, train_labels, test_inputs, test_labels, lib.cs_dataset_n_classes(owner.handle))
