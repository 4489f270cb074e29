"""The tape: ``Function`` (one recorded op) and the backward pass.

Every differentiable op is a subclass of :class:`Function`. ``Tensor._apply`` runs its
``forward`` on the backend arrays and, when some input requires a gradient and grad
mode is on, records the op on its output: ``out._ctx`` is the Function instance, whose
``inputs`` are the input tensors. Those links, followed from the loss back to the
leaves, are the tape.

:func:`backward` walks the tape in reverse topological order (no recursion, so a
10,000-step chain is fine) and calls each op's ``backward(grad, out)``. Those backward
methods are written with Tensor ops: under ``create_graph=True`` they are recorded like
any other computation, so gradients can be differentiated again; under a plain
``backward()`` grad mode is off and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heappop
from typing import TYPE_CHECKING, Any

from . import ready_hooks
from .anomaly import checked_backward
from .config import (
    VERSION_CLOCK,
    anomaly_context,
    config,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    using,
)
from .grad_buffers import GradBuffers
from .ready_hooks import ReadyLeaves, queue_callback  # queue_callback: part of this module's API

if TYPE_CHECKING:
    from .tensor import Tensor

# Grad mode and anomaly mode live in ``config``; they are part of this module's API too.
__all__ = [
    "Function", "RemovableHandle", "backward", "grad", "queue_callback", "anomaly_context", "detect_anomaly", "enable_grad", "is_anomaly_enabled",
    "is_grad_enabled", "no_grad", "set_grad_enabled",
]

Hook = Callable[["Tensor"], "Tensor | None"]


class Function:
    """One op on the tape.

    Subclasses define ``forward(*arrays, **params) -> array`` on backend arrays, and
    right below it ``backward(grad, out) -> gradient(s)`` with Tensor ops: ``grad`` is
    dL/d(out), ``out`` the output tensor, and the result is one Tensor (or None) per
    input. ``self.inputs`` holds the input tensors and ``self.backend`` their backend;
    ``forward`` saves on ``self`` only what ``backward`` needs.

    Optional fast path: ``backward_accumulate(grad, out, buffers)``. A plain
    ``backward()`` (no ``create_graph``, no anomaly mode) calls it instead of
    ``backward`` when an op defines it; it adds the same gradients straight into the
    engine's :class:`~tinygrad_rnn.grad_buffers.GradBuffers` (a scatter, a product kept
    as factors). ``backward`` stays the definition, and tests compare the two.
    """

    inputs: tuple[Tensor, ...] = ()
    backend: Any = None
    differentiable = True  # False: the output never requires grad (comparisons, argmax)
    reads_inputs = True  # backward reads the inputs' values (False: only their shapes)
    reads_output = False  # backward reads the output's values (exp, tanh, sigmoid...)
    returns_view = False  # the output may share the first input's array (reshape, x[t]...)
    freezes_inputs = True  # reads_inputs or returns_view, worked out once per class (hot path)
    clock = 0  # the version clock when the op was recorded (see ops/inplace.py)
    backward_accumulate: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.freezes_inputs = cls.reads_inputs or cls.returns_view

    def forward(self, *arrays: Any, **params: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Tensor, out: Tensor) -> Tensor | None | Sequence[Tensor | None]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """``Op.apply(x, y, p=1)``: run the op on tensors and record it (see ``Tensor._apply``)."""
        return inputs[0]._apply(cls, *inputs[1:], **params)


# ------------------------------------------------------------------------ backward
class RemovableHandle:
    """Returned by :meth:`Tensor.register_hook`; ``.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def backward(
    root: Tensor,
    grad: Tensor,
    create_graph: bool = False,
    accumulate: bool = True,
    capture: Sequence[Tensor] = (),
    stop_at_capture: bool = False,
) -> dict[int, Tensor]:
    """Propagate ``grad`` = dL/d(root) to everything ``root`` depends on.

    Tensors are visited in decreasing creation order (``_seq``), from a heap: a tensor
    is always created after the tensors it is computed from, so when it is popped every
    use of it has already sent back its share of the gradient. That is a reverse
    topological order, found without recursion and without a separate sorting pass.
    (Leaves with gradient-ready hooks are finished earlier, as soon as the walk has
    passed their first use: see ``ready_hooks.py``. Callbacks queued by hooks with
    :func:`queue_callback` run when the walk is done.)

    Args:
        root: the tensor to differentiate (usually the loss).
        grad: dL/d(root), the same shape as ``root``.
        create_graph: record the backward computation so it can be differentiated.
        accumulate: add into ``.grad`` of leaves (and of tensors that ``retain_grad``).
        capture: tensors whose total gradient is returned, keyed by ``id``.
        stop_at_capture: do not propagate past captured tensors (partial derivatives of
            a sub-graph, as fused ops need).

    Returns:
        ``{id(t): dL/dt}`` for each tensor in ``capture`` that ``root`` depends on.
    """
    wanted = {id(t) for t in capture}
    captured: dict[int, Tensor] = {}
    buffers = GradBuffers(create_graph)
    buffers.add(root, grad)  # every tensor's first gradient also puts it on buffers.heap
    fast = not (create_graph or config.anomaly)
    clock = VERSION_CLOCK  # (a local name: read at every node)
    # Leaves with gradient-ready hooks are finished as soon as their last use is done (ready_hooks.py).
    ready = ReadyLeaves.plan(root) if accumulate and not wanted else None
    due = ready.next_due if ready is not None else -1
    with using(grad_enabled=create_graph, callbacks=[]):
        while buffers.heap:
            t = heappop(buffers.heap)[1]  # the newest tensor still waiting: all its uses are done
            if t._seq < due:  # the walk is past the first use of some hooked leaves
                for leaf in ready.passed(t._seq):
                    _finish_leaf(leaf, buffers, create_graph)
                due = ready.next_due
            grad = buffers.pop(t)  # dL/dt, summed over those uses
            if grad is None:  # a hooked leaf, finished above
                continue
            if id(t) in wanted:
                if stop_at_capture:
                    captured[id(t)] = grad  # the caller goes on from here (hooks run there)
                    continue
                grad = captured[id(t)] = _run_hooks(t, grad)
            elif t._hooks:
                grad = _run_hooks(t, grad)
            fn = t._ctx
            if accumulate and (fn is None or t._retain):
                accumulate_into(t, grad, private=not create_graph and not buffers.last_owned)
            if fn is None:
                if ready_hooks._HOOKS and accumulate:  # a hooked leaf the plan did not cover (the root itself)
                    ready_hooks.run(t)
                continue
            if fn.clock != clock[0]:  # some tensor changed in place since fn was recorded
                check_versions(fn, t)
            if fast and fn.backward_accumulate is not None:
                fn.backward_accumulate(grad, t, buffers)
            else:
                grads = checked_backward(fn, grad, t) if config.anomaly else fn.backward(grad, t)
                buffers.add_all(fn.inputs, grads)
        for leaf in ready.passed(-1) if ready is not None else ():
            _finish_leaf(leaf, buffers, create_graph)
        while config.callbacks:  # queue_callback(): e.g. wait for the gradients sent to other processes
            config.callbacks.pop(0)()
    return captured


def _finish_leaf(t: Tensor, buffers: GradBuffers, create_graph: bool) -> None:
    """A hooked leaf whose every use is done: accumulate its gradient now, then run its hooks."""
    grad = buffers.pop(t)
    if grad is None:  # no use sent one back
        return
    if t._hooks:
        grad = _run_hooks(t, grad)
    accumulate_into(t, grad, private=not create_graph and not buffers.last_owned)
    ready_hooks.run(t)


def seed_grad(root: Tensor, grad: Any) -> Tensor:
    """dL/d(root) to start a backward pass: ``grad`` checked, or 1 for a one-element root."""
    if grad is None:
        if root.numel() != 1:
            raise RuntimeError(
                f"backward() on a tensor of shape {root.shape} needs grad= of that shape; "
                "expected a one-element tensor (e.g. a scalar loss) when grad is omitted"
            )
        return root.ones_like()
    if not isinstance(grad, type(root)):
        grad = type(root)(grad, device=root.device, dtype=root.dtype)
    if grad.backend is not root.backend:
        raise RuntimeError(f"backward(): grad is on {grad.device!r} but the tensor is on {root.device!r}")
    if grad.shape != root.shape:
        raise ValueError(f"backward(): grad has shape {grad.shape}; expected the tensor's shape {root.shape}")
    return grad


def accumulate_into(t: Tensor, grad: Tensor, private: bool) -> None:
    """t.grad += grad. A leaf sums the gradients of all its uses: a weight used at every
    time step gets the sum over steps (notes C.42-C.45). ``.grad`` is always an array of
    its own (``private``: copy one the engine may share with another tensor)."""
    if t._ctx is None and not t.backend.is_floating(t.dtype):
        raise RuntimeError(f"backward(): a leaf tensor of dtype {t.dtype} and shape {t.shape} has "
                           "requires_grad=True; expected only floating-point tensors to require grad")
    if t.grad is None:
        t.grad = t._make(grad._data.copy(), grad.backend) if private else grad
    else:
        t.grad = t.grad + grad


def reroute(fn: Function) -> None:
    """Point ``fn`` at the old values of inputs changed in place on the tape after it was recorded.

    A recorded in-place op (``h.add_(x)``, ``outputs[t] = s``) makes the tensor the output
    of a new op whose ``replaced`` is a node holding the tensor's old place in the graph
    (see ops/inplace.py). An op recorded earlier used the old value, so its gradient
    belongs to that node, not to the tensor as it is now.
    """
    inputs = list(fn.inputs)
    for k, x in enumerate(inputs):
        ctx = x._ctx
        while ctx is not None and ctx.clock > fn.clock and getattr(ctx, "replaced", None) is not None:
            x = inputs[k] = ctx.replaced
            ctx = x._ctx
    fn.inputs = tuple(inputs)


def check_versions(fn: Function, out: Tensor) -> None:
    """Refuse to run ``fn.backward`` if a tensor it reads changed after ``fn`` was recorded."""
    reroute(fn)
    saved = (fn.inputs if fn.reads_inputs else ()) + ((out,) if fn.reads_output else ())
    for k, x in enumerate(saved):
        if x._version is not None and x._version[0] > fn.clock:
            what = "its output" if x is out else f"its input {k}"
            raise RuntimeError(
                f"backward(): {type(fn).__name__} reads {what} (a tensor of shape {x.shape}, dtype {x.dtype}), "
                "which was modified in place after the op was recorded (by an optimizer step, load_state_dict, "
                "an nn.init function, an in-place op or an assignment to .data); expected the values the graph "
                "was recorded with. Run the forward pass again after changing the tensor."
            )


def _run_hooks(t: Tensor, grad: Tensor) -> Tensor:
    for hook in t._hooks or ():
        replaced = hook(grad)
        if replaced is None:
            continue
        if not isinstance(replaced, type(grad)) or replaced.shape != grad.shape or replaced.dtype != grad.dtype:
            given = (f"shape {replaced.shape} and dtype {replaced.dtype}" if isinstance(replaced, type(grad))
                     else f"a {type(replaced).__name__}")
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} on a tensor of shape {t.shape} returned {given}; expected "
                f"None or a Tensor of the gradient's shape {grad.shape} and dtype {grad.dtype}"
            )
        grad = replaced
    return grad


def grad(
    outputs: Tensor,
    inputs: Sequence[Tensor] | Tensor,
    grad_outputs: Tensor | None = None,
    create_graph: bool = False,
) -> tuple[Tensor, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    ``tr.grad(loss, [w], create_graph=True)`` gives dL/dw as a tensor on the tape, so
    a Hessian-vector product is ``tr.grad((dL_dw * v).sum(), [w])``. Inputs that the
    output does not depend on get zeros.
    """
    single = not isinstance(inputs, (list, tuple))
    inputs = (inputs,) if single else tuple(inputs)
    captured = backward(outputs, seed_grad(outputs, grad_outputs), create_graph, accumulate=False, capture=inputs)
    return tuple(captured[id(x)] if id(x) in captured else x.zeros_like() for x in inputs)
