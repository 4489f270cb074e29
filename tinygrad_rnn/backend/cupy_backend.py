"""The GPU backend: arrays are ``cupy.ndarray`` on the current CUDA device.

Imported lazily by :func:`tinygrad_rnn.backend.get_backend`, so that a CPU-only
install never needs CuPy.
"""

from __future__ import annotations

from typing import Any

import cupy as cp
import cupyx
import numpy as np

from .base import Backend, is_basic_index


class CupyBackend(Backend):
    """CuPy on an NVIDIA GPU. Same primitives as NumPy; scatter-add and host copies differ."""

    name = "cuda"

    def __init__(self) -> None:
        super().__init__(cp)

    def index_add_(self, target: Any, index: Any, values: Any) -> None:
        if is_basic_index(index):
            target[index] += values
        else:
            cupyx.scatter_add(target, index, values)

    def argsort(self, a: Any, axis: int, descending: bool = False) -> Any:
        # CuPy's sort is always stable and accepts no kind= but None
        if not descending:
            return cp.argsort(a, axis=axis)
        order = cp.argsort(cp.flip(a, axis=axis), axis=axis)
        return (a.shape[axis] - 1) - cp.flip(order, axis=axis)

    def all_finite(self, a: Any) -> bool:
        return bool(cp.isfinite(a).all().get())

    def synchronize(self) -> None:
        cp.cuda.Device().synchronize()

    def to_numpy(self, a: Any) -> np.ndarray:
        return cp.asnumpy(a)

    def from_numpy(self, host: Any) -> Any:
        return cp.asarray(host)
