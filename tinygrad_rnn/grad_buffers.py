"""Where a backward pass keeps the gradients it is still summing.

A tensor used k times gets k gradients, one from each use; its total is their sum
(a weight used at every time step gets the sum over steps, notes C.42-C.45). The walk
in :mod:`tinygrad_rnn.autograd` hands every gradient to :class:`GradBuffers` and takes
each total back once, when all uses have sent theirs. The walk itself only needs
``add`` and ``pop``; the rest are the speed-ups of a plain ``backward()``, kept here,
out of the textbook loop:

* owned buffers: the first sum made for a tensor is a fresh array the engine alone
  holds, so later gradients are added into it in place (no new array per use);
* ``scatter``: an op that read part of its input (``x[t]``) adds its gradient into
  the input's buffer at that place, instead of building a full-size array of zeros;
* ``add_product``: a gradient of the form A^T G is kept as its two factors. A recurrent
  weight gets dW = sum_t s_{t-1}^T delta_t (C.42), one small product per step; the
  factors are stacked and multiplied out once, as one large matmul, when it is popped.

With ``create_graph`` only ``add`` is used, and the sums are Tensor ops on the tape.
"""

from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tensor import Tensor


class _Factors:
    """A gradient kept as factors: sum_k lefts[k]^T @ rights[k] (backend arrays)."""

    __slots__ = ("lefts", "rights")

    def __init__(self, left: Any, right: Any) -> None:
        self.lefts, self.rights = [left], [right]

    def multiply_out(self, backend: Any) -> Any:
        if len(self.lefts) == 1:
            return self.lefts[0].T @ self.rights[0]
        return backend.concatenate(self.lefts, axis=0).T @ backend.concatenate(self.rights, axis=0)


class GradBuffers:
    """dL/dt, summed over the uses of t, for the tensors a backward pass has reached."""

    def __init__(self, create_graph: bool = False) -> None:
        self.create_graph = create_graph
        self.grads: dict[int, Any] = {}  # id(t) -> Tensor, or _Factors not yet multiplied out
        self.owned: set[int] = set()  # ids whose Tensor holds an array only we reference
        self.last_owned = False  # did the last pop() return an array only the engine made?
        # The tensors with a gradient waiting, as (-creation order, tensor): heappop gives the
        # newest, which is created after, so used by, none of the others still waiting.
        self.heap: list[tuple[int, Tensor]] = []

    def _first(self, t: Tensor, entry: Any) -> None:
        self.grads[id(t)] = entry
        heappush(self.heap, (-t._seq, t))

    def add(self, t: Tensor, grad: Tensor) -> None:
        """One more use of ``t`` sends back ``grad``: add it to t's sum."""
        key = id(t)
        previous = self.grads.get(key)
        if previous is None:
            self._first(t, grad)  # may be shared (Add passes one gradient to both inputs)
        elif self.create_graph:
            self.grads[key] = previous + grad  # recorded: the sum is on the tape
        elif key in self.owned:
            previous._data += grad._data  # ours alone: add in place, no new array
        else:
            if type(previous) is _Factors:
                summed = previous.multiply_out(t.backend)
                summed += grad._data
            else:
                summed = previous._data + grad._data  # one new array, ours from now on
            self.grads[key] = t._make(summed, t.backend)
            self.owned.add(key)

    def add_all(self, inputs: tuple[Tensor, ...], grads: Any) -> None:
        """An op's backward sends one gradient (a Tensor or None) per input: add each."""
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        stored = self.grads
        for x, grad in zip(inputs, grads, strict=False):
            if grad is not None and x.requires_grad:
                if id(x) in stored:
                    self.add(x, grad)
                else:  # the first use's gradient: nothing to add yet (_first, inlined: hot path)
                    stored[id(x)] = grad
                    heappush(self.heap, (-x._seq, x))

    def add_product(self, t: Tensor, left: Any, right: Any) -> None:
        """Add left^T @ right to t's sum, deferring the product (plain backward only)."""
        key = id(t)
        previous = self.grads.get(key)
        if previous is None:
            self._first(t, _Factors(left, right))
        elif type(previous) is _Factors:
            previous.lefts.append(left)
            previous.rights.append(right)
        else:
            self._owned_tensor(t)._data += left.T @ right

    def scatter(self, t: Tensor, index: Any, grad: Any) -> None:
        """t's sum[index] += grad (an array): the gradient of reading ``t[index]``."""
        key = id(t)
        if key in self.owned:
            buffer = self.grads[key]
        else:
            fresh = t.backend.zeros(t.shape, grad.dtype)
            previous = self.grads.get(key)
            buffer = t._make(fresh, t.backend)
            if previous is None:
                self._first(t, buffer)
            else:
                fresh += self._array(t, previous)
                self.grads[key] = buffer
            self.owned.add(key)
        t.backend.index_add_(buffer._data, index, grad)

    def pop(self, t: Tensor) -> Tensor | None:
        """t's total gradient (None if no use sent one); t's entry is removed."""
        key = id(t)
        self.last_owned = key in self.owned
        self.owned.discard(key)
        grad = self.grads.pop(key, None)
        if type(grad) is _Factors:
            self.last_owned = True
            return t._make(grad.multiply_out(t.backend), t.backend)
        return grad

    # ------------------------------------------------------------------ helpers
    def _array(self, t: Tensor, entry: Any) -> Any:
        return entry.multiply_out(t.backend) if type(entry) is _Factors else entry._data

    def _owned_tensor(self, t: Tensor) -> Tensor:
        """t's sum as a Tensor whose array only we hold, so it can be added to in place."""
        key = id(t)
        entry = self.grads[key]
        if key not in self.owned:
            array = self._array(t, entry)
            entry = self.grads[key] = t._make(array.copy() if type(entry) is not _Factors else array, t.backend)
            self.owned.add(key)
        return entry
