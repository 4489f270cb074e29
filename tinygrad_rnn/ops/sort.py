"""Sorting: ``sort``, ``argsort`` and ``topk``.

The order comes from the backend's stable ``argsort`` (not differentiable); the values
are then read with ``gather``, so their gradient goes back to the places they were
taken from, as in PyTorch.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

from .base import TensorOps, one_axis, shape_str
from .indexing import along_axis, getitem
from .reduce import ValuesIndices

if TYPE_CHECKING:
    from ..tensor import Tensor


def _order(x: Tensor, dim: int, descending: bool, name: str) -> tuple[int, Any]:
    """(axis, int64 indices that sort x along it); stable: equal values keep their order."""
    if x.ndim == 0:
        one_axis(dim, 1, name)
        return 0, x.backend.zeros((), x.backend.int64)
    axis = one_axis(dim, x.ndim, name)
    return axis, x.backend.argsort(x._data, axis=axis, descending=descending)


class SortOps(TensorOps):
    """Sorting as Tensor methods."""

    __slots__ = ()

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
        """``(values, indices)``: self sorted along ``dim`` and where each value came from.

        Always stable (``stable`` is accepted for PyTorch's signature): equal values keep
        their order. NaN sorts as the largest value.
        """
        axis, order = _order(self, dim, descending, "sort")
        if self.ndim == 0:
            return ValuesIndices(self, self._make(order, self.backend))
        return ValuesIndices(along_axis(self, order, axis), self._make(order, self.backend))

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        """The int64 indices that sort self along ``dim`` (stable)."""
        return self._make(_order(self, dim, descending, "argsort")[1], self.backend)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:  # noqa: A002
        """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) entries
        along ``dim``, largest first (ties: the lower index first). The values' gradient
        goes to the places they were taken from."""
        try:
            k = operator.index(k) if not isinstance(k, bool) else -1
        except TypeError:
            k = -1
        size = self.shape[one_axis(dim, self.ndim, "topk")] if self.ndim else 1
        low = 0 if self.ndim else 1  # a 0-d tensor has exactly one value to give
        if not low <= k <= size:
            raise ValueError(f"topk: k={k!r} for dimension {dim} of size {size} of a tensor of shape "
                             f"{shape_str(self.shape)}; expected an int in [{low}, {size}]")
        axis, order = _order(self, dim, largest, "topk")
        if self.ndim == 0:
            return ValuesIndices(self, self._make(order, self.backend))
        order = order[(slice(None),) * axis + (slice(0, k),)]
        return ValuesIndices(along_axis(self, order, axis), self._make(order, self.backend))

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
        """``(values, indices)`` of the k-th smallest entry along ``dim`` (k counts from 1)."""
        axis = one_axis(dim, max(self.ndim, 1), "kthvalue")
        size = self.shape[axis] if self.ndim else 1
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= size:
            raise ValueError(f"kthvalue: k={k!r} for a dimension of size {size}; expected an int in [1, {size}]")
        values, indices = self.topk(k, dim=dim, largest=False)
        if self.ndim == 0:
            return ValuesIndices(values, indices)
        pick = (slice(None),) * axis + (slice(k - 1, k) if keepdim else k - 1,)
        return ValuesIndices(getitem(values, pick), getitem(indices, pick))
