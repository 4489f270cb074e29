"""tr.gradcheck / tr.gradgradcheck: they pass on right gradients, catch wrong ones with a
useful message, refuse float32; and second derivatives through a tanh recurrence
(a Hessian-vector product, as used for curvature of RNN losses) are right."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.autograd import Function

MESSAGE = re.compile(
    r"gradcheck: input (\d+) \(shape (\(.*?\))\), element (\(.*?\)): tape gradient (\S+) vs finite difference (\S+)"
)


class BrokenSquare(Function):
    """y = x * x with a deliberately wrong backward: dx = grad * x (the factor 2 is missing)."""

    def forward(self, x):
        return x * x

    def backward(self, grad, out):
        return grad * self.inputs[0]


class FrozenSquare(Function):
    """y = x * x whose backward is right in value but a constant: its own derivative is lost."""

    def forward(self, x):
        return x * x

    def backward(self, grad, out):
        return grad * grad._make(self.inputs[0].data * 2.0, grad.backend)


class NanBackward(Function):
    """y = x, with a backward that returns NaN."""

    def forward(self, x):
        return x * 1.0

    def backward(self, grad, out):
        return grad * float("nan")


def f64(data, device, requires_grad=True):
    return Tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad, device=device)


def test_gradcheck_passes_right_gradients_with_several_inputs_and_outputs(device: str) -> None:
    x = f64([[0.3, -1.2], [0.7, 2.0]], device)
    w = f64([0.5, -0.25], device)
    c = f64([1.0, 2.0], device, requires_grad=False)  # a constant input is left alone
    assert tr.gradcheck(lambda x, w, c: ((x * w).tanh() + c, (x @ w).exp()), x, w, c)
    assert tr.gradgradcheck(lambda x, w, c: ((x * w).tanh() + c, (x @ w).exp()), x, w, c)


def test_gradcheck_catches_a_wrong_backward_and_names_input_index_and_values(device: str) -> None:
    x = f64([0.5, 1.5], device)
    y = f64([[0.2, -0.4, 0.1], [-3.0, 0.6, 0.3]], device)  # |y| is largest at (1, 0)
    with pytest.raises(AssertionError) as info:
        tr.gradcheck(lambda x, y: x.sum() * 0.5 + BrokenSquare.apply(y).sum(), x, y)
    match = MESSAGE.search(str(info.value))
    assert match, str(info.value)
    k, shape, element, tape, numeric = match.groups()
    assert (int(k), shape, element) == (1, "(2, 3)", "(1, 0)")
    # The tape said v * y, finite differences 2 * v * y (v: gradcheck's random output weight).
    assert float(numeric) == pytest.approx(2 * float(tape), rel=1e-6)
    assert float(tape) != 0.0


def test_gradcheck_catches_a_nan_gradient(device: str) -> None:
    x = f64([0.5, -1.0], device)
    with pytest.raises(AssertionError, match=r"input 0 .* tape gradient nan vs finite difference"):
        tr.gradcheck(lambda x: NanBackward.apply(x), x)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable(device: str) -> None:
    x = f64([0.5, -1.0, 2.0], device)
    assert tr.gradcheck(lambda x: FrozenSquare.apply(x), x)  # first derivatives are right...
    with pytest.raises(AssertionError, match=r"gradcheck: input 0 \(shape \(3,\)\), element \(\d,\)"):
        tr.gradgradcheck(lambda x: FrozenSquare.apply(x), x)  # ...second ones are not


def test_gradcheck_refuses_float32_inputs(device: str) -> None:
    x = Tensor([0.5, 1.0], requires_grad=True, device=device)
    with pytest.raises(TypeError, match="dtype float32; expected float64"):
        tr.gradcheck(lambda x: x * x, x)
    with pytest.raises(TypeError, match="expected float64"):
        tr.gradgradcheck(lambda x: x * x, x)


def test_gradcheck_needs_an_input_that_requires_grad(device: str) -> None:
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        tr.gradcheck(lambda x: x * x, f64([1.0], device, requires_grad=False))


def test_gradcheck_leaves_the_inputs_unchanged(device: str) -> None:
    x = f64([0.25, -0.5, 0.75], device)
    tr.gradgradcheck(lambda x: x.tanh(), x)
    assert x.tolist() == [0.25, -0.5, 0.75] and x.grad is None


# ------------------------------------------------------- Hessian-vector products
T, m, l_in = 4, 3, 2  # time steps, state size, input size (the notes: T, m, l)


def recurrence_loss(W, U, xs):
    """s_t = tanh(W s_{t-1} + U x_t), s_0 = 0;  L = sum_t ||s_t||^2."""
    s = W[:, 0] * 0.0
    loss = None
    for t in range(T):
        s = (W @ s + U @ xs[t]).tanh()
        loss = (s * s).sum() if loss is None else loss + (s * s).sum()
    return loss


def hvp_setup(device):
    rng = np.random.default_rng(3)
    W, U = f64(rng.standard_normal((m, m)) * 0.8, device), f64(rng.standard_normal((m, l_in)), device)
    xs = f64(rng.standard_normal((T, l_in)), device, requires_grad=False)
    v_W, v_U = rng.standard_normal((m, m)), rng.standard_normal((m, l_in))
    return W, U, xs, v_W, v_U


def test_hessian_vector_product_of_a_tanh_recurrence_matches_finite_differences(device: str) -> None:
    W, U, xs, v_W, v_U = hvp_setup(device)
    grad_W, grad_U = tr.grad(recurrence_loss(W, U, xs), [W, U], create_graph=True)
    assert grad_W.requires_grad and grad_U.requires_grad
    directional = (grad_W * Tensor(v_W, device=device)).sum() + (grad_U * Tensor(v_U, device=device)).sum()
    hv_W, hv_U = tr.grad(directional, [W, U])

    eps = 1e-5

    def gradient_at(sign):
        W_ = f64(W.numpy() + sign * eps * v_W, device)
        U_ = f64(U.numpy() + sign * eps * v_U, device)
        return [g.numpy() for g in tr.grad(recurrence_loss(W_, U_, xs), [W_, U_])]

    (plus_W, plus_U), (minus_W, minus_U) = gradient_at(1.0), gradient_at(-1.0)
    np.testing.assert_allclose(hv_W.numpy(), (plus_W - minus_W) / (2 * eps), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hv_U.numpy(), (plus_U - minus_U) / (2 * eps), rtol=1e-6, atol=1e-7)
    assert np.abs(hv_W.numpy()).max() > 1e-2  # a real curvature, not a vacuous 0 == 0


def test_hessian_vector_product_of_a_tanh_recurrence_matches_pytorch(device: str) -> None:
    torch = pytest.importorskip("torch")
    W, U, xs, v_W, v_U = hvp_setup(device)
    grad_W, grad_U = tr.grad(recurrence_loss(W, U, xs), [W, U], create_graph=True)
    hv = tr.grad((grad_W * Tensor(v_W, device=device)).sum() + (grad_U * Tensor(v_U, device=device)).sum(), [W, U])

    tW, tU = (torch.tensor(a.numpy(), requires_grad=True) for a in (W, U))
    t_xs = torch.tensor(xs.numpy())
    t_loss = recurrence_loss(tW, tU, t_xs)
    t_grads = torch.autograd.grad(t_loss, [tW, tU], create_graph=True)
    t_hv = torch.autograd.grad((t_grads[0] * torch.tensor(v_W)).sum() + (t_grads[1] * torch.tensor(v_U)).sum(), [tW, tU])
    for ours, theirs in zip(hv, t_hv, strict=True):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_gradgradcheck_of_the_tanh_recurrence(device: str) -> None:
    W, U, xs, _, _ = hvp_setup(device)
    assert tr.gradgradcheck(lambda W, U: recurrence_loss(W, U, xs), W, U)
