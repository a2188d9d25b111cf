"""File-system path arguments for the C calls."""

import os


def encode_path(path, name: str = "path") -> bytes:
    """Return `path` (str, bytes or os.PathLike) as bytes for a C string."""
    try:
        encoded = os.fsencode(os.fspath(path))
    except TypeError:
        raise TypeError(f"{name} must be a str, bytes or os.PathLike; got {type(path).__name__}") from None
    if b"\0" in encoded:
        raise ValueError(f"{name} contains a NUL character")
    return encoded
