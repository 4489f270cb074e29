"""Gradient-ready hooks: run as soon as a leaf's gradient is complete, not at the end.

The backward walk (:mod:`tinygrad_rnn.autograd`) visits tensors newest first. Leaves
(the parameters) are the oldest tensors of a step, so a plain walk reaches every one of
them only at the very end. That is right for ``.grad``, but too late for data-parallel
training, which wants to start sending a layer's gradients to the other processes while
the walk is still busy with the layers below it (as PyTorch's DDP does).

A leaf's gradient is complete once every op that read it has sent back its share. The
op outputs are tensors with a creation number (``_seq``); the one made first, the leaf's
*first use*, is the last of them the walk visits. So once the walk pops a tensor older
than that first use, the leaf is done: :class:`ReadyLeaves` finds each hooked leaf's
first use with one pass over the graph before the walk (only when some leaf has a hook,
so a plain ``backward()`` pays nothing), and the walk then finishes the leaf there:
its ``.grad`` is accumulated and its hooks run, while older ops still wait.

``Tensor.register_post_accumulate_grad_hook(fn)`` (PyTorch's name) registers ``fn(leaf)``
here; :func:`queue_callback` adds the other half, a call when the
walk has finished (where such hooks wait for the work they started).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .config import config

if TYPE_CHECKING:
    from .tensor import Tensor

# id(leaf) -> (weak reference to the leaf, its hooks). Empty unless some hook is registered,
# which is all a backward pass checks.
_HOOKS: dict[int, tuple[Any, list[Callable[[Tensor], None]]]] = {}


class ReadyHandle:
    """Returned by ``register_post_accumulate_grad_hook``; ``.remove()`` unregisters the hook."""

    def __init__(self, key: int, fn: Callable) -> None:
        self._key, self._fn = key, fn

    def remove(self) -> None:
        entry = _HOOKS.get(self._key)
        if entry is not None and self._fn in entry[1]:
            entry[1].remove(self._fn)
            if not entry[1]:
                del _HOOKS[self._key]


def register(leaf: Tensor, fn: Callable[[Tensor], None]) -> ReadyHandle:
    """Call ``fn(leaf)`` in every backward pass, once ``leaf.grad`` holds that pass's total."""
    key = id(leaf)
    if key not in _HOOKS:
        # Dropped with the leaf, before its id can be reused by another tensor.
        _HOOKS[key] = (weakref.ref(leaf, lambda _, k=key: _HOOKS.pop(k, None)), [])
    _HOOKS[key][1].append(fn)
    return ReadyHandle(key, fn)


def run(leaf: Tensor) -> None:
    """Run ``leaf``'s hooks (its ``.grad`` has just been accumulated)."""
    entry = _HOOKS.get(id(leaf))
    for fn in list(entry[1]) if entry is not None else ():
        fn(leaf)


class ReadyLeaves:
    """The hooked leaves a backward pass from ``root`` reaches, grouped by first use.

    Attributes:
        next_due: ``_seq`` of the newest first use not yet passed (-1: none left). The walk
            compares each popped tensor with it: one integer comparison per tensor.
    """

    def __init__(self, due: dict[int, list[Tensor]]) -> None:
        self._due = due
        self._order = sorted(due, reverse=True)  # first uses, newest first: the order the walk passes them
        self.next_due = self._order[0] if self._order else -1

    @classmethod
    def plan(cls, root: Tensor) -> ReadyLeaves | None:
        """One pass over the graph of ``root``: each hooked leaf's first use; None if none is reached."""
        if not _HOOKS or root._ctx is None:
            return None
        first: dict[int, tuple[int, Tensor]] = {}
        seen, stack = {id(root)}, [root]
        while stack:
            t = stack.pop()
            for x in t._ctx.inputs:
                if not x.requires_grad:
                    continue
                if x._ctx is None:
                    if id(x) in _HOOKS and (id(x) not in first or t._seq < first[id(x)][0]):
                        first[id(x)] = (t._seq, x)
                elif id(x) not in seen:
                    seen.add(id(x))
                    stack.append(x)
        if not first:
            return None
        due: dict[int, list[Tensor]] = {}
        for seq, leaf in sorted(first.values(), key=lambda pair: -pair[1]._seq):
            due.setdefault(seq, []).append(leaf)
        return cls(due)

    def passed(self, seq: int) -> list[Tensor]:
        """The leaves whose first use is newer than ``seq``: the walk has finished with them."""
        done: list[Tensor] = []
        while self._order and self._order[0] > seq:
            done += self._due.pop(self._order.pop(0))
        self.next_due = self._order[0] if self._order else -1
        return done


def queue_callback(fn: Callable[[], None]) -> None:
    """Call ``fn()`` once the running backward pass has finished its walk (PyTorch's
    ``queue_callback``): a gradient hook that started work (sending a gradient to other
    processes) queues the wait for it here.

    Raises:
        RuntimeError: called outside a backward pass (not from a hook).
    """
    if config.callbacks is None:
        raise RuntimeError("queue_callback(): no backward pass is running; expected a call from a gradient hook")
    if not callable(fn):
        raise TypeError(f"queue_callback(): fn is a {type(fn).__name__}; expected a callable fn()")
    config.callbacks.append(fn)
