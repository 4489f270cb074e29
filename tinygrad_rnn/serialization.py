"""``tr.save`` / ``tr.load``: state dicts as ``.npz`` files, never pickle.

Both take a file name or, as ``torch.save``/``torch.load`` do, an open binary file
object (``io.BytesIO`` too).

Any string is a valid key and comes back exactly (see ``backend/npz.py`` for the file
layout). Loading checks every declared size before inflating anything
(``backend/npz_read.py``), so a damaged or hostile file is refused with a ``ValueError``
naming the file and the member.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any, BinaryIO

from . import nested
from .backend import backend_of, get_backend, host, npz, npz_read
from .tensor import Tensor

DEFAULT_MAX_BYTES = 2 * 1024**3
"""``tr.load`` refuses files that would inflate to more than this (2 GiB) unless told."""
_STREAM_CHUNK = 1 << 20


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
        raise TypeError(f"{fn}: path is {path!r}; expected a non-empty str, bytes or os.PathLike file name, "
                        "or an open binary file object")
    return text


def file_object(fn: str, f: Any, write: bool) -> tuple[Any, str] | None:
    """``(f, its name for messages)`` if ``f`` is an open binary file object, None for a path.

    Raises:
        TypeError: ``f`` is a text-mode file.
        ValueError: ``f`` is closed, or not open for writing (``write``) or reading
            (``io.UnsupportedOperation``, as the file itself would raise).
    """
    method = "write" if write else "read"
    if isinstance(f, (str, bytes, os.PathLike)) or not callable(getattr(f, method, None)):
        return None
    name = getattr(f, "name", None)
    label = name if isinstance(name, str) else f"<{type(f).__name__}>"
    how = "open(path, 'wb')" if write else "open(path, 'rb')"
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"{fn}: {label!r} is open in text mode; expected a binary file object ({how}, io.BytesIO)")
    if getattr(f, "closed", False):
        raise ValueError(f"{fn}: {label!r} is closed; expected an open binary file object ({how}, io.BytesIO)")
    able = getattr(f, "writable" if write else "readable", None)
    if callable(able) and not able():
        raise io.UnsupportedOperation(f"{fn}: {label!r} is not open for {'writing' if write else 'reading'} (mode "
                                      f"{getattr(f, 'mode', '?')!r}); expected one opened with {how}, or io.BytesIO")
    return f, label


def save(state_dict: dict[str, Any], path: str | bytes | os.PathLike | BinaryIO) -> None:
    """Write ``{name: Tensor or array}`` to ``path`` as an ``.npz`` file, atomically.

    The file is written to a temporary name, fsync'ed and renamed, so a crash in the
    middle of a save leaves any previous file at ``path`` intact. Every str key round
    trips exactly, whatever characters it holds. A nested dict (an optimizer's or a
    scheduler's ``state_dict()``, or ``{"model": ..., "optimizer": ..., "epoch": 3}``)
    is stored leaf by leaf with its nesting (see :mod:`tinygrad_rnn.nested`), and
    :func:`load` gives it back as it was.

    ``path`` may also be an open binary file object (``open(p, "wb")``, ``io.BytesIO``),
    as in ``torch.save``: the archive is written from its current position and the file
    is left open. Every entry is checked before the first byte is written, so a refused
    dict writes nothing; but the caller owns the file, so there is no temporary file and
    no rename: an interrupted or failing write can leave a partial archive in it.

    Only dicts are saved, never whole objects: ``tr.save(model, path)`` (PyTorch's
    pickling of a whole module) is refused with a message saying to save
    ``model.state_dict()``, which loads back with ``model.load_state_dict(tr.load(path))``.

    Raises:
        TypeError: ``state_dict`` is not a dict of str -> Tensor/array/number (or of
            dicts, lists, tuples, strings and None around those; a module or an
            optimizer is named as such), or ``path`` is neither a file name nor a
            binary file object.
        FileNotFoundError: the folder of ``path`` does not exist.
        PermissionError: ``path`` is read-only (as ``torch.save`` refuses).
        io.UnsupportedOperation: a file object not open for writing.
    """
    target = file_object("save", path, write=True)
    if target is None:
        path = fspath("save", path)
    if not isinstance(state_dict, dict):
        if callable(getattr(state_dict, "state_dict", None)):
            kind = type(state_dict).__name__
            raise TypeError(
                f"save: got a whole {kind} object; tinygrad_rnn saves dicts of arrays and never pickles objects. "
                f"Save its state dict instead: tr.save(obj.state_dict(), path), and load it back with "
                f"obj.load_state_dict(tr.load(path)) into a freshly built {kind}"
            )
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
    if target is not None:
        npz.write_npz(entries, target[0])
    else:
        npz.save_npz(entries, path)


def _check_limit(fn: str, max_bytes: Any) -> None:
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int)):
        raise TypeError(f"{fn}: max_bytes={max_bytes!r} is a {type(max_bytes).__name__}; expected an int or None")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"{fn}: max_bytes={max_bytes}; expected a non-negative number of bytes, or None for no limit")


def stream_limit(max_bytes: int | None) -> int | None:
    """The most bytes read from a stream that cannot seek: any archive within ``max_bytes`` is smaller."""
    return None if max_bytes is None else 2 * max_bytes + (16 << 20)


def _seekable(f: Any, label: str, max_bytes: int | None) -> Any:
    """``f`` itself if it can seek (a zip is read from its end), else its bytes read into memory, up to a limit."""
    seekable = getattr(f, "seekable", None)
    if callable(seekable) and seekable() and callable(getattr(f, "tell", None)):
        return f
    limit, chunks, total = stream_limit(max_bytes), [], 0
    while chunk := f.read(_STREAM_CHUNK):
        chunks.append(chunk)
        total += len(chunk)
        if limit is not None and total > limit:
            raise ValueError(f"{label!r}: the stream holds more than {limit} bytes, more than any archive within "
                             f"max_bytes={max_bytes}; nothing was inflated. If it is trusted, pass a larger "
                             "max_bytes= (or None for no limit)")
    return io.BytesIO(b"".join(chunks))


def read_archive(fn: str, path: Any, max_bytes: int | None) -> tuple[str, dict[str, Any], dict[str, str]]:
    """``(path or file label, {key: array}, {key: zip member name})`` of a file written by :func:`save`."""
    source = file_object(fn, path, write=False)
    _check_limit(fn, max_bytes)
    if source is None:
        path = fspath(fn, path)
        arrays, members = npz_read.load_npz(path, max_bytes)
        return path, arrays, members
    f, label = source
    arrays, members = npz_read.load_npz(_seekable(f, label, max_bytes), max_bytes, name=label)
    return label, arrays, members


def _placement(map_location: Any) -> Callable[[Any], Any]:
    """``map_location`` -> a function from a loaded host array to the array to return."""
    if map_location is None:
        return lambda array: array
    if callable(map_location) and not isinstance(map_location, dict):
        def call(array: Any) -> Any:
            moved = map_location(array, "cpu")  # PyTorch's (storage, location): the saved location is the host
            if moved is None:
                return array
            if isinstance(moved, Tensor):
                return moved.data
            if not (host.is_host_array(moved) or backend_of(moved) is not None):
                raise TypeError(f"load: map_location returned a {type(moved).__name__}; expected an array, a "
                                "Tensor, or None to keep the loaded array")
            return moved
        return call
    if isinstance(map_location, dict):  # {saved location: wanted location}; everything was saved from the host
        target = map_location.get("cpu")
        if isinstance(target, dict) or (callable(target) and not hasattr(target, "type")):
            raise TypeError(f"load: map_location={map_location!r} maps 'cpu' to a {type(target).__name__}; "
                            "expected a device such as 'cuda'")
        return _placement(target)
    name = map_location if isinstance(map_location, str) else str(map_location) if hasattr(map_location, "type") else None
    if name is None:
        raise TypeError(f"load: map_location is a {type(map_location).__name__}; expected None, a device ('cpu', "
                        "'cuda'), a dict {'cpu': device} or a function (array, location) -> array")
    try:
        backend = get_backend(name)
    except (ValueError, RuntimeError) as e:
        raise type(e)(f"load: map_location={map_location!r}: {e}") from None
    if backend.name == "cpu":
        return lambda array: array
    return backend.from_numpy


def load(
    path: str | bytes | os.PathLike | BinaryIO,
    map_location: Any = None,
    *,
    weights_only: bool | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> dict[str, Any]:
    """Read a file written by :func:`save`: ``{name: numpy.ndarray}`` with the saved keys
    (a nested dict comes back nested, its numbers, strings and None as Python values).

    Never unpickles: object arrays are refused. Files written by ``numpy.savez`` (and
    by older versions of :func:`save`) load too, under NumPy's names.

    Args:
        path: the file (str, bytes or ``os.PathLike``), or an open binary file object
            (``open(p, "rb")``, ``io.BytesIO``; rewind it first with ``seek(0)`` after
            writing), read from its current position. One that cannot seek (a pipe) is
            read into memory, at most ``2 * max_bytes + 16 MiB``.
        map_location: where the arrays go, as in ``torch.load``. None, ``"cpu"`` (or a
            device object whose ``str`` is one) keep host NumPy arrays; ``"cuda"`` gives
            CuPy arrays (the backend arrays of that device). A dict is read as PyTorch's
            ``{saved location: wanted location}``; everything here was saved from the
            host, so only its ``"cpu"`` entry matters. A function is called as
            ``fn(array, "cpu")`` and returns the array to keep (or None to keep the
            loaded one). ``model.load_state_dict`` puts values on each parameter's own
            device anyway, so a state dict needs no ``map_location``.
        weights_only: accepted for PyTorch scripts and without effect: nothing is ever
            unpickled, so loading is always "weights only", even with ``False``.
        max_bytes: the most bytes the arrays may take once inflated, summed over the
            file (default 2 GiB). Sizes are checked from the zip directory and each
            ``.npy`` header before anything is inflated. Raise it, or pass None, for a
            larger file you trust.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not an ``.npz`` archive of plain arrays, is damaged (CRC
            error, sizes that disagree, an unsupported compression method), or is
            larger than ``max_bytes``; the message names the file and the member. Also an
            unknown ``map_location`` device.
        RuntimeError: ``map_location="cuda"`` without CuPy or a GPU.
        TypeError: ``weights_only`` is not a bool or None, or ``map_location`` is of
            another kind.
    """
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only={weights_only!r}; expected True, False or None")
    place = _placement(map_location)
    label, arrays, _ = read_archive("load", path, max_bytes)
    if nested.TREE in arrays:  # a nested dict: rebuilt on the host, then its arrays placed
        return _place_leaves(nested.unflatten(arrays, f"load: {label!r}"), place)
    return {name: place(array) for name, array in arrays.items()}


def _place_leaves(tree: Any, place: Callable[[Any], Any]) -> Any:
    """``tree`` with every host array replaced by ``place(array)``; other leaves kept."""
    if isinstance(tree, dict):
        return {key: _place_leaves(value, place) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_place_leaves(value, place) for value in tree)
    return place(tree) if host.is_host_array(tree) else tree
