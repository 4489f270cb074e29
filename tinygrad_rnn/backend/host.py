"""Host-side helpers: the random-number generator, ``.npz`` files, Python data.

Everything that touches host NumPy for I/O lives here, so the rest of the package
never imports it (see STYLE.md, "Backend isolation").
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from typing import Any

import numpy as np


def is_host_array(obj: Any) -> bool:
    """True for a ``numpy.ndarray`` or NumPy scalar."""
    return isinstance(obj, (np.ndarray, np.generic))


def as_host_array(data: Any) -> np.ndarray:
    """Python scalars and nested lists -> ``numpy.ndarray`` (dtype inferred)."""
    return np.asarray(data)


def array_of_numbers(data: Any, float32_for_floats: bool) -> np.ndarray:
    """Python data (or a host NumPy array) -> a host array of bools, ints or floats.

    Python floats become float32 when ``float32_for_floats`` (``Tensor``'s default
    dtype); NumPy arrays keep theirs.

    Raises:
        TypeError: ragged lists, strings, objects or complex numbers.
    """
    from_python = not is_host_array(data)
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as e:
        raise TypeError(f"Tensor(data): cannot make an array from {type(data).__name__} ({e}); expected a "
                        "number, a (nested, rectangular) list of numbers, or an array") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor(data): got data of dtype {array.dtype} from {type(data).__name__}; "
                        "expected numbers (bool, int or float)")
    if from_python and array.dtype.kind == "f" and float32_for_floats:
        array = array.astype("float32")
    return array


# ------------------------------------------------------------------ random numbers
def new_rng(seed: int | None) -> np.random.Generator:
    """A fresh PCG64 generator; every random draw of the library comes from one."""
    return np.random.default_rng(seed)


def rng_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def set_rng_state(rng: np.random.Generator, state: dict) -> None:
    rng.bit_generator.state = state


def randn(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype, copy=False)


def rand(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return rng.random(shape).astype(dtype, copy=False)


def uniform(rng: np.random.Generator, low: float, high: float, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return rng.uniform(low, high, shape).astype(dtype, copy=False)


def bernoulli(rng: np.random.Generator, p_keep: float, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return (rng.random(shape) < p_keep).astype(dtype)


def permutation(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.permutation(n)


def integers(rng: np.random.Generator, low: int, high: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(low, high, size=shape)


def choice(rng: np.random.Generator, probs: np.ndarray) -> int:
    """Draw one index with the given (host) probabilities."""
    probs = np.asarray(probs, dtype=np.float64)
    return int(rng.choice(len(probs), p=probs / probs.sum()))


def qr(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Host QR decomposition (used by ``nn.init.orthogonal_``)."""
    return np.linalg.qr(a)


# ------------------------------------------------------------------------ .npz files
def save_npz(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write ``arrays`` to ``path`` atomically.

    The data goes to a temporary file in the same folder, is flushed and fsync'ed, and
    only then renamed over ``path``. A process killed mid-save leaves the previous file
    untouched, never a half-written one.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # what np.load looks for to open an .npz


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file; object arrays are refused, never unpickled.

    Anything that is not a zip archive is refused before NumPy sees it: ``np.load``
    would otherwise treat it as a pickle (refused with advice to allow pickling) or as
    a single ``.npy`` array.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:  # a missing file raises FileNotFoundError here
        magic = f.read(4)
    if magic not in _ZIP_MAGIC:
        raise ValueError(
            f"{path!r} is not a tinygrad_rnn checkpoint: expected an .npz archive of arrays "
            f"(as written by tr.save), but the file starts with {magic!r}, not a zip header"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            out = {}
            for key in f.files:
                try:
                    value = f[key]
                except ValueError as e:
                    if "pickle" in str(e):
                        raise ValueError(
                            f"{path!r}: entry {key!r} is an object array, which would need pickle "
                            "to load; tinygrad_rnn never unpickles. Expected plain numeric arrays."
                        ) from e
                    raise ValueError(f"{path!r}: entry {key!r} is not a readable .npy array ({e})") from e
                if not isinstance(value, np.ndarray):
                    raise ValueError(
                        f"{path!r} is not a tinygrad_rnn checkpoint: entry {key!r} is a "
                        f"{type(value).__name__}, not a .npy array; expected an .npz archive of arrays"
                    )
                out[key] = value
            return out
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ValueError(
            f"{path!r} is not a tinygrad_rnn checkpoint: expected an .npz archive of arrays ({e})"
        ) from e


def unravel_index(i: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(j) for j in np.unravel_index(i, shape)) if shape else ()
