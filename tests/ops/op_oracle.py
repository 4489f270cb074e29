"""The one helper every op test goes through, and the Hypothesis strategies they draw from.

``check_op(op, *inputs, device=...)`` runs a differentiable op on float64 tensors and
compares it with its oracles:

* forward values with NumPy (``oracle``; by default ``op`` itself applied to the NumPy
  arrays, which is right for operator lambdas such as ``lambda a, b: a @ b``);
* every input's gradient with central finite differences (``tr.gradcheck``), and the
  gradient of the gradient the same way (``tr.gradgradcheck``);
* when ``torch_op`` is given, forward values and every input's gradient with PyTorch's.

So each op test is one line: draw inputs, call ``check_op``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

# The ``device`` fixture is function-scoped but only a string: safe to share across examples.
op_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
torch_settings = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def check_op(
    op: Callable[..., Tensor],
    *inputs: Any,
    device: str = "cpu",
    oracle: Callable[..., Any] | None = None,
    torch_op: Callable[..., Any] | None = None,
    finite_differences: bool = True,
    second_order: bool = True,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> None:
    """Compare ``op`` (on Tensors) with its oracles; every input is differentiated.

    Args:
        op: the op under test, taking one Tensor per input.
        inputs: the inputs as arrays (cast to float64, all with ``requires_grad=True``).
        device: the device the tensors live on.
        oracle: NumPy reference for the forward value; by default ``op`` itself on the
            arrays, unless ``torch_op`` is given (PyTorch is then the forward oracle).
        torch_op: PyTorch reference (on ``torch.Tensor`` s) for values and gradients.
        finite_differences: run ``tr.gradcheck`` (and ``tr.gradgradcheck`` if
            ``second_order``).
        rtol, atol: tolerance of the forward and PyTorch comparisons.

    Inputs are drawn away from poles and kinks, so NumPy is told to raise on any
    division by zero, invalid operation or overflow on the way, and every gradient
    must be finite: a NaN can never slip through as "equal".
    """
    with np.errstate(divide="raise", invalid="raise", over="raise"):
        _check_op(op, inputs, device, oracle, torch_op, finite_differences, second_order, rtol, atol)


def _check_op(
    op: Callable[..., Tensor],
    inputs: tuple[Any, ...],
    device: str,
    oracle: Callable[..., Any] | None,
    torch_op: Callable[..., Any] | None,
    finite_differences: bool,
    second_order: bool,
    rtol: float,
    atol: float,
) -> None:
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    tensors = [Tensor(a, requires_grad=True, device=device) for a in arrays]
    out = op(*tensors)
    assert isinstance(out, Tensor) and out.device == device
    assert out.dtype == np.float64, f"float64 inputs gave a {out.dtype} output"
    if oracle is not None or torch_op is None:
        expected = np.asarray((oracle or op)(*[a.copy() for a in arrays]))
        assert out.shape == expected.shape, f"output shape {out.shape}, NumPy's {expected.shape}"
        np.testing.assert_allclose(out.numpy(), expected, rtol=rtol, atol=atol, err_msg="forward vs NumPy", equal_nan=False)

    v = np.random.default_rng(0).standard_normal(out.shape)
    grads = tr.grad((out * Tensor(v, device=device)).sum(), tensors)
    for k, (x, grad_x) in enumerate(zip(tensors, grads, strict=True)):
        assert grad_x.shape == x.shape, f"input {k}: gradient shape {grad_x.shape}, input shape {x.shape}"
        assert grad_x.dtype == np.float64 and grad_x.device == device
        assert np.isfinite(grad_x.numpy()).all(), f"input {k}: non-finite gradient {grad_x.numpy()}"

    if finite_differences:
        assert tr.gradcheck(op, *tensors)
        if second_order:
            assert tr.gradgradcheck(op, *tensors)

    if torch_op is not None:
        torch = pytest.importorskip("torch")
        t_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
        t_out = torch_op(*t_inputs)
        assert out.shape == tuple(t_out.shape), f"output shape {out.shape}, PyTorch's {tuple(t_out.shape)}"
        np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=rtol, atol=atol, err_msg="vs PyTorch", equal_nan=False)
        t_grads = torch.autograd.grad((t_out * torch.tensor(v)).sum(), t_inputs, allow_unused=True)
        for k, (grad_x, t_grad) in enumerate(zip(grads, t_grads, strict=True)):
            reference = np.zeros(arrays[k].shape) if t_grad is None else t_grad.numpy()
            np.testing.assert_allclose(
                grad_x.numpy(), reference, rtol=rtol, atol=atol, err_msg=f"gradient of input {k} vs PyTorch"
            )


# ---------------------------------------------------------------- element strategies
def smooth(bound: float = 2.0) -> st.SearchStrategy[float]:
    """Any value in [-bound, bound]: for ops smooth everywhere."""
    return st.floats(-bound, bound)


def away_from_zero(low: float = 0.2, high: float = 2.0) -> st.SearchStrategy[float]:
    """|x| in [low, high], either sign: away from the kinks of abs/relu and the pole of 1/x."""
    return st.one_of(st.floats(-high, -low), st.floats(low, high))


def positive(low: float = 0.2, high: float = 3.0) -> st.SearchStrategy[float]:
    """For log, sqrt and non-integer powers."""
    return st.floats(low, high)


def grid(step: float = 0.125, bound: int = 24) -> st.SearchStrategy[float]:
    """Multiples of ``step``: with ``unique=True`` values stay ``step`` apart (max has no ties)."""
    return st.integers(-bound, bound).map(lambda k: k * step)


# ------------------------------------------------------------------ shape strategies
def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 3) -> st.SearchStrategy:
    """Array shapes, 0-d, size-1 and empty ones included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape: Any, elements: st.SearchStrategy[float] | None = None, unique: bool = False) -> st.SearchStrategy:
    """float64 arrays of ``shape`` (a tuple or a shape strategy)."""
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else smooth(), unique=unique)


@st.composite
def broadcasting_arrays(
    draw: Any, *elements: st.SearchStrategy[float], min_dims: int = 0, min_side: int = 0
) -> tuple[np.ndarray, ...]:
    """One array per element strategy, with mutually broadcastable shapes."""
    drawn = draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=len(elements), min_dims=min_dims, max_dims=3, min_side=min_side, max_side=3
        )
    )
    return tuple(draw(arrays(shape, e)) for shape, e in zip(drawn.input_shapes, elements, strict=True))


@st.composite
def axis_arg(draw: Any, ndim: int) -> Any:
    """A reduction ``axis``: None, an int (maybe negative) or a tuple of ints."""
    options = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
    return draw(st.one_of(*options))


@st.composite
def matmul_pair(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Operands of ``@``: 1-D, 2-D and batched (with broadcasting batch axes) on each side."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2))
    a_shape = (k,) if draw(st.booleans()) else batch.input_shapes[0] + (n, k)
    b_shape = (k,) if draw(st.booleans()) else batch.input_shapes[1] + (k, m)
    return draw(arrays(a_shape)), draw(arrays(b_shape))


@st.composite
def joinable_arrays(draw: Any, stack: bool = False) -> tuple[int, tuple[np.ndarray, ...]]:
    """(axis, arrays) for ``tr.cat`` (equal shapes but along ``axis``) or ``tr.stack`` (equal shapes)."""
    base = draw(shapes(min_dims=0 if stack else 1, max_dims=3, max_side=3))
    count = draw(st.integers(1, 3))
    ndim = len(base) + (1 if stack else 0)
    axis = draw(st.integers(-ndim, ndim - 1))
    if stack:
        return axis, tuple(draw(arrays(base)) for _ in range(count))
    out = []
    for _ in range(count):
        shape = list(base)
        shape[axis] = draw(st.integers(0, 3))
        out.append(draw(arrays(tuple(shape))))
    return axis, tuple(out)


@st.composite
def reshape_target(draw: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape with as many elements as ``shape`` (maybe using one -1)."""
    size = int(np.prod(shape))
    divisors = [d for d in range(1, size + 1) if size % d == 0] or [0]
    first = draw(st.sampled_from(divisors))
    candidates = [(size,), (1, size), (size, 1), tuple(reversed(shape))]
    if size:  # -1 is ambiguous for an empty tensor
        candidates += [(first, size // first), (first, -1), (-1,), (1, first, 1, size // first)]
    if size == 1:
        candidates.append(())
    return draw(st.sampled_from(candidates))
