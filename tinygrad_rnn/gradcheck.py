"""Finite-difference checks of the tape's gradients (float64).

``gradcheck`` compares the tape's first derivatives with central differences;
``gradgradcheck`` does the same for the derivatives of the gradient itself, which
is how the ``create_graph=True`` path (every op's backward written with Tensor ops)
is proven right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import autograd
from .backend import host
from .tensor import Tensor


def _scalarize(out: Any, seed: int) -> Tensor:
    """Reduce the output(s) of ``fn`` to one number: sum_k <out_k, v_k>, v_k fixed random."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    rng = host.new_rng(seed)
    total = None
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn returned a {type(o).__name__} as output {k}; expected Tensors")
        if not o.backend.is_floating(o.dtype):
            continue
        v = Tensor(host.randn(rng, o.shape, "float64"), device=o.device, dtype=o.dtype)
        term = (o * v).sum()
        total = term if total is None else total + term
    if total is None:
        raise TypeError("gradcheck: fn returned no floating-point output to differentiate")
    return total


def _check_inputs(inputs: Sequence[Any]) -> list[Tensor]:
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input has requires_grad=True; expected at least one")
    for x in diff:
        if str(x.dtype) != "float64":
            raise TypeError(
                f"gradcheck: an input has dtype {x.dtype}; expected float64 (finite differences "
                "in float32 are too coarse to check anything)"
            )
    return diff


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check the tape's gradients of ``fn(*inputs)`` against central finite differences.

    Non-scalar outputs are reduced to sum_k <out_k, v_k> with fixed random v_k, so
    every entry of every output is checked. Each float64 input with
    ``requires_grad=True`` is perturbed one element at a time:
    dJ/dx_i ~ (J(x + eps e_i) - J(x - eps e_i)) / (2 eps).

    Returns:
        True when every entry satisfies |tape - numeric| <= atol + rtol * |numeric|.

    Raises:
        AssertionError: naming the input, the element and both values of the worst
            mismatch.
        TypeError: an input that requires grad is not float64.
    """
    diff = _check_inputs(inputs)
    analytic = autograd.grad(_scalarize(fn(*inputs), seed), diff)
    worst = None  # (excess, input number, index, tape value, numeric value)
    for k, x in enumerate(diff):
        backend = x.backend
        x.data = x.data.copy()  # contiguous, so the flat view below writes through
        flat = x.data.reshape(-1)
        tape = backend.to_numpy(analytic[k].data).reshape(-1)
        for i in range(flat.shape[0]):
            original = backend.scalar(flat[i])
            flat[i] = original + eps
            plus = backend.scalar(_scalarize(fn(*inputs), seed).data)
            flat[i] = original - eps
            minus = backend.scalar(_scalarize(fn(*inputs), seed).data)
            flat[i] = original
            numeric = (plus - minus) / (2 * eps)
            excess = abs(float(tape[i]) - numeric) - (atol + rtol * abs(numeric))
            if excess != excess:  # NaN on either side is a mismatch, never a pass
                excess = float("inf")
            if excess > 0 and (worst is None or excess > worst[0]):
                position = tuple(int(j) for j in host.unravel_index(i, x.shape))
                worst = (excess, k, position, float(tape[i]), numeric)
    if worst is not None:
        _, k, position, tape_value, numeric = worst
        raise AssertionError(
            f"gradcheck: input {k} (shape {diff[k].shape}), element {position}: tape gradient "
            f"{tape_value!r} vs finite difference {numeric!r} (atol={atol}, rtol={rtol})"
        )
    return True


def gradgradcheck(fn: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of x -> sum_k <dJ/dx_k, u_k>.

    The gradient is computed with ``create_graph=True``, so this differentiates every
    op's backward (written with Tensor ops) once more. It is a Hessian-vector product
    check: d/dx <grad J(x), u> = H(x) u.
    """
    diff = _check_inputs(inputs)
    rng = host.new_rng(seed + 1)
    directions = [Tensor(host.randn(rng, x.shape, "float64"), device=x.device) for x in diff]

    def grad_dot_u(*args: Any) -> Tensor:
        wrt = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        grads = autograd.grad(_scalarize(fn(*args), seed), wrt, create_graph=True)
        total = (grads[0] * directions[0]).sum()
        for g_k, u_k in zip(grads[1:], directions[1:], strict=False):
            total = total + (g_k * u_k).sum()
        return total

    return gradcheck(grad_dot_u, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
