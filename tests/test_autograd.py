"""The tape itself: accumulation, deep chains, hooks, retain_grad, no_grad, create_graph."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor


def test_x_times_x_plus_x_accumulates_both_uses(device: str) -> None:
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True, device=device, dtype="float64")
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.array([1.0, -2.0, 3.0]) + 1)


def test_weight_reused_in_50_step_loop_gets_sum_of_uses(device: str) -> None:
    # s_t = w * s_{t-1} + x_t with s_0 = 0, L = s_50: dL/dw = sum_t (d s_50 / d w) exactly.
    w0 = 0.9
    xs = np.linspace(-1, 1, 50)
    w = Tensor(w0, requires_grad=True, device=device, dtype="float64")
    s = Tensor(0.0, device=device, dtype="float64")
    for x_t in xs:
        s = w * s + float(x_t)
    s.backward()
    # s_50 = sum_t w^(50-t) x_t  ->  dL/dw = sum_t (50-t) w^(49-t) x_t
    t = np.arange(1, 51)
    expected = np.sum((50 - t) * w0 ** np.maximum(49 - t, 0) * xs * (t < 50))
    assert w.grad.item() == pytest.approx(expected, rel=1e-12)


def test_gradients_accumulate_across_backward_calls(device: str) -> None:
    x = Tensor([2.0], requires_grad=True, device=device, dtype="float64")
    y = x * 3.0
    y.sum().backward()
    y.sum().backward()  # the tape is kept: a second call adds the same gradient again
    assert x.grad.item() == 6.0


def test_10000_op_chain_backpropagates_without_recursion(device: str) -> None:
    x = Tensor(1.0, requires_grad=True, device=device, dtype="float64")
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-9)


def test_no_grad_records_nothing(device: str) -> None:
    x = Tensor.randn(3, requires_grad=True, device=device)
    with tr.no_grad():
        y = (x * 2).exp()
    assert not y.requires_grad and y._ctx is None


def test_detach_cuts_the_tape(device: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, device=device, dtype="float64")
    y = (x * x).detach() * x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 4.0])


def test_retain_grad_and_hooks_read_intermediate_gradients(device: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, device=device, dtype="float64")
    h = x * 3.0
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 12.0])
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])
    assert x.grad.tolist() == [18.0, 36.0]


def test_hook_can_replace_the_gradient(device: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, device=device, dtype="float64")
    h = x * 1.0
    handle = h.register_hook(lambda g: g * 0.0)
    h.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    handle.remove()
    x.grad = None
    h.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_plain_backward_records_no_graph_for_gradients(device: str) -> None:
    w = Tensor.randn(3, 3, requires_grad=True, device=device)
    x = Tensor.randn(2, 3, device=device)
    ((x @ w).tanh() * 2).sum().backward()
    assert w.grad._ctx is None and not w.grad.requires_grad


def test_create_graph_gives_second_derivatives(device: str) -> None:
    x = Tensor([0.3, -0.7], requires_grad=True, device=device, dtype="float64")
    (dx,) = tr.grad((x**3).sum(), [x], create_graph=True)
    np.testing.assert_allclose(dx.numpy(), 3 * np.array([0.3, -0.7]) ** 2)
    (ddx,) = tr.grad(dx.sum(), [x])
    np.testing.assert_allclose(ddx.numpy(), 6 * np.array([0.3, -0.7]))


def test_backward_create_graph_leaves_grad_on_the_tape(device: str) -> None:
    x = Tensor([0.5], requires_grad=True, device=device, dtype="float64")
    x.tanh().sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    (gg,) = tr.grad(g.sum(), [x])
    t = np.tanh(0.5)
    assert gg.item() == pytest.approx(-2 * t * (1 - t**2))


def test_backward_on_non_scalar_without_grad_is_refused(device: str) -> None:
    x = Tensor.randn(2, 3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*one-element"):
        (x * 2).backward()


def test_backward_with_wrong_grad_shape_is_refused(device: str) -> None:
    x = Tensor.randn(2, 3, requires_grad=True, device=device)
    with pytest.raises(ValueError, match=r"grad has shape \(3,\).*\(2, 3\)"):
        (x * 2).backward(Tensor.ones(3, device=device))


def test_graph_is_freed_when_last_reference_goes(device: str) -> None:
    import gc
    import weakref

    gc.disable()
    try:
        x = Tensor.randn(4, requires_grad=True, device=device)
        y = (x * 2).tanh()
        ref = weakref.ref(y._ctx.inputs[0])  # the intermediate x * 2
        y.sum().backward()
        del y
        assert ref() is None  # freed by reference counting alone: no cycles on the tape
    finally:
        gc.enable()


def test_weight_gradient_kept_as_factors_equals_the_step_by_step_sum(device: str) -> None:
    """A plain backward multiplies out a recurrent weight's sum_t s_{t-1}^T delta_t as one
    matmul (GradBuffers.add_product); create_graph sums the products step by step on the tape."""
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(4, 4)) * 0.5, requires_grad=True, device=device)
    U = Tensor(rng.normal(size=(4, 4)) * 0.5, requires_grad=True, device=device)
    xs = Tensor(rng.normal(size=(30, 3, 4)), device=device)

    def loss() -> Tensor:
        s = Tensor.zeros(3, 4, device=device, dtype="float64")
        WT = W.T
        total = None
        for t in range(30):
            s = (xs[t] + s @ WT + tr.ops.MatMul.apply(s, U, transpose_b=True)).tanh()
            total = s.sum() if total is None else total + (s * s).sum()
        return total

    plain = tr.grad(loss(), [W, U])
    recorded = tr.grad(loss(), [W, U], create_graph=True)
    for a, b in zip(plain, recorded, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
    assert tr.gradcheck(lambda W, U: loss(), W, U)
