"""The tape: ``Function`` (one recorded op), grad mode, and the backward pass.

Every differentiable op is a subclass of :class:`Function`. Calling ``Op.apply(*tensors)``
runs ``forward`` on the backend arrays and, when some input requires a gradient and
grad mode is on, records the op on its output: ``out._ctx`` is the Function instance,
whose ``inputs`` are the input tensors. Those links, followed from the loss back to
the leaves, are the tape.

``backward`` walks the tape in reverse topological order (no recursion, so a
10,000-step chain is fine) and calls each op's ``backward(grad, out)``. Those backward
methods are written with Tensor ops: under ``create_graph=True`` they are recorded
like any other computation, so gradients can be differentiated again; under a plain
``backward()`` grad mode is off and nothing is recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tensor import Tensor

_grad_enabled = True
_anomaly_mode = False


# ----------------------------------------------------------------------- grad mode
def is_grad_enabled() -> bool:
    """True when ops record themselves on the tape."""
    return _grad_enabled


@contextlib.contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Context manager: ops inside record on the tape iff ``mode``."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(mode)
    try:
        yield
    finally:
        _grad_enabled = previous


class no_grad(contextlib.ContextDecorator):
    """``with tr.no_grad():`` (or ``@tr.no_grad()``): nothing inside is recorded."""

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous, _grad_enabled = _grad_enabled, False

    def __exit__(self, *exc: Any) -> None:
        global _grad_enabled
        _grad_enabled = self._previous


class enable_grad(contextlib.ContextDecorator):
    """Turn recording back on inside a ``no_grad`` block."""

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous, _grad_enabled = _grad_enabled, True

    def __exit__(self, *exc: Any) -> None:
        global _grad_enabled
        _grad_enabled = self._previous


class detect_anomaly(contextlib.ContextDecorator):
    """``with tr.detect_anomaly():`` the first op whose forward or backward makes a NaN
    or Inf raises a ``FloatingPointError`` naming the op (and the layer's time step
    when a recurrent layer is running)."""

    def __enter__(self) -> None:
        global _anomaly_mode
        self._previous, _anomaly_mode = _anomaly_mode, True

    def __exit__(self, *exc: Any) -> None:
        global _anomaly_mode
        _anomaly_mode = self._previous


def is_anomaly_enabled() -> bool:
    return _anomaly_mode


# Recurrent layers set this while they unroll, so anomaly errors can name the step.
_anomaly_context: list[str] = []


@contextlib.contextmanager
def anomaly_context(label: str) -> Iterator[None]:
    """Label the ops recorded inside (e.g. ``"LSTM layer 0, time step 17"``)."""
    if not _anomaly_mode:
        yield
        return
    _anomaly_context.append(label)
    try:
        yield
    finally:
        _anomaly_context.pop()


# In anomaly mode, the op whose backward is running: a NaN made by an op inside it is its.
_in_backward: Function | None = None


def _check_finite(fn: Function, array: Any, backend: Any, phase: str) -> None:
    if backend.is_floating(array.dtype) and not backend.all_finite(array):
        details = []
        if phase == "forward" and _in_backward is not None:  # an op run by another op's backward
            details.append(f"in its {type(fn).__name__}")
            fn, phase = _in_backward, "backward"
        if getattr(fn, "label", None):
            details.insert(0, fn.label)
        where = f" ({'; '.join(details)})" if details else ""
        raise FloatingPointError(f"anomaly: {type(fn).__name__}.{phase} produced NaN or Inf{where}; expected finite values")


def _checked_backward(ctx: Function, grad: Tensor, out: Tensor) -> Any:
    """``ctx.backward`` in anomaly mode: a NaN or Inf made inside is reported as ctx's."""
    global _in_backward
    previous, _in_backward = _in_backward, ctx
    try:
        return ctx.backward(grad, out)
    finally:
        _in_backward = previous


# ------------------------------------------------------------------------ Function
class Function:
    """One op on the tape.

    Subclasses define ``forward(*arrays, **params) -> array`` on backend arrays, and
    right below it ``backward(grad, out) -> gradient(s)`` with Tensor ops: ``grad`` is
    dL/d(out), ``out`` the output tensor, and the result is one Tensor (or None) per
    input. ``self.inputs`` holds the input tensors; ``forward`` saves on ``self`` only
    what ``backward`` needs.
    """

    inputs: tuple[Tensor, ...] = ()
    # Ops that read part of their input may define ``backward_into(grad, buffer)``: a
    # plain-backward shortcut that adds straight into the input's gradient buffer.
    backward_into: Any = None

    def forward(self, *arrays: Any, **params: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Tensor, out: Tensor) -> Tensor | None | Sequence[Tensor | None]:
        raise NotImplementedError

    def needs_grad(self, i: int) -> bool:
        """Does input ``i`` want a gradient? (Backwards skip work for those that don't.)"""
        return self.inputs[i].requires_grad

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays and record the op if any input needs it."""
        backend = inputs[0].backend
        for t in inputs:
            if t.backend is not backend:
                devices = ", ".join(f"{x.device}" for x in inputs)
                raise RuntimeError(
                    f"{cls.__name__}: inputs are on different devices ({devices}); expected all "
                    f"on one device. Move them with .to('{backend.name}')."
                )
        fn = cls()
        fn.inputs = inputs
        data = fn.forward(*[t.data for t in inputs], **params)
        if _anomaly_mode:
            fn.label = _anomaly_context[-1] if _anomaly_context else None
            _check_finite(fn, data, backend, "forward")
        if _grad_enabled:
            for t in inputs:
                if t.requires_grad:  # record: the output remembers the op that made it
                    out = t._wrap(data, backend, True)
                    out._ctx = fn
                    return out
        fn.inputs = ()  # nothing will call backward: keep no references alive
        return t._wrap(data, backend, False)


# ------------------------------------------------------------------------ backward
class OuterSum:
    """A gradient kept as factors, sum_k A_k^T G_k, and multiplied out only once.

    A recurrent weight gets dL/dW = sum_t s_{t-1}^T delta_t (notes C.42): one small
    product per time step, each added into a full-size buffer. A plain backward instead
    keeps the factors, and when the weight's gradient is complete multiplies them out as
    one large matmul, [s_0; ...; s_{T-1}]^T [delta_1; ...; delta_T]: the same sum, in the
    layout a hand-written BPTT uses. Only ``MatMul`` makes these (plain 2-D backward).
    """

    __slots__ = ("lefts", "rights", "like")

    def __init__(self, left: Any, right: Any, like: Tensor) -> None:
        self.lefts, self.rights, self.like = [left], [right], like

    def extend(self, other: OuterSum) -> None:
        self.lefts += other.lefts
        self.rights += other.rights

    def materialize(self) -> Tensor:
        backend = self.like.backend
        if len(self.lefts) == 1:
            data = self.lefts[0].T @ self.rights[0]
        else:
            data = backend.concatenate(self.lefts, axis=0).T @ backend.concatenate(self.rights, axis=0)
        return self.like._wrap(data, backend)


def _add_plain(previous: Any, inp_grad: Any, key: int, grads: dict, owned: set[int]) -> None:
    """Plain-backward accumulation of a second (or later) gradient for ``key``."""
    if type(previous) is OuterSum and type(inp_grad) is OuterSum:
        previous.extend(inp_grad)
        return
    if type(previous) is OuterSum:
        previous = grads[key] = previous.materialize()
        owned.add(key)  # a fresh array, ours alone
    if type(inp_grad) is OuterSum:
        inp_grad = inp_grad.materialize()
    if key in owned:
        previous.data += inp_grad.data  # ours alone: add in place, no new array
    else:
        grads[key] = previous._wrap(previous.data + inp_grad.data, previous.backend)
        owned.add(key)


def run_backward(
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
    grads: dict[int, Tensor] = {id(root): grad}
    heap: list[tuple[int, Tensor]] = [(-root._seq, root)]
    queued = {id(root)}
    # Keys whose gradient buffer the engine allocated for that tensor alone. Only those
    # may be added to in place; any other buffer may be shared (an Add passes the same
    # gradient to both inputs) or be a view (Reshape). Never used with create_graph.
    owned: set[int] = set()
    with set_grad_enabled(create_graph):
        while heap:
            t = heappop(heap)[1]
            key = id(t)
            g = grads.pop(key)
            if type(g) is OuterSum:
                g = g.materialize()
            owned.discard(key)
            if stop_at_capture and key in wanted:
                captured[key] = g  # the caller goes on from here (hooks run there)
                continue
            if t._hooks:
                for hook in t._hooks:
                    replaced = hook(g)
                    if replaced is not None:
                        g = replaced
            if key in wanted:
                captured[key] = g
            ctx = t._ctx
            if accumulate and (ctx is None or t._retain):
                # Leaves sum the gradients of all their uses; a weight used at every
                # time step gets the sum over steps (notes C.42-C.45).
                t.grad = g if t.grad is None else t.grad + g
            if ctx is None:
                continue
            if ctx.backward_into is not None and not create_graph:
                inp = ctx.inputs[0]
                _scatter_into(ctx, g, grads, owned)
                if id(inp) not in queued:
                    queued.add(id(inp))
                    heappush(heap, (-inp._seq, inp))
                continue
            input_grads = _checked_backward(ctx, g, t) if _anomaly_mode else ctx.backward(g, t)
            if not isinstance(input_grads, (tuple, list)):
                input_grads = (input_grads,)
            for inp, inp_grad in zip(ctx.inputs, input_grads, strict=False):
                if inp_grad is None or not inp.requires_grad:
                    continue
                if _anomaly_mode:
                    _check_finite(ctx, inp_grad.data, inp_grad.backend, "backward")
                key = id(inp)
                previous = grads.get(key)
                if previous is None:
                    grads[key] = inp_grad
                    if key not in queued:
                        queued.add(key)
                        heappush(heap, (-inp._seq, inp))
                elif create_graph:
                    grads[key] = previous + inp_grad  # recorded: the sum is on the tape
                else:
                    _add_plain(previous, inp_grad, key, grads, owned)
    return captured


def _scatter_into(ctx: Function, grad: Tensor, grads: dict[int, Tensor], owned: set[int]) -> None:
    """Plain backward of an op that reads part of its input (indexing): add ``grad``
    into the input's own gradient buffer, allocating it (zeros) on first use."""
    inp = ctx.inputs[0]
    key = id(inp)
    buffer = grads.get(key)
    if type(buffer) is OuterSum:
        buffer = buffer.materialize()
    if key not in owned:
        fresh = inp.backend.zeros(inp.shape, grad.dtype)
        if buffer is not None:
            fresh += buffer.data
        buffer = grads[key] = grad._wrap(fresh, inp.backend)
        owned.add(key)
    ctx.backward_into(grad.data, buffer.data)


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
    seed = outputs._default_grad() if grad_outputs is None else outputs._check_grad(grad_outputs)
    captured = run_backward(outputs, seed, create_graph, accumulate=False, capture=inputs)
    return tuple(captured[id(x)] if id(x) in captured else x.zeros_like() for x in inputs)


Hook = Callable[["Tensor"], "Tensor | None"]
