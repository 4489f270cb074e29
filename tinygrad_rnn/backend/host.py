"""Host-side helpers: the random-number generator, Python data.

Everything that touches host NumPy lives in ``backend/`` (``.npz`` files in
``npz.py`` and ``npz_read.py``), so the rest of the package never imports it (see STYLE.md,
"Backend isolation").
"""

from __future__ import annotations

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


def multinomial(rng: np.random.Generator, weights: np.ndarray, n: int, replacement: bool) -> np.ndarray:
    """``n`` category indices per row of ``weights`` (1-D or 2-D, not normalised), int64.

    Raises:
        ValueError: a weight negative or not finite, a row of zeros, or without
            ``replacement`` more draws than categories of nonzero weight.
    """
    rows = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("the weights hold negative, infinite or NaN values; expected finite weights >= 0")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("a row of weights adds up to 0; expected a positive total in every row")
    if not replacement and n > (rows > 0).sum(axis=1).min():
        raise ValueError(f"{n} draws without replacement from {int((rows > 0).sum(axis=1).min())} categories of "
                         "nonzero weight; expected at most that many (or replacement=True)")
    out = np.stack([rng.choice(len(p), size=n, replace=replacement, p=p / t) for p, t in zip(rows, totals, strict=True)])
    return out.astype(np.int64).reshape((n,) if np.ndim(weights) == 1 else (len(rows), n))


def qr(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Host QR decomposition (used by ``nn.init.orthogonal_``)."""
    return np.linalg.qr(a)


def unravel_index(i: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(j) for j in np.unravel_index(i, shape)) if shape else ()
