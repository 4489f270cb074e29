"""``tr.save`` / ``tr.load``: state dicts as ``.npz`` files, never pickle."""

from __future__ import annotations

import os
from typing import Any

from .backend import backend_of, host
from .tensor import Tensor


def _to_host(name: str, value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.numpy()
    backend = backend_of(value)
    if backend is not None:
        return backend.to_numpy(value)
    if host.is_host_array(value) or isinstance(value, (bool, int, float)):
        return host.as_host_array(value)
    raise TypeError(
        f"save: entry {name!r} is a {type(value).__name__}; expected a Tensor, an array or a number"
    )


def save(state_dict: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``{name: Tensor or array}`` to ``path`` as an ``.npz`` file, atomically.

    The file is written to a temporary name, fsync'ed and renamed, so a crash in the
    middle of a save leaves any previous file at ``path`` intact.

    Raises:
        TypeError: ``state_dict`` is not a dict of str -> Tensor/array/number.
        ValueError: a key contains a NUL character (it could not be read back).
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict of name -> Tensor, got {type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: key {name!r} is a {type(name).__name__}; expected str")
        if "\x00" in name:  # a zip member name ends at a NUL: the entry would come back renamed
            raise ValueError(f"save: key {name!r} contains a NUL character; expected a name without one")
        arrays[name] = _to_host(name, value)
    host.save_npz(arrays, path)


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by :func:`save`: ``{name: numpy.ndarray}``.

    Never unpickles: object arrays are refused.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not an ``.npz`` archive of plain arrays.
    """
    return host.load_npz(path)
