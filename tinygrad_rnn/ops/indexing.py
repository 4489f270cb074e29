"""Indexing: ``x[index]`` and its adjoint, the scatter-add.

Reading ``x[index]`` copies some of x's elements; its backward adds the gradient back
at the places they were read from (a place read twice gets both gradients).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd import Function
from ..config import config
from .base import TensorOps, shape_str

if TYPE_CHECKING:
    from ..grad_buffers import GradBuffers
    from ..tensor import Tensor


def normalize_index(x: Tensor, index: Any) -> Any:
    """Turn Tensors and lists inside an index into arrays of ``x``'s backend."""
    if type(index) is int or type(index) is slice:  # x[t], x[a:b]: nothing to convert
        return index
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    backend = x.backend
    for p in parts:
        if isinstance(p, TensorOps):
            if p.backend is not backend:
                raise RuntimeError(
                    f"indexing: the index is on device {p.device!r} but the tensor is on "
                    f"{x.device!r}; expected both on one device"
                )
            if not (backend.is_integer(p.dtype) or backend.is_bool(p.dtype)):
                raise IndexError(f"indexing: index tensors must be integer or bool, got dtype {p.dtype}")
            p = p._data
        elif isinstance(p, list):
            p = backend.asarray(p)
            if p.size and not (backend.is_integer(p.dtype) or backend.is_bool(p.dtype)):
                raise IndexError(f"indexing: index lists must hold integers or bools, got dtype {p.dtype}")
            if not p.size:
                p = p.astype(backend.int64)
        elif backend.is_array(p):
            pass
        elif hasattr(p, "__array__") or hasattr(p, "__cuda_array_interface__"):
            p = backend.from_numpy(p) if backend.name == "cpu" else backend.asarray(p)
        elif not (isinstance(p, (int, slice)) or p is None or p is Ellipsis):
            raise IndexError(
                f"indexing: unsupported index element {p!r} of type {type(p).__name__}; expected "
                "ints, slices, None, Ellipsis, or integer/bool arrays"
            )
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


class GetItem(Function):
    """getitem: y = x[index]   (basic slicing or integer/bool-array indexing)
    dx = scatter_add(zeros(x.shape), index, grad)   (repeated indices accumulate)
    """

    reads_inputs = False
    returns_view = True

    def forward(self, x: Any, index: Any) -> Any:
        self.index = index
        return x[index]

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return index_add(grad, self.inputs[0].shape, self.index)

    def backward_accumulate(self, grad: Tensor, out: Tensor, buffers: GradBuffers) -> None:
        """Plain-backward fast path: add ``grad`` into x's gradient buffer at ``index``.

        A loop that reads ``x[t]`` at every step would otherwise build T full-size
        arrays of zeros, one per read: O(T^2) work. Same result, in O(T).
        """
        buffers.scatter(self.inputs[0], self.index, grad._data)


class IndexAdd(Function):
    """scatter_add: y = zeros(shape); y[index] += v   (repeated indices accumulate)
    dv = grad[index]
    """

    reads_inputs = False

    def forward(self, v: Any, shape: tuple[int, ...], index: Any) -> Any:
        self.index = index
        return self.backend.index_add(shape, index, v, v.dtype)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad._apply(GetItem, index=self.index)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]``, differentiable. Bad indices raise ``IndexError`` naming the shape."""
    index = normalize_index(x, index)
    if x.requires_grad and config.grad_enabled and type(index) is not int and type(index) is not slice:
        index = own_copy(x.backend, index)  # backward reads the index: a later change to it must not
    try:
        return x._apply(GetItem, index=index)
    except IndexError as e:
        raise IndexError(f"indexing a tensor of shape {shape_str(x.shape)}: {e}") from None
    except (TypeError, ValueError) as e:  # a slice step of 0, ...
        raise IndexError(f"indexing a tensor of shape {shape_str(x.shape)} with {index!r}: {e}") from None


def own_copy(backend: Any, index: Any) -> Any:
    """The index with its arrays copied: the recorded op keeps its own, whatever the caller
    later writes into the array or tensor it came from."""
    if isinstance(index, tuple):
        return tuple(own_copy(backend, p) for p in index)
    return index.copy() if backend.is_array(index) else index


def index_add(v: Tensor, shape: tuple[int, ...], index: Any) -> Tensor:
    """A tensor of zeros of ``shape`` with ``v`` added at ``index`` (adjoint of getitem)."""
    return v._apply(IndexAdd, shape=tuple(shape), index=index)




def axis_index(backend: Any, index: Any, axis: int) -> tuple:
    """The full index that picks ``index`` (an integer array) along ``axis`` and the same
    position on every other axis: aranges shaped to broadcast against ``index``."""
    parts = []
    for d, n in enumerate(index.shape):
        if d == axis:
            parts.append(index)
        else:
            parts.append(backend.arange(n, backend.int64).reshape(tuple(n if k == d else 1 for k in range(index.ndim))))
    return tuple(parts)


def along_axis(x: Tensor, index: Any, axis: int) -> Tensor:
    """``y[i_0, ..., i_n] = x[i_0, ..., index[i_0, ..., i_n], ..., i_n]`` (``index`` at ``axis``):
    PyTorch's ``gather``, as ``x[...]`` with a broadcast index, so the gradient is
    getitem's scatter-add (an element picked twice gets both gradients).

    ``index`` is a backend integer array with x's number of dimensions and, on every
    other axis, a size at most x's.
    """
    return x._apply(GetItem, index=axis_index(x.backend, index, axis))
