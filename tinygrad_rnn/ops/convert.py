"""Conversions: a tensor on another device or as another dtype (``to``, ``type``,
``cpu``, ``cuda``), and the exchange of memory with other libraries through DLPack.

A cast between floating dtypes is an op on the tape (``Cast``, in movement.py); a move
between devices makes a new leaf (the backends' arrays cannot be on one tape).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import devices, dtypes
from ..backend import backend_for_dlpack, get_backend
from ..jit_trace import call as recorded_call
from .base import TensorOps
from .movement import to_dtype

if TYPE_CHECKING:
    from ..tensor import Tensor


class ConvertOps(TensorOps):
    """Device moves, dtype conversions and DLPack as Tensor methods."""

    __slots__ = ()

    def to(self, *args: Any, device: Any = None, dtype: Any = None, non_blocking: bool = False, copy: bool = False,
           memory_format: Any = None) -> Tensor:
        """This tensor on another device and/or as another dtype, in PyTorch's forms:
        ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` (other's device
        and dtype), or the keywords. Returns self when nothing changes (``copy=True``: a copy).

        A cast to floats is on the tape; one to integers or bools is not (as PyTorch).
        Moving devices returns a new leaf tensor (moves are not on the tape) that keeps
        ``requires_grad``; inside ``tr.jit`` the move is recorded and every replay makes it
        again (lengths on the CPU for a model elsewhere). ``non_blocking`` is accepted and ignored.

        Raises:
            TypeError: an argument that is neither a device, a dtype nor a Tensor.
            NotImplementedError: ``memory_format`` (there are no memory formats here).
        """
        if memory_format is not None:
            raise NotImplementedError(f"to(memory_format={memory_format!r}): memory formats (channels_last...) are not "
                                      "supported; the backends choose the layout. Drop the argument.")
        for a in args:
            if isinstance(a, TensorOps):
                device, dtype = device or a.device, dtype or a.dtype
            elif _is_device(a):
                device = a
            elif a is not None:
                dtype = a
        out = self
        if device is not None and get_backend(device) is not self.backend:
            backend = get_backend(device)
            source = self.backend  # through the host, as one recorded call: a tr.jit replay moves it again
            out = self._make(recorded_call(lambda a: backend.from_numpy(source.to_numpy(a)), self._data), backend)
            out.requires_grad = self.requires_grad
        if dtype is not None:
            out = to_dtype(out, dtypes.name_of(dtype) if isinstance(dtype, str) else dtype)
        return out.clone() if copy and out is self else out

    def type(self, dtype: Any = None) -> Any:
        """``type()``: the PyTorch type name (e.g. ``"torch.FloatTensor"``); ``type(dtype)``: ``to(dtype)``."""
        if dtype is None:
            kind = _TYPE_NAMES.get(str(self.dtype), str(self.dtype))
            return f"torch.{'cuda.' if self.device == 'cuda' else ''}{kind}Tensor"
        if isinstance(dtype, str) and dtype.startswith("torch.") and dtype.endswith("Tensor"):
            names = {f"{v}Tensor": k for k, v in _TYPE_NAMES.items()}
            dtype = names.get(dtype.split(".")[-1], dtype)
        return self.to(dtype)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """This tensor on the GPU (``device`` may be None, 0, "cuda" or "cuda:0")."""
        return self.to("cuda" if device in (None, 0) else device)

    @classmethod
    def from_dlpack(cls, obj: Any) -> Tensor:
        """A tensor sharing the memory of ``obj`` (a torch.Tensor, numpy.ndarray, jax.Array,
        cupy.ndarray... anything with ``__dlpack__``), on the CPU or the GPU where ``obj``
        lives; writes to one are seen by the other. A Tensor gives a detached alias.

        Raises:
            TypeError: ``obj`` is not a DLPack exporter, or holds no real numbers.
            ValueError: ``obj`` lives on a device no backend serves.
        """
        if isinstance(obj, TensorOps):
            return obj.detach()
        backend = backend_for_dlpack(obj)
        array = backend.from_dlpack(obj)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"from_dlpack: the array has dtype {array.dtype}; expected bools, ints or floats")
        return cls._make(array, backend)

    def __dlpack__(self, **kwargs: Any) -> Any:
        """Lend this tensor's memory to another library (``torch.from_dlpack(t)``,
        ``np.from_dlpack(t)``, ``jax.dlpack.from_dlpack(t)``), without a copy.

        Writes made by the other library are not seen by the version counters: do not
        change a tensor that a recorded graph still needs that way.

        Raises:
            RuntimeError: the tensor requires grad (as PyTorch: lend ``t.detach()``).
        """
        if self.requires_grad:
            raise RuntimeError("__dlpack__: cannot lend a tensor that requires grad (PyTorch refuses too: the other "
                               "library's writes would be invisible to its gradients); expected t.detach()")
        return self.backend.dlpack(self._data, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.backend.dlpack_device(self._data)


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _is_device(a: Any) -> bool:
    """Is a positional argument of ``to`` a device (else a dtype)? A string that names a device."""
    if not isinstance(a, str) or isinstance(a, dtypes.DType):
        return False
    try:
        devices.device(a)
    except ValueError:
        return False
    return True
