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

An in-place op on a tensor of the tape (or writing a value that requires grad, as
``outputs[t] = h``) is recorded, as in PyTorch: the tensor's old value becomes a node of
its own, and the tensor becomes the output of the op, computed from it
(:meth:`InplaceOps._record_inplace`). Ops recorded earlier that used the tensor are
pointed at the old value when backward reaches them (``autograd.reroute``). A leaf that
requires grad is not changed in place outside ``no_grad``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..backend import backend_of
from ..config import VERSION_CLOCK, config
from .base import TensorOps, shape_str
from .gather import index_put
from .indexing import normalize_index, own_copy
from .movement import cast
from .select import Where

if TYPE_CHECKING:
    from ..tensor import Tensor


class InplaceOps(TensorOps):
    """``.data`` assignment, versions, ``t[index] = v`` and the in-place ops ``zero_``,
    ``fill_``, ``copy_``, ``add_``, ``sub_``, ``mul_``, ``div_``, ``clamp_``,
    ``masked_fill_`` (PyTorch's names and meaning)."""

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
        """Before a write outside the tape: the array is made writable and the version new."""
        if not self.backend.is_array(self._data):  # a NumPy scalar (0-d results): make it an array
            self._data = self.backend.asarray(self._data)
        if not self.backend.set_writeable(self._data, True):
            raise RuntimeError(f"{name}: the tensor's array is a read-only view of an array that a recorded op "
                               "reads to compute a gradient; expected a tensor that owns its array (use .clone())")
        self._frozen = False
        self._bump_version()

    def _on_tape(self, other: Any = None) -> bool:
        """Is an in-place change to be recorded (grad mode on, and self or ``other`` requires grad)?"""
        return config.grad_enabled and (self.requires_grad or getattr(other, "requires_grad", False))

    def _record_inplace(self, name: str, compute: Any) -> Tensor:
        """Change self in place on the tape: self becomes ``compute(old)``, old being a new node
        that takes over self's place in the graph (its op, creation order and hooks).

        ``compute`` builds the new value from ``old`` with recorded ops that do not save
        ``old`` for backward (clone it first if they would): old shares self's array, which
        is overwritten here.
        """
        if self._ctx is None and self.requires_grad:
            raise RuntimeError(
                f"{name}: an in-place change of a leaf tensor that requires grad, with grad mode on (PyTorch: "
                "'a leaf Variable that requires grad is being used in an in-place operation'); expected it inside "
                "`with tr.no_grad():` (as an optimizer does), or an out-of-place op (e.g. t = t + x)")
        if getattr(self, "_view", False):
            raise RuntimeError(
                f"{name}: an in-place change on the tape of a view of another tensor (a slice, reshape or transpose "
                "of it), which that tensor's graph would not see; expected the write on the tensor itself "
                "(t[i, j] = v rather than t[i][j] = v), or on a copy (.clone())")
        if not self.backend.is_array(self._data):
            self._data = self.backend.asarray(self._data)
        if not self.backend.set_writeable(self._data, True):
            raise RuntimeError(f"{name}: the tensor's array is a read-only view of another array; expected a tensor "
                               "that owns its array (use .clone())")
        old = self._make(self._data, self.backend, self.requires_grad)
        old._ctx, old._seq, old._hooks, old._frozen = self._ctx, self._seq, self._hooks, self._frozen
        old._version = self._version_box()
        result = compute(old)
        if result.shape != self.shape:
            raise ValueError(f"{name}: the result has shape {shape_str(result.shape)}, not the tensor's "
                             f"{shape_str(self.shape)}; expected a value that broadcasts to the tensor's shape")
        if result._ctx is None:  # a constant (uniform_ on a tensor of the tape): old's places get no gradient
            result = _replace(old, result)
        result = cast(result, self.dtype)  # an in-place op keeps the tensor's dtype
        if result._data is not self._data:
            self._data[...] = result._data
        self._bump_version()
        fn = result._ctx
        fn.clock = VERSION_CLOCK[0]  # its output is the new self, which it may read (tanh_)
        fn.replaced = old  # backward points ops recorded before now at old (autograd.reroute)
        self._ctx, self._seq, self._hooks = fn, result._seq, None
        self.requires_grad = self._frozen = True
        return self

    def _inplace(self, name: str, other: Any, update: Any, recorded: Any) -> Tensor:
        """``update(array, value)`` writes outside the tape; ``recorded(old, other)`` is the
        out-of-place op that computes the new value on it."""
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            value = other  # a Python number goes to the array as it is (no cached constant)
        else:
            other = self._lift(other)
            if other.backend is not self.backend:
                raise RuntimeError(f"{name}: other is on {other.device!r} but the tensor is on {self.device!r}")
            value = other._data
        if self._on_tape(other):
            return self._record_inplace(name, lambda old: recorded(old, other))
        self._begin_inplace(name)
        try:
            update(self._data, value)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{name}: cannot write {type(other).__name__} {getattr(other, 'shape', '')} into a "
                             f"tensor of shape {self.shape} and dtype {self.dtype} ({e}); expected a number or "
                             "a tensor that broadcasts to the tensor's shape") from None
        return self

    def _inplace_unary(self, name: str, op: Any, other: Any = None, reads_input: bool = False) -> Tensor:
        """``self = op(self)`` in place, ``op`` an out-of-place computation (which may use
        ``other``, recorded if it requires grad); ``reads_input``: op's backward reads its
        input (it is given a clone)."""
        if self._on_tape(other):
            return self._record_inplace(name, lambda old: op(old.clone() if reads_input else old))
        new = op(self)
        self._begin_inplace(name)
        self._data[...] = new._data
        return self

    def copy_(self, src: Any) -> Tensor:
        """self[...] = src (broadcast, cast to self's dtype); returns self. On the tape, src
        gets the gradient and the old value none."""
        def update(a: Any, b: Any) -> None:
            a[...] = b
        return self._inplace("copy_", src, update, _replace)

    def fill_(self, value: float) -> Tensor:
        return self.copy_(value)

    def zero_(self) -> Tensor:
        return self.copy_(0)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """self += alpha * other; returns self."""
        def update(a: Any, b: Any) -> None:
            a += b if alpha == 1 else alpha * b
        return self._inplace("add_", other, update, lambda old, b: old + (b if alpha == 1 else b * alpha))

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """self -= alpha * other; returns self."""
        return self.add_(other, -alpha)

    def mul_(self, other: Any) -> Tensor:
        def update(a: Any, b: Any) -> None:
            a *= b
        return self._inplace("mul_", other, update, lambda old, b: old.clone() * b)

    def div_(self, other: Any) -> Tensor:
        def update(a: Any, b: Any) -> None:
            a /= b
        return self._inplace("div_", other, update, lambda old, b: old.clone() / b)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002 (PyTorch's names)
        """Clip to [min, max] in place; either bound may be None."""
        if self._on_tape():
            return self._record_inplace("clamp_", lambda old: old.clip(min, max))
        self._begin_inplace("clamp_")
        if min is not None or max is not None:
            self.backend.clip(self._data, min, max, out=self._data)
        return self

    # The elementwise functions in place (op(self) written back; on the tape, as above).
    def relu_(self) -> Tensor:
        return self._inplace_unary("relu_", lambda x: x.relu())

    def tanh_(self) -> Tensor:
        return self._inplace_unary("tanh_", lambda x: x.tanh())

    def sigmoid_(self) -> Tensor:
        return self._inplace_unary("sigmoid_", lambda x: x.sigmoid())

    def exp_(self) -> Tensor:
        return self._inplace_unary("exp_", lambda x: x.exp())

    def log_(self) -> Tensor:
        return self._inplace_unary("log_", lambda x: x.log(), reads_input=True)

    def sqrt_(self) -> Tensor:
        return self._inplace_unary("sqrt_", lambda x: x.sqrt())

    def abs_(self) -> Tensor:
        return self._inplace_unary("abs_", lambda x: x.abs())

    def neg_(self) -> Tensor:
        return self._inplace_unary("neg_", lambda x: -x)

    def pow_(self, exponent: Any) -> Tensor:
        return self._inplace_unary("pow_", lambda x: x**exponent, exponent, reads_input=True)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with draws uniform on [a, b) from the library's generator (no gradient)."""
        draw = type(self).uniform(*self.shape, low=a, high=b, device=self.device, dtype=self.dtype)
        return self._inplace_unary("uniform_", lambda x: draw)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with normal draws of ``mean`` and ``std`` from the library's generator (no gradient)."""
        draw = type(self).randn(*self.shape, device=self.device, dtype=self.dtype) * std + mean
        return self._inplace_unary("normal_", lambda x: draw)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """``value`` where the bool ``mask`` is True, in place (see ``masked_fill``)."""
        return self._inplace_unary("masked_fill_", lambda x: x.masked_fill(mask, value), value)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value`` (a number, list, array or tensor, broadcast to ``t[index]``,
        cast to t's dtype). On the tape when t or value requires grad, as in PyTorch:
        value gets the gradient of the places written, t's old value that of the rest."""
        index = normalize_index(self, index)
        if not isinstance(value, TensorOps):
            value = self._lift(value) if isinstance(value, (int, float)) else type(self)(value, device=self.device)
        elif value.backend is not self.backend:
            raise RuntimeError(f"t[index] = v: v is on {value.device!r} but t is on {self.device!r}; expected one "
                               f"device (move v with .to({self.device!r}))")
        ones = 0  # PyTorch drops a value's leading axes of size 1 (t[0] = tensor([x]) works)
        while ones < value.ndim and value.shape[ones] == 1:
            ones += 1
        if ones:
            value = value.reshape(value.shape[ones:])
        if self._on_tape(value):
            index = own_copy(self.backend, index)  # backward reads the index: later changes to it must not count
            self._record_inplace("t[index] = v", lambda old: index_put(old, index, value, inplace=True))
            return
        self._begin_inplace("t[index] = v")
        try:
            self._data[index] = value._data
        except IndexError as e:
            raise IndexError(f"t[index] = v on a tensor of shape {shape_str(self.shape)}: {e}") from None
        except (ValueError, TypeError) as e:
            raise ValueError(f"t[index] = v: cannot write a value of shape {shape_str(value.shape)} and dtype "
                             f"{value.dtype} into a tensor of shape {shape_str(self.shape)} and dtype {self.dtype} "
                             f"({e}); expected a value that broadcasts to the place written") from None


def _replace(old: Tensor, value: Tensor) -> Tensor:
    """The value of ``copy_`` on the tape: ``value`` broadcast to old's shape; old gets no gradient."""
    return Where.apply(old._lift(value), old, cond=old.backend.asarray(True))
