"""Reading along one axis (``gather``, ``index_select``), writing at an index
(``t[index] = v``, the op :class:`IndexPut`; ``scatter``), and adding at an index
(``scatter_add``, ``index_add``).

``gather`` and ``index_select`` are ``x[index]`` with an index built for one axis, so
their gradient is getitem's scatter-add; ``scatter_add`` and ``index_add`` are that
scatter-add (``IndexAdd``), whose gradient is the read. ``IndexPut`` is the write; its
backward splits the gradient: the places written get it for ``v``, the others for ``x``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd import Function
from . import indexing
from .base import TensorOps, one_axis, shape_str
from .indexing import GetItem, along_axis, axis_index, getitem
from .movement import cast
from .reduce import unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor


class IndexPut(Function):
    """index_put: y = x with y[index] = v   (v broadcast to the shape of x[index], cast to x's dtype)
    dx = grad with grad[index] = 0
    dv = unbroadcast(grad[index], v.shape)
    """

    reads_inputs = False

    def forward(self, x: Any, v: Any, index: Any, inplace: bool = False) -> Any:
        self.index = index
        y = x if inplace else x.copy()  # in place: the recorded t[index] = v writes into t's own array
        y[index] = v
        return y

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, v = self.inputs
        grad_x = grad._apply(IndexPut, grad._lift(0.0), index=self.index) if x.requires_grad else None
        grad_v = None
        if v.requires_grad:
            grad_v = cast(unbroadcast(grad._apply(GetItem, index=self.index), v.shape), v.dtype)
        return grad_x, grad_v


def index_put(x: Tensor, index: Any, v: Tensor, inplace: bool = False) -> Tensor:
    """``x`` with ``x[index] = v`` (``index`` already normalized), recorded; ``inplace``
    writes into x's array (used only by a recorded ``t[index] = v``, see ops/inplace.py)."""
    try:
        return x._apply(IndexPut, v, index=index, inplace=inplace)
    except IndexError as e:
        raise IndexError(f"t[index] = v on a tensor of shape {shape_str(x.shape)}: {e}") from None
    except ValueError as e:
        raise ValueError(f"t[index] = v: a value of shape {shape_str(v.shape)} does not fit the place of a tensor of "
                         f"shape {shape_str(x.shape)} it is written to ({e}); expected a shape that broadcasts "
                         "to it") from None


def _index_tensor(name: str, x: Tensor, index: Any) -> Any:
    """An integer index Tensor on x's device -> its backend array."""
    if not isinstance(index, TensorOps):
        raise TypeError(f"{name}: index is a {type(index).__name__}; expected an integer Tensor (e.g. "
                        "tr.tensor([0, 2]))")
    if not index.backend.is_integer(index.dtype):
        raise TypeError(f"{name}: index has dtype {index.dtype}; expected an integer Tensor (convert with .long())")
    if index.backend is not x.backend:
        raise RuntimeError(f"{name}: index is on {index.device!r} but the tensor is on {x.device!r}; expected one "
                           "device")
    return index._data


class GatherOps(TensorOps):
    """``gather``, ``index_select`` and ``take_along_dim`` as Tensor methods."""

    __slots__ = ()

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """``out[i][j][k] = self[index[i][j][k]][j][k]`` for ``dim=0`` (likewise for other dims).

        ``index`` has self's number of dimensions and no larger size than self on the
        other dims. The gradient adds back at the gathered places (repeats accumulate).
        """
        array = _index_tensor("gather", self, index)
        if index.ndim != self.ndim:
            raise ValueError(f"gather: index has {index.ndim} dimensions and the tensor {self.ndim}; expected the same")
        axis = one_axis(dim, max(self.ndim, 1), "gather")
        if self.ndim == 0:
            return getitem(self, array)  # PyTorch: a 0-d index into a 0-d tensor (only 0 is valid)
        too_big = [d for d in range(self.ndim) if d != axis and index.shape[d] > self.shape[d]]
        if too_big:
            raise ValueError(f"gather: index of shape {shape_str(index.shape)} is larger than the tensor's "
                             f"{shape_str(self.shape)} on dimension {too_big[0]}; expected at most its size there")
        try:
            return along_axis(self, array, axis)
        except IndexError as e:
            raise IndexError(f"gather: an index is out of range for dimension {axis} of size {self.shape[axis]} "
                             f"({e})") from None

    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        """``gather`` with broadcasting of the other dims (NumPy's ``take_along_axis``)."""
        if dim is None:
            return self.reshape(-1).gather(0, indices.reshape(-1))
        axis = one_axis(dim, max(self.ndim, 1), "take_along_dim")
        shape = list(self.shape)
        shape[axis] = indices.shape[axis]
        return self.gather(axis, indices.expand(*shape)) if tuple(shape) != indices.shape else self.gather(axis, indices)

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """The slices ``index`` (a 0-d or 1-d integer tensor) along ``dim``, in that order."""
        array = _index_tensor("index_select", self, index)
        if index.ndim > 1:
            raise ValueError(f"index_select: index has shape {shape_str(index.shape)}; expected 0 or 1 dimensions")
        axis = one_axis(dim, max(self.ndim, 1), "index_select")
        if self.ndim == 0:
            return getitem(self, array.reshape(()))
        return getitem(self, (slice(None),) * axis + (array.reshape((-1,)),))

    # ------------------------------------------------------------ writes and sums at indices
    def _scatter_index(self, name: str, dim: int, index: Tensor, src: Any) -> tuple[tuple, Any]:
        """(the full index of ``index`` along ``dim``, src cut to index's shape as PyTorch reads it)."""
        array = _index_tensor(name, self, index)
        if index.ndim != self.ndim:
            raise ValueError(f"{name}: index has {index.ndim} dimensions and the tensor {self.ndim}; expected the same")
        axis = one_axis(dim, max(self.ndim, 1), name)
        if isinstance(src, TensorOps):
            if src.ndim != index.ndim or any(s < i for s, i in zip(src.shape, index.shape, strict=True)):
                raise ValueError(f"{name}: src of shape {shape_str(src.shape)} is smaller than index "
                                 f"{shape_str(index.shape)}; expected at least index's size on every dimension")
            if src.shape != index.shape:
                src = getitem(src, tuple(slice(0, n) for n in index.shape))
        return axis_index(self.backend, array, axis), src

    def scatter(self, dim: int, index: Tensor, src: Any = None, *, value: Any = None) -> Tensor:
        """A copy of self with ``out[index[i][j]][j] = src[i][j]`` (``dim=0``; likewise for other
        dims), or ``= value``. Where an index repeats, which write wins is not specified."""
        src = value if src is None else src
        where, src = self._scatter_index("scatter", dim, index, src)
        return index_put(self, where, src if isinstance(src, TensorOps) else self._lift(src))

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """self plus ``src`` added at ``index`` along ``dim`` (``out[index[i][j]][j] += src[i][j]``
        for ``dim=0``); repeated indices accumulate. The adjoint of ``gather``."""
        where, src = self._scatter_index("scatter_add", dim, index, src)
        return cast(self + indexing.index_add(src, self.shape, where), self.dtype)

    def index_add(self, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:
        """self plus ``alpha * source`` added at the slices ``index`` (1-d) along ``dim``; repeats accumulate."""
        array = _index_tensor("index_add", self, index)
        axis = one_axis(dim, max(self.ndim, 1), "index_add")
        source = source if alpha == 1 else source * alpha
        try:
            added = indexing.index_add(source, self.shape, (slice(None),) * axis + (array.reshape((-1,)),))
        except (IndexError, ValueError) as e:
            raise ValueError(f"index_add: source of shape {shape_str(source.shape)} and index of shape "
                             f"{shape_str(index.shape)} do not fit dimension {axis} of a tensor of shape "
                             f"{shape_str(self.shape)} ({e})") from None
        return cast(self + added, self.dtype)

    def scatter_(self, dim: int, index: Tensor, src: Any = None, *, value: Any = None) -> Tensor:
        return self._inplace_unary("scatter_", lambda x: x.scatter(dim, index, src, value=value),
                                   src if src is not None else value)

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return self._inplace_unary("scatter_add_", lambda x: x.scatter_add(dim, index, src), src)

    def index_add_(self, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:
        return self._inplace_unary("index_add_", lambda x: x.index_add(dim, index, source, alpha=alpha), source)
