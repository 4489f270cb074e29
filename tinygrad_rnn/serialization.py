"""``tr.save`` / ``tr.load``: state dicts as ``.npz`` files, never pickle.

Any string is a valid key and comes back exactly (see ``backend/npz.py`` for the file
layout). Loading checks every declared size before inflating anything, so a damaged
or hostile file is refused with a ``ValueError`` naming the file and the member.
"""

from __future__ import annotations

import os
from typing import Any

from . import nested
from .backend import backend_of, host, npz
from .tensor import Tensor

DEFAULT_MAX_BYTES = 2 * 1024**3
"""``tr.load`` refuses files that would inflate to more than this (2 GiB) unless told."""


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


def fspath(fn: str, path: Any) -> str:
    """``path`` (str, bytes or ``os.PathLike``) as a str; anything else is refused."""
    try:
        text = os.fsdecode(os.fspath(path)) if isinstance(path, (str, bytes, os.PathLike)) else None
    except TypeError:
        text = None  # an os.PathLike whose __fspath__ returns neither str nor bytes
    if not text:
        raise TypeError(f"{fn}: path is {path!r}; expected a non-empty str, bytes or os.PathLike file name")
    return text


def save(state_dict: dict[str, Any], path: str | bytes | os.PathLike) -> None:
    """Write ``{name: Tensor or array}`` to ``path`` as an ``.npz`` file, atomically.

    The file is written to a temporary name, fsync'ed and renamed, so a crash in the
    middle of a save leaves any previous file at ``path`` intact. Every str key round
    trips exactly, whatever characters it holds. A nested dict (an optimizer's or a
    scheduler's ``state_dict()``, or ``{"model": ..., "optimizer": ..., "epoch": 3}``)
    is stored leaf by leaf with its nesting (see :mod:`tinygrad_rnn.nested`), and
    :func:`load` gives it back as it was.

    Raises:
        TypeError: ``state_dict`` is not a dict of str -> Tensor/array/number (or of
            dicts, lists, tuples, strings and None around those), or ``path`` is not a
            file name.
        FileNotFoundError: the folder of ``path`` does not exist.
        PermissionError: ``path`` is read-only (as ``torch.save`` refuses).
    """
    path = fspath("save", path)
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict of name -> Tensor, got {type(state_dict).__name__}")
    if nested.is_nested(state_dict):  # an optimizer's state dict, {"model": ..., "epoch": 3}, ...
        state_dict = nested.flatten(state_dict)
    entries = []
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: key {name!r} is a {type(name).__name__}; expected str")
        array = _to_host(name, value)
        if npz.needs_pickle(array):
            raise TypeError(f"save: entry {name!r} holds {array.dtype} data, which only pickle could store; "
                            "expected numbers, booleans or fixed-width strings")
        entries.append((name, array))
    npz.save_npz(entries, path)


def _check_limit(fn: str, max_bytes: Any) -> None:
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int)):
        raise TypeError(f"{fn}: max_bytes={max_bytes!r} is a {type(max_bytes).__name__}; expected an int or None")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"{fn}: max_bytes={max_bytes}; expected a non-negative number of bytes, or None for no limit")


def read_archive(fn: str, path: Any, max_bytes: int | None) -> tuple[str, dict[str, Any], dict[str, str]]:
    """``(path as str, {key: array}, {key: zip member name})`` of a file written by :func:`save`."""
    path = fspath(fn, path)
    _check_limit(fn, max_bytes)
    arrays, members = npz.load_npz(path, max_bytes)
    return path, arrays, members


def load(path: str | bytes | os.PathLike, max_bytes: int | None = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Read a file written by :func:`save`: ``{name: numpy.ndarray}`` with the saved keys
    (a nested dict comes back nested, its numbers, strings and None as Python values).

    Never unpickles: object arrays are refused. Files written by ``numpy.savez`` (and
    by older versions of :func:`save`) load too, under NumPy's names.

    Args:
        path: the file (str, bytes or ``os.PathLike``).
        max_bytes: the most bytes the arrays may take once inflated, summed over the
            file (default 2 GiB). Sizes are checked from the zip directory and each
            ``.npy`` header before anything is inflated. Raise it, or pass None, for a
            larger file you trust.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not an ``.npz`` archive of plain arrays, is damaged
            (CRC error, sizes that disagree, an unsupported compression method), or is
            larger than ``max_bytes``; the message names the file and the member.
    """
    path, arrays, _ = read_archive("load", path, max_bytes)
    return nested.unflatten(arrays, f"load: {path!r}") if nested.TREE in arrays else arrays
