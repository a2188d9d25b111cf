"""Conversion of array arguments for the C calls.

An argument that already has the C type's dtype in native byte order, is
C-contiguous and aligned goes to C as it is: the library reads the
caller's memory, and nothing is copied. Anything else that numpy can
convert without losing its meaning is copied once into such an array.
PyTorch CPU tensors come in through Tensor.numpy(), which shares their
memory; other objects through numpy.asarray() or DLPack.
"""

import sys
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np

FLOAT_KINDS = "f"
INTEGER_KINDS = "iu"
REAL_KINDS = "biuf"

_KIND_NAMES = {
    FLOAT_KINDS: "a floating-point dtype",
    INTEGER_KINDS: "an integer dtype",
    REAL_KINDS: "a real numeric dtype (bool, integer or floating-point)",
    "b": "a boolean or integer dtype",
}


# type -> whether it is a PyTorch tensor type, filled on first sight of each
# type so that the hook's per-batch calls skip the string test.
_TORCH_TYPES: dict = {}


def _is_torch_tensor(value) -> bool:
    kind = type(value)
    known = _TORCH_TYPES.get(kind)
    if known is None:
        # Checked by module name so that torch is never imported here.
        known = kind.__module__.startswith("torch") and hasattr(value, "detach")
        _TORCH_TYPES[kind] = known
    return known


def is_int64(value) -> bool:
    """Return whether `value` is a numpy array or PyTorch tensor of native
    int64, the type that needs no conversion for an int64 argument."""
    if type(value) is np.ndarray:
        return value.dtype == _INT64
    if _is_torch_tensor(value):
        return value.dtype == _torch_target(np.int64)
    return False


_INT64 = np.dtype(np.int64)


def _torch_to_numpy(value, name: str) -> np.ndarray:
    # detach() shares the storage, and calling it costs less than asking
    # requires_grad first. The library only reads the values.
    tensor = value.detach()
    try:
        return tensor.numpy()
    except (RuntimeError, TypeError) as error:
        reason = error
    _check_tensor_device(tensor, name)
    if str(tensor.dtype) == "torch.bfloat16":
        # numpy has no bfloat16, so this is the one conversion.
        return tensor.float().numpy()
    raise TypeError(f"{name} cannot be converted to a numpy array: {reason}")


def _check_tensor_device(tensor, name: str) -> None:
    if not tensor.is_cpu:
        raise TypeError(
            f"{name} is a tensor on device {tensor.device}; cscore reads host "
            f"memory, so pass {name}.cpu()"
        )


def to_numpy(value, name: str) -> np.ndarray:
    """Return `value` as a numpy array, sharing its memory where possible."""
    if isinstance(value, np.ndarray):
        return value
    if _is_torch_tensor(value):
        return _torch_to_numpy(value, name)
    if hasattr(value, "__dlpack__") and not hasattr(value, "__array__"):
        try:
            return np.from_dlpack(value)
        except (BufferError, RuntimeError, TypeError) as error:
            raise TypeError(f"{name} cannot be read through DLPack: {error}") from None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} cannot be converted to a numpy array: {error}") from None
    if array.dtype == object:
        raise TypeError(f"{name} cannot be converted to a numeric array (got {type(value).__name__})")
    return array


def _check_integer_range(array: np.ndarray, name: str, dtype: np.dtype) -> None:
    """Reject integers that the C type cannot hold, instead of wrapping them."""
    source = array.dtype
    widens = source.itemsize < dtype.itemsize or (source.itemsize == dtype.itemsize and source.kind == "i")
    if array.size == 0 or widens:
        return
    limits = _SIGNED_LIMITS[dtype.itemsize]
    # Python ints compare exactly, where numpy would compare uint64 with
    # int64 in float64.
    low, high = int(array.min()), int(array.max())
    if low < limits[0] or high > limits[1]:
        raise ValueError(
            f"{name} has values in [{low}, {high}], outside the range of {dtype.name} "
            f"[{limits[0]}, {limits[1]}]"
        )


# (min, max) of the signed integer C types by size in bytes.
_SIGNED_LIMITS = {size: (-(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1) for size in (4, 8)}


def as_c_array(
    value,
    name: str,
    dtype,
    ndim: int,
    kinds: str,
) -> np.ndarray:
    """Return `value` as a C-contiguous, aligned array of `dtype`.

    Raises TypeError naming `name` when the dtype kind is not one of
    `kinds` or the value is not an array, and ValueError for the wrong
    number of dimensions or integers out of the C type's range.
    """
    array = value if type(value) is np.ndarray else to_numpy(value, name)
    source = array.dtype
    if source.kind not in kinds:
        raise TypeError(
            f"{name} has dtype {source}; expected {_KIND_NAMES[kinds]}, so convert it with "
            f".astype(numpy.{np.dtype(dtype).name})"
        )
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional; got shape {array.shape}")
    flags = array.flags
    if source == dtype and flags.c_contiguous and flags.aligned:
        return array
    dtype = np.dtype(dtype)
    if dtype.kind in INTEGER_KINDS and source.kind in INTEGER_KINDS:
        _check_integer_range(array, name, dtype)
    return _copy(array, dtype)


def _copy(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Return a new C-contiguous, aligned copy of `array` as `dtype`: the
    one conversion of an argument that does not fit."""
    return np.array(array, dtype=dtype, order="C")


class CBuffer(NamedTuple):
    """Memory to pass to C: its address and shape, and the object that owns
    it, which the caller keeps alive until the call returns."""

    address: int
    shape: Tuple[int, ...]
    owner: object


def c_buffer(value, name: str, dtype, ndim: int, kinds: str) -> CBuffer:
    """Return `value` as C memory of `dtype`, as as_c_array() does.

    PyTorch tensors stay tensors: their checks and any conversion run as
    torch operations and touch no numpy code. Right after a training step
    numpy's code is out of the CPU caches and torch's is not. On a busy
    2-core virtual machine this cut the Python side of observe_batch()
    after a training step at batch 128 from about 140 to 45-70
    microseconds.
    """
    if _is_torch_tensor(value):
        return _torch_buffer(value, name, dtype, ndim, kinds)
    array = as_c_array(value, name, dtype, ndim, kinds)
    return CBuffer(array.__array_interface__["data"][0], array.shape, array)


# torch dtype -> numpy kind letter, and numpy scalar type -> torch dtype,
# both filled on first use so that torch is never imported here.
_TORCH_KINDS: dict = {}
_TORCH_TARGETS: dict = {}


def _torch_kind(torch_dtype) -> str:
    kind = _TORCH_KINDS.get(torch_dtype)
    if kind is None:
        if torch_dtype.is_floating_point:
            kind = "f"
        elif torch_dtype.is_complex:
            kind = "c"
        elif str(torch_dtype) == "torch.bool":
            kind = "b"
        else:
            kind = "i" if torch_dtype.is_signed else "u"
        _TORCH_KINDS[torch_dtype] = kind
    return kind


def _torch_target(dtype):
    target = _TORCH_TARGETS.get(dtype)
    if target is None:
        torch = sys.modules["torch"]
        target = {np.float32: torch.float32, np.int32: torch.int32, np.int64: torch.int64}[dtype]
        _TORCH_TARGETS[dtype] = target
    return target


def _torch_buffer(value, name: str, dtype, ndim: int, kinds: str) -> CBuffer:
    # The common case first, in as few torch calls as possible: the hook
    # runs once per training step. These checks and data_ptr() work on a
    # tensor that requires grad, so the fast path skips detach(), which
    # builds a new tensor object (about 3 microseconds after a training
    # step). torch.Size is a tuple, so it serves as the shape.
    if (
        value.dtype == _torch_target(dtype)
        and value.dim() == ndim
        and value.is_cpu
        and value.is_contiguous()
    ):
        return CBuffer(value.data_ptr(), value.shape, value)
    # detach() shares the storage, and the library only reads it.
    return _torch_converted(value.detach(), name, dtype, ndim, kinds)


def _torch_converted(tensor, name: str, dtype, ndim: int, kinds: str) -> CBuffer:
    _check_tensor_device(tensor, name)
    kind = _torch_kind(tensor.dtype)
    if kind not in kinds:
        raise TypeError(
            f"{name} has dtype {tensor.dtype}; expected {_KIND_NAMES[kinds]}, so convert it with "
            f".to({_torch_target(dtype)})"
        )
    if tensor.dim() != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional; got shape {tuple(tensor.shape)}")
    target = _torch_target(dtype)
    if tensor.dtype != target or not tensor.is_contiguous():
        check_range = kind in INTEGER_KINDS and dtype in (np.int32, np.int64)
        tensor = _copy_tensor(tensor, name, target, check_range)
    return CBuffer(tensor.data_ptr(), tuple(tensor.shape), tensor)


def _copy_tensor(tensor, name: str, target, check_range: bool):
    """Return a contiguous copy of `tensor` as `target`: the one conversion.

    Integers that the C type cannot hold would wrap, so a narrowed copy
    must convert back to the original values.
    """
    torch = sys.modules["torch"]
    if tensor.dtype == target:
        # to() returns the tensor itself when the dtype already matches,
        # whatever memory_format requests, so the layout needs contiguous().
        converted = tensor.contiguous()
    else:
        converted = tensor.to(dtype=target, memory_format=torch.contiguous_format)
    if check_range and not torch.equal(converted.to(tensor.dtype), tensor):
        low, high = int(tensor.min()), int(tensor.max())
        info = torch.iinfo(target)
        raise ValueError(
            f"{name} has values in [{low}, {high}], outside the range of {str(target)[len('torch.'):]} "
            f"[{info.min}, {info.max}]"
        )
    return converted


def require_shape(array: np.ndarray, name: str, shape: Sequence[Optional[int]], meaning: str) -> None:
    """Raise ValueError unless `array.shape` matches `shape` (None = any)."""
    actual = array.shape
    if len(actual) == len(shape):
        for got, want in zip(actual, shape):
            if want is not None and got != want:
                break
        else:
            return
    raise shape_error(name, actual, shape, meaning)


def shape_error(name: str, actual, shape: Sequence[Optional[int]], meaning: str) -> ValueError:
    """Return the ValueError for argument `name` of the wrong shape."""
    sizes = ["*" if size is None else str(size) for size in shape]
    wanted = f"({sizes[0]},)" if len(sizes) == 1 else "(" + ", ".join(sizes) + ")"
    return ValueError(f"{name} has shape {tuple(actual)}; expected {wanted}, {meaning}")


def address(array: Optional[np.ndarray]) -> Optional[int]:
    """Return the address of the array's first element, or None for None."""
    if array is None:
        return None
    return array.__array_interface__["data"][0]


def as_index(value, name: str, low: int, high: int) -> int:
    """Return `value` as a Python int in [low, high] (the C type's range).

    Range checks of the library's own rules stay in the library; this only
    keeps ctypes from silently truncating a value that does not fit.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer; got bool")
    try:
        number = value.__index__()
    except AttributeError:
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}") from None
    if not low <= number <= high:
        raise ValueError(f"{name} is {number}; it must be in [{low}, {high}]")
    return number


INT32_RANGE: Tuple[int, int] = (-(2**31), 2**31 - 1)
INT64_RANGE: Tuple[int, int] = (-(2**63), 2**63 - 1)
UINT64_RANGE: Tuple[int, int] = (0, 2**64 - 1)
