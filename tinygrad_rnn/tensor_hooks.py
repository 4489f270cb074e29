"""Hooks on a tensor: what the backward walk calls, or keeps, for this tensor.

``register_hook(fn)`` calls ``fn(grad)`` when the walk reaches the tensor (``fn`` may
return a replacement gradient), ``retain_grad()`` keeps ``.grad`` on a tensor computed
by an op, and ``register_post_accumulate_grad_hook(fn)`` calls ``fn(leaf)`` as soon as a
leaf's ``.grad`` is complete (``ready_hooks.py``). These methods only register; the walk
in ``autograd.py`` runs the hooks. ``Tensor`` inherits them from :class:`TensorHooks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import autograd, ready_hooks
from .ops.base import TensorOps

if TYPE_CHECKING:
    from .tensor import Tensor


class TensorHooks(TensorOps):
    """The Tensor methods that register hooks on the backward walk."""

    __slots__ = ()

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retain = True

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> autograd.RemovableHandle:
        """Call ``fn(grad)`` when this tensor's gradient is computed.

        ``fn`` may return a replacement gradient. Returns a handle with ``.remove()``.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        if not callable(fn):
            raise TypeError(f"register_hook(): fn is a {type(fn).__name__}; expected a callable fn(grad)")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return autograd.RemovableHandle(self._hooks, fn)

    def register_post_accumulate_grad_hook(self, fn: Callable[[Tensor], None]) -> Any:
        """Call ``fn(self)`` in each backward pass once this leaf's ``.grad`` holds that pass's
        total: as soon as its last use is done, before the walk ends (see ``ready_hooks.py``).
        Data-parallel training starts sending gradients from here. Returns a handle with ``.remove()``.

        Raises:
            RuntimeError: the tensor is not a leaf that requires grad.
        """
        if not self.requires_grad or self._ctx is not None:
            raise RuntimeError(f"register_post_accumulate_grad_hook() on a tensor of shape {self.shape} that is "
                               f"{'not a leaf' if self._ctx is not None else 'not requiring grad'}; expected a leaf "
                               "with requires_grad=True (only leaves accumulate .grad)")
        if not callable(fn):
            raise TypeError(f"register_post_accumulate_grad_hook(): fn is a {type(fn).__name__}; expected fn(tensor)")
        return ready_hooks.register(self, fn)
