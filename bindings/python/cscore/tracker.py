"""The per-example tracker: the Python face of cs_tracker."""

import ctypes
import os
import tempfile
import threading
import weakref
from typing import Dict, Mapping, NamedTuple, Optional, Tuple

import numpy as np

from . import _structs as structs
from ._convert import (
    FLOAT_KINDS,
    INT32_RANGE,
    INT64_RANGE,
    INTEGER_KINDS,
    REAL_KINDS,
    CBuffer,
    address,
    as_c_array,
    as_index,
    c_buffer,
    is_int64,
    require_shape,
    shape_error,
)
from ._library import lib, optional
from ._paths import encode_path
from .errors import check

#: Default of Tracker(probability_tolerance=...): how far a probability
#: row's sum may be from 1 (CS_DEFAULT_PROBABILITY_TOLERANCE).
DEFAULT_PROBABILITY_TOLERANCE = 1e-2

_REPEAT_POLICIES = {"reject": 0, "keep_first": 1}
_INPUT_LOGITS, _INPUT_PROBABILITIES = 0, 1


def _read_proxies() -> Tuple[Dict[str, int], Dict[str, bool], Dict[str, int]]:
    """Read the proxy table (value, element type, direction) from the library."""
    values, integer, direction = {}, {}, {}
    code = 0
    while True:
        raw = lib.cs_proxy_name(code)
        if raw is None:
            return values, integer, direction
        name = raw.decode()
        values[name] = code
        integer[name] = lib.cs_proxy_is_integer(code) == 1
        direction[name] = lib.cs_proxy_direction(code)
        code += 1


_PROXY_VALUES, _PROXY_IS_INTEGER, _PROXY_DIRECTION = _read_proxies()

# False with a library older than cs_observe_batch_int64().
_HAS_OBSERVE_BATCH_INT64 = optional("cs_observe_batch_int64") is not None

#: Proxy names in the library's order: "cbtl", "cbtl_frac", "p_l_last", ...
PROXIES: Tuple[str, ...] = tuple(_PROXY_VALUES)

#: +1 where a higher value marks a more regular example, -1 where it marks
#: a less regular one.
PROXY_DIRECTION: Mapping[str, int] = dict(_PROXY_DIRECTION)


class EpochHistory(NamedTuple):
    """One epoch of a tracker's history, each array indexed by example id."""

    observed: np.ndarray  # bool: the example was observed in the epoch
    correct: np.ndarray  # bool: its true label had the strictly largest score
    p_l: np.ndarray  # float32: softmax probability of the true label, NaN if unobserved
    p_max: np.ndarray  # float32: largest softmax probability, NaN if unobserved


def _proxy_property(name: str, doc: str) -> property:
    def getter(self: "Tracker") -> np.ndarray:
        return self.proxy(name)

    getter.__name__ = name
    getter.__doc__ = doc
    return property(getter)


class Tracker:
    """Per-example proxies of the C-score, fed by a training loop.

    Create one tracker per training run. After the forward pass of each
    batch, pass its predictions with the example ids of the rows to
    observe_batch(), and call end_epoch() after the last batch of an
    epoch. observe_epoch() does both for a whole epoch at once. The proxies
    are then properties that return new numpy arrays ordered by example id.

    Args:
        n_examples: N; example ids are 0 .. N-1.
        n_classes: C >= 2.
        probabilities: predictions are probability rows, not logits.
        feature_dim: d > 0 to keep each example's latest feature row
            (penultimate-layer activations, for the density proxies).
        keep_history: keep per-epoch history, needed for history() and
            merge(); costs 18 bytes per example and epoch.
        repeats: "reject" makes a second observation of an example in one
            epoch an error. "keep_first" keeps the first and counts the
            others in repeats_dropped, which data-parallel samplers that
            pad the epoch need.
        probability_tolerance: how far a probability row's sum may be
            from 1.

    Raises:
        TypeError, ValueError: an argument of the wrong type, or outside
            the range of its C type.
        Error: the library rejected the options (e.g. n_classes = 1).

    One tracker may be used from several threads; its calls are
    serialised by a lock.
    """

    def __init__(
        self,
        n_examples: int,
        n_classes: int,
        *,
        probabilities: bool = False,
        feature_dim: int = 0,
        keep_history: bool = False,
        repeats: str = "reject",
        probability_tolerance: float = DEFAULT_PROBABILITY_TOLERANCE,
    ):
        options = structs.TrackerOptions()
        lib.cs_tracker_options_init(ctypes.byref(options))
        options.n_examples = as_index(n_examples, "n_examples", *INT64_RANGE)
        options.n_classes = as_index(n_classes, "n_classes", *INT32_RANGE)
        options.feature_dim = as_index(feature_dim, "feature_dim", *INT32_RANGE)
        options.input_kind = _INPUT_PROBABILITIES if probabilities else _INPUT_LOGITS
        options.keep_history = 1 if keep_history else 0
        if repeats not in _REPEAT_POLICIES:
            raise ValueError(f"repeats is {repeats!r}; use 'reject' or 'keep_first'")
        options.repeat_policy = _REPEAT_POLICIES[repeats]
        try:
            options.probability_tolerance = float(probability_tolerance)
        except (TypeError, ValueError):
            raise TypeError(
                f"probability_tolerance must be a number; got {type(probability_tolerance).__name__}"
            ) from None

        handle = ctypes.c_void_p()
        check(lib.cs_tracker_create(ctypes.byref(options), ctypes.byref(handle)))
        self._adopt(handle.value)

    # -- construction and lifetime ---------------------------------------

    def _adopt(self, handle: int) -> None:
        """Take ownership of a C tracker and cache its shape."""
        self._handle: Optional[int] = handle
        self._lock = threading.Lock()
        self._free = weakref.finalize(self, lib.cs_tracker_free, handle)
        options = structs.TrackerOptions()
        options.struct_size = ctypes.sizeof(options)
        check(lib.cs_tracker_get_options(handle, ctypes.byref(options)))
        self._options = options
        self._n = options.n_examples
        self._c = options.n_classes
        self._d = options.feature_dim

    @classmethod
    def _from_handle(cls, handle: int) -> "Tracker":
        tracker = cls.__new__(cls)
        tracker._adopt(handle)
        return tracker

    def close(self) -> None:
        """Free the C tracker now; later calls raise ValueError."""
        with self._lock:
            self._handle = None
            self._free()

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _h(self) -> int:
        if self._handle is None:
            raise ValueError("the tracker is closed")
        return self._handle

    def __repr__(self) -> str:
        if self._handle is None:
            return "<cscore.Tracker (closed)>"
        return (
            f"<cscore.Tracker n_examples={self._n} n_classes={self._c} "
            f"feature_dim={self._d} epochs={self.epochs}>"
        )

    # -- options -----------------------------------------------------------

    @property
    def n_examples(self) -> int:
        """N, the number of examples."""
        return self._n

    @property
    def n_classes(self) -> int:
        """C, the number of classes."""
        return self._c

    @property
    def feature_dim(self) -> int:
        """d, the width of the feature rows, or 0 without features."""
        return self._d

    @property
    def probabilities(self) -> bool:
        """Whether predictions are probabilities rather than logits."""
        return self._options.input_kind == _INPUT_PROBABILITIES

    @property
    def keep_history(self) -> bool:
        """Whether the tracker keeps per-epoch history."""
        return bool(self._options.keep_history)

    @property
    def repeats(self) -> str:
        """The repeat policy: "reject" or "keep_first"."""
        return "keep_first" if self._options.repeat_policy == 1 else "reject"

    @property
    def probability_tolerance(self) -> float:
        """How far a probability row's sum may be from 1."""
        return self._options.probability_tolerance

    # -- observing ---------------------------------------------------------

    def _predictions_argument(self, predictions, rows: Optional[int]) -> CBuffer:
        buffer = c_buffer(predictions, "predictions", np.float32, 2, FLOAT_KINDS)
        if buffer.shape[1] != self._c or (rows is not None and buffer.shape[0] != rows):
            raise shape_error("predictions", buffer.shape, (rows, self._c), f"one row of {self._c} class scores per example")
        return buffer

    @staticmethod
    def _row_argument(value, name: str, dtype, rows: int, meaning: str) -> CBuffer:
        buffer = c_buffer(value, name, dtype, 1, INTEGER_KINDS)
        if buffer.shape[0] != rows:
            raise shape_error(name, buffer.shape, (rows,), meaning)
        return buffer

    def _features_argument(self, features, rows: int) -> Optional[CBuffer]:
        if features is None:
            return None
        buffer = c_buffer(features, "features", np.float32, 2, FLOAT_KINDS)
        # With feature_dim 0 any width goes through, so that the library
        # reports CS_E_UNEXPECTED_FEATURES rather than a shape error.
        width = self._d if self._d > 0 else buffer.shape[1]
        if buffer.shape != (rows, width):
            raise shape_error("features", buffer.shape, (rows, width), "one feature row per row of predictions")
        return buffer

    def observe_batch(self, predictions, labels, ids, features=None) -> None:
        """Observe one batch of the current epoch.

        Args:
            predictions: n x C logits, or probabilities if the tracker was
                created with probabilities=True; float32 is used as is.
            labels: n integer labels in [0, C); int32 and int64 are used
                as is.
            ids: n example ids in [0, N) of the rows; int64 is used as is.
            features: n x d feature rows when feature_dim = d > 0.

        numpy arrays and PyTorch CPU tensors of the listed dtype that are
        C-contiguous are read in place; others are converted once. A
        tensor that requires grad is detached (no copy).

        Raises:
            TypeError, ValueError: a wrong dtype or shape, named.
            Error: the library rejected a value (NaN logits, a label out of
                range or changed, a repeated id, ...); nothing was recorded.
        """
        scores = self._predictions_argument(predictions, None)
        rows = scores.shape[0]
        # int64 labels, PyTorch's and NumPy's default, go to the int64
        # entry as they are; anything else is converted to int32 once.
        if _HAS_OBSERVE_BATCH_INT64 and is_int64(labels):
            label_type, observe = np.int64, lib.cs_observe_batch_int64
        else:
            label_type, observe = np.int32, lib.cs_observe_batch
        label_buffer = self._row_argument(labels, "labels", label_type, rows, "one label per row of predictions")
        id_buffer = self._row_argument(ids, "ids", np.int64, rows, "one example id per row of predictions")
        feature_buffer = self._features_argument(features, rows)
        feature_address = None if feature_buffer is None else feature_buffer.address
        with self._lock:
            check(observe(self._h(), scores.address, label_buffer.address, id_buffer.address, feature_address, rows))

    def end_epoch(self) -> None:
        """End the current epoch; the next observation opens the next one."""
        with self._lock:
            check(lib.cs_end_epoch(self._h()))

    def observe_epoch(self, predictions, labels, features=None) -> None:
        """Observe a whole epoch, row i for example i, and end it.

        Same arrays as observe_batch() without ids; every array has N rows.
        """
        scores = self._predictions_argument(predictions, self._n)
        label_buffer = self._row_argument(labels, "labels", np.int32, self._n, "one label per example")
        feature_buffer = self._features_argument(features, self._n)
        feature_address = None if feature_buffer is None else feature_buffer.address
        with self._lock:
            check(
                lib.cs_observe_epoch(self._h(), scores.address, label_buffer.address, feature_address, self._n)
            )

    # -- results -----------------------------------------------------------

    @property
    def epochs(self) -> int:
        """The number of ended epochs."""
        with self._lock:
            return lib.cs_tracker_epochs(self._h())

    @property
    def repeats_dropped(self) -> int:
        """Repeated observations dropped under repeats="keep_first",
        including (example, epoch) pairs that both sides of a merge held."""
        with self._lock:
            return lib.cs_tracker_repeats_dropped(self._h())

    def proxy(self, name: str) -> np.ndarray:
        """Return proxy `name` (one of PROXIES) for every example, by id.

        Integer proxies (cbtl, forgetting, first_learned) are int32, the
        others float32. Examples never observed get NaN, or 0 for cbtl and
        forgetting and -1 for first_learned.
        """
        if name not in _PROXY_VALUES:
            raise ValueError(f"unknown proxy {name!r}; expected one of {', '.join(PROXIES)}")
        integer = _PROXY_IS_INTEGER[name]
        out = np.empty(self._n, dtype=np.int32 if integer else np.float32)
        getter = lib.cs_tracker_proxy_i32 if integer else lib.cs_tracker_proxy_f32
        with self._lock:
            check(getter(self._h(), _PROXY_VALUES[name], address(out), self._n))
        return out

    cbtl = _proxy_property("cbtl", "int32: epochs in which the example was classified correctly.")
    cbtl_frac = _proxy_property("cbtl_frac", "float32: cbtl divided by the epochs in which it was observed.")
    p_l_last = _proxy_property("p_l_last", "float32: softmax probability of the true label, last observed epoch.")
    p_l_mean = _proxy_property("p_l_mean", "float32: softmax probability of the true label, mean over epochs.")
    p_max_last = _proxy_property("p_max_last", "float32: largest softmax probability, last observed epoch.")
    p_max_mean = _proxy_property("p_max_mean", "float32: largest softmax probability, mean over epochs.")
    p_l_std = _proxy_property("p_l_std", "float32: standard deviation (ddof 0) of p_L over epochs.")
    forgetting = _proxy_property("forgetting", "int32: transitions from correct to wrong between epochs.")
    first_learned = _proxy_property("first_learned", "int32: first epoch (from 1) classified correctly, or -1.")
    aum = _proxy_property("aum", "float32: area under the margin, mean of true-label logit minus the largest other.")
    el2n = _proxy_property("el2n", "float32: L2 norm of softmax minus one-hot label, last observed epoch.")

    def _copy_per_example(self, function, dtype) -> np.ndarray:
        out = np.empty(self._n, dtype=dtype)
        with self._lock:
            check(function(self._h(), address(out), self._n))
        return out

    @property
    def labels(self) -> np.ndarray:
        """int32 label of every example, -1 where never observed."""
        return self._copy_per_example(lib.cs_tracker_labels, np.int32)

    @property
    def epochs_observed(self) -> np.ndarray:
        """int32 number of epochs in which each example was observed."""
        return self._copy_per_example(lib.cs_tracker_epochs_observed, np.int32)

    @property
    def features(self) -> np.ndarray:
        """float32 N x d array of each example's most recent feature row,
        NaN for examples never observed. Raises Error with
        CS_E_MISSING_FEATURES for a tracker with feature_dim 0."""
        out = np.empty((self._n, self._d), dtype=np.float32)
        with self._lock:
            check(lib.cs_tracker_features(self._h(), address(out), out.size))
        return out

    def history(self, epoch: int) -> EpochHistory:
        """Return the history of `epoch` (1 .. epochs, or epochs + 1 while
        that epoch has observations). Needs keep_history=True."""
        epoch = as_index(epoch, "epoch", *INT32_RANGE)
        observed = np.empty(self._n, dtype=np.uint8)
        correct = np.empty(self._n, dtype=np.uint8)
        p_l = np.empty(self._n, dtype=np.float32)
        p_max = np.empty(self._n, dtype=np.float32)
        with self._lock:
            check(
                lib.cs_tracker_history(
                    self._h(), epoch, address(observed), address(correct), address(p_l), address(p_max), self._n
                )
            )
        # The library writes 0 or 1, so viewing the bytes as bool is exact.
        return EpochHistory(observed.view(np.bool_), correct.view(np.bool_), p_l, p_max)

    def to_dict(self) -> Dict[str, np.ndarray]:
        """Return {"id", "label", then each proxy} as arrays ordered by id.

        pandas.DataFrame(tracker.to_dict()) makes a table with one row per
        example.
        """
        table = {"id": np.arange(self._n, dtype=np.int64), "label": self.labels}
        for name in PROXIES:
            table[name] = self.proxy(name)
        return table

    # -- merging, saving and exporting -------------------------------------

    def merge(self, other: "Tracker") -> None:
        """Merge `other` into this tracker (cs_tracker_merge()).

        Afterwards this tracker contains the union of both trackers'
        (example, epoch) observations, its own winning where both observed
        the same example in the same epoch. So trackers that between them
        saw each observation once merge to exactly the state of one tracker
        fed all of them. Both need keep_history=True, the same N, C, input
        kind and feature_dim, and no open epoch. `other` is unchanged.
        """
        if not isinstance(other, Tracker):
            raise TypeError(f"other must be a cscore.Tracker; got {type(other).__name__}")
        if other is self:
            with self._lock:
                check(lib.cs_tracker_merge(self._h(), self._h()))
            return
        # Lock in a fixed order so that a.merge(b) and b.merge(a) running
        # in two threads cannot deadlock.
        first, second = sorted((self, other), key=id)
        with first._lock, second._lock:
            check(lib.cs_tracker_merge(self._h(), other._h()))

    def save(self, path) -> None:
        """Write the whole state to `path` (checksummed, atomic replace)."""
        encoded = encode_path(path)
        with self._lock:
            check(lib.cs_tracker_save(self._h(), encoded))

    @classmethod
    def load(cls, path) -> "Tracker":
        """Read a tracker written by save()."""
        handle = ctypes.c_void_p()
        check(lib.cs_tracker_load(encode_path(path), ctypes.byref(handle)))
        return cls._from_handle(handle.value)

    def to_bytes(self) -> bytes:
        """Return the saved state as bytes (the file save() writes)."""
        with tempfile.TemporaryDirectory(prefix="cscore-") as folder:
            path = os.path.join(folder, "tracker.state")
            self.save(path)
            with open(path, "rb") as file:
                return file.read()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Tracker":
        """Rebuild a tracker from to_bytes() output."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes; got {type(data).__name__}")
        with tempfile.TemporaryDirectory(prefix="cscore-") as folder:
            path = os.path.join(folder, "tracker.state")
            with open(path, "wb") as file:
                file.write(data)
            return cls.load(path)

    def __reduce__(self):
        # Pickling goes through the checksummed file format, which lets
        # torch.distributed.gather_object() send trackers between ranks.
        return (Tracker.from_bytes, (self.to_bytes(),))

    def copy(self) -> "Tracker":
        """Return an independent tracker with the same state."""
        return Tracker.from_bytes(self.to_bytes())

    def to_npz(self, path, extra: Optional[Mapping[str, object]] = None) -> None:
        """Write ids, labels, every proxy and, with history, the hist_
        arrays to a .npz archive (the layout `cscore train` writes).

        extra maps names to more per-example arrays of N floats, such as
        density scores, written as float32 members.
        """
        self._export("npz", path, extra)

    def to_csv(self, path, extra: Optional[Mapping[str, object]] = None) -> None:
        """Write one CSV row per example: id, label, each proxy and its
        rank_ column (rank 1 = least regular); extra as in to_npz()."""
        self._export("csv", path, extra)

    def _export(self, kind: str, path, extra: Optional[Mapping[str, object]]) -> None:
        encoded = encode_path(path)
        if not extra:
            function = lib.cs_tracker_export_npz if kind == "npz" else lib.cs_tracker_export_csv
            with self._lock:
                check(function(self._h(), encoded))
            return

        function = optional(f"cs_tracker_export_{kind}_extra")
        if function is None:
            raise NotImplementedError(
                f"this libcscore has no cs_tracker_export_{kind}_extra(); rebuild it to export extra columns"
            )
        names, columns = self._extra_columns(extra)
        name_pointers = (ctypes.c_char_p * len(names))(*names)
        value_pointers = (ctypes.c_void_p * len(columns))(*(address(column) for column in columns))
        with self._lock:
            check(
                function(
                    self._h(),
                    encoded,
                    ctypes.addressof(name_pointers),
                    ctypes.addressof(value_pointers),
                    len(names),
                    self._n,
                )
            )

    def _extra_columns(self, extra: Mapping[str, object]):
        names, columns = [], []
        for name, values in extra.items():
            if not isinstance(name, str):
                raise TypeError(f"extra column names must be str; got {type(name).__name__}")
            label = f"extra[{name!r}]"
            column = as_c_array(values, label, np.float32, 1, REAL_KINDS)
            require_shape(column, label, (self._n,), "one value per example")
            names.append(name.encode())
            columns.append(column)
        return names, columns
