"""The CPU backend: arrays are ``numpy.ndarray``."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import special
from .base import Backend, is_basic_index


class NumpyBackend(Backend):
    """NumPy on the host: the reference backend, and the one tests compare against."""

    name = "cpu"

    def __init__(self) -> None:
        super().__init__(np)

    def index_add_(self, target: Any, index: Any, values: Any) -> None:
        if is_basic_index(index):
            target[index] += values  # a basic index never selects an element twice
        else:
            np.add.at(target, index, values)

    def erf(self, a: Any) -> np.ndarray:
        return special.erf(a)  # W. J. Cody's rational approximations (NumPy has no erf)

    def set_writeable(self, a: Any, flag: bool) -> bool:
        if not flag:  # a view's own flag does not protect the array it views: freeze the whole chain
            while isinstance(a, np.ndarray) and a.flags.writeable:
                a.flags.writeable = False
                a = a.base
            return True
        if not a.flags.writeable:
            try:
                a.flags.writeable = True
            except ValueError:  # a view of a read-only array cannot be made writable
                return False
        return True

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def from_numpy(self, host: Any) -> np.ndarray:
        return np.asarray(host)
