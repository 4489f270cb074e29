"""In-place changes of a tensor's values, and the versions that make them safe.

A recorded op keeps its input tensors so its backward can read their values. If those
values changed in between (an optimizer step, ``load_state_dict``, an ``nn.init``
function, an in-place op, an assignment to ``.data``), the backward would compute a
gradient of a function nobody evaluated: a silently wrong answer. So every in-place
change stamps the tensor with a fresh tick of one clock (its version), every recorded
op notes the clock, and backward refuses an op whose saved tensors are newer than it
(:func:`tinygrad_rnn.autograd.check_versions`). Tensors that share an array
(``detach()``, ``tr.from_numpy``) share the version.

Writes into the raw array (``t.data[:] = 0``) bypass all of this, so the leaves a
recorded op will read are made read-only on backends that can (NumPy): such a write
fails at once instead of changing a gradient. The API's own in-place changes make the
array writable again and take a new version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..backend import backend_of
from ..config import VERSION_CLOCK, config
from .base import TensorOps

if TYPE_CHECKING:
    from ..tensor import Tensor


class InplaceOps(TensorOps):
    """``.data`` assignment, versions, and the in-place ops ``zero_``, ``fill_``, ``copy_``,
    ``add_``, ``sub_``, ``mul_``, ``div_``, ``clamp_`` (PyTorch's names and meaning)."""

    __slots__ = ()

    @property
    def data(self) -> Any:
        """The backend array (NumPy or CuPy). Assigning a new array is an in-place change.

        The array of a tensor computed on the tape is handed out read-only: a later op may
        save it for backward, and a raw write into it would change that gradient unseen.
        """
        if self._ctx is not None:
            self.backend.set_writeable(self._data, False)
        return self._data

    @data.setter
    def data(self, array: Any) -> None:
        backend = self.backend if self.backend.is_array(array) else backend_of(array)
        if backend is None or not backend.is_array(array):
            raise TypeError(f"Tensor.data = {type(array).__name__}: expected a NumPy or CuPy array "
                            "(e.g. t.data = Tensor(x).data, or t.copy_(x))")
        self._bump_version()
        self._data, self.backend, self._frozen = array, backend, False

    def _version_box(self) -> list[int]:
        """The tensor's version, a one-element list shared with the tensors that share its array."""
        if self._version is None:
            self._version = [0]
        return self._version

    def _bump_version(self) -> None:
        VERSION_CLOCK[0] += 1
        self._version_box()[0] = VERSION_CLOCK[0]

    def _freeze(self) -> None:
        """Make the raw array read-only: a recorded op will read it in backward."""
        self.backend.set_writeable(self._data, False)
        self._frozen = True

    def _begin_inplace(self, name: str) -> None:
        """Checks before an in-place op; then the array is writable and the version new."""
        if self.requires_grad and config.grad_enabled:
            raise RuntimeError(
                f"{name}: an in-place change of a tensor that requires grad, with grad mode on; expected it "
                "inside `with tr.no_grad():` (as an optimizer does), or an out-of-place op (e.g. t = t + x)"
            )
        if not self.backend.is_array(self._data):  # a NumPy scalar (0-d results): make it an array
            self._data = self.backend.asarray(self._data)
        if not self.backend.set_writeable(self._data, True):
            raise RuntimeError(f"{name}: the tensor's array is a read-only view of an array that a recorded op "
                               "reads to compute a gradient; expected a tensor that owns its array (use .clone())")
        self._frozen = False
        self._bump_version()

    def _inplace(self, name: str, other: Any, update: Any) -> Tensor:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            value = other  # a Python number goes to the array as it is (no cached constant)
        else:
            other = self._lift(other)
            if other.backend is not self.backend:
                raise RuntimeError(f"{name}: other is on {other.device!r} but the tensor is on {self.device!r}")
            value = other._data
        self._begin_inplace(name)
        try:
            update(self._data, value)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{name}: cannot write {type(other).__name__} {getattr(other, 'shape', '')} into a "
                             f"tensor of shape {self.shape} and dtype {self.dtype} ({e}); expected a number or "
                             "a tensor that broadcasts to the tensor's shape") from None
        return self

    def copy_(self, src: Any) -> Tensor:
        """self[...] = src (broadcast, cast to self's dtype); returns self."""
        def update(a: Any, b: Any) -> None:
            a[...] = b
        return self._inplace("copy_", src, update)

    def fill_(self, value: float) -> Tensor:
        return self.copy_(value)

    def zero_(self) -> Tensor:
        return self.copy_(0)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """self += alpha * other; returns self."""
        def update(a: Any, b: Any) -> None:
            a += b if alpha == 1 else alpha * b
        return self._inplace("add_", other, update)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return self.add_(other, -alpha)

    def mul_(self, other: Any) -> Tensor:
        def update(a: Any, b: Any) -> None:
            a *= b
        return self._inplace("mul_", other, update)

    def div_(self, other: Any) -> Tensor:
        def update(a: Any, b: Any) -> None:
            a /= b
        return self._inplace("div_", other, update)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002 (PyTorch's names)
        """Clip to [min, max] in place; either bound may be None."""
        self._begin_inplace("clamp_")
        if min is not None or max is not None:
            self.backend.clip(self._data, min, max, out=self._data)
        return self
