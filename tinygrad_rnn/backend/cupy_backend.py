"""The GPU backend: arrays are ``cupy.ndarray`` on the current CUDA device.

Imported lazily by :func:`tinygrad_rnn.backend.get_backend`, so that a CPU-only
install never needs CuPy.
"""

from __future__ import annotations

from typing import Any

import cupy as cp
import cupyx
import cupyx.scipy.special
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

    def erf(self, a: Any) -> Any:
        return cupyx.scipy.special.erf(a)

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

    # ------------------------------------------------- NCCL (tr.distributed)
    def nccl_unique_id(self) -> tuple[int, ...]:
        from . import nccl

        return nccl.unique_id()

    def nccl_communicator(self, size: int, uid: tuple[int, ...], rank: int) -> Any:
        from . import nccl

        return nccl.Communicator(size, uid, rank)

    def device_count(self) -> int:
        return cp.cuda.runtime.getDeviceCount()

    def use_device(self, index: int) -> None:
        """Make GPU ``index`` current (one GPU per process in a distributed job)."""
        cp.cuda.Device(index).use()
