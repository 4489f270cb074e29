"""Properties every op must have, checked on Hypothesis-drawn inputs (STYLE.md, Tests):
the gradient has the input's shape, backward is linear in ``grad``, reshape and
transpose round-trip, softmax and log_softmax stay finite and right on huge logits."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
from hypothesis import given
from op_oracle import (
    arrays,
    away_from_zero,
    broadcasting_arrays,
    check_op,
    matmul_pair,
    op_settings,
    reshape_target,
    shapes,
    smooth,
)

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs() ** b,
    "where": lambda a, b: tr.where(a > 0, a, b),
    "composite": lambda a, b: (a * b).tanh() + (a - b).exp() / (b * b + 1.0) + a.relu() * b.sigmoid(),
}


def leaves(arrays_, device):
    return [Tensor(x, requires_grad=True, device=device) for x in arrays_]


@op_settings
@given(xy=broadcasting_arrays(away_from_zero(), away_from_zero()), name=st.sampled_from(sorted(BINARY)))
def test_gradient_shape_equals_input_shape(device: str, xy, name) -> None:
    a, b = leaves(xy, device)
    out = BINARY[name](a, b)
    out.backward(Tensor.ones(*out.shape, device=device, dtype="float64"))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    assert a.grad.device == b.grad.device == device


@op_settings
@given(ab=matmul_pair())
def test_matmul_gradient_shapes_equal_operand_shapes(device: str, ab) -> None:
    a, b = leaves(ab, device)
    out = a @ b
    out.backward(Tensor.ones(*out.shape, device=device, dtype="float64"))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@op_settings
@given(
    xy=broadcasting_arrays(away_from_zero(), away_from_zero()),
    name=st.sampled_from(sorted(BINARY)),
    coefficients=st.tuples(smooth(3.0), smooth(3.0)),
    data=st.data(),
)
def test_backward_is_linear_in_grad(device: str, xy, name, coefficients, data) -> None:
    """backward(c1 g1 + c2 g2) = c1 backward(g1) + c2 backward(g2): the tape computes J^T grad."""
    c1, c2 = coefficients
    a, b = leaves(xy, device)
    out = BINARY[name](a, b)
    g1, g2 = (data.draw(arrays(out.shape)) for _ in range(2))

    def vjp(grad):
        a.grad = b.grad = None
        out.backward(Tensor(grad, device=device))
        return a.grad.numpy(), b.grad.numpy()

    combined = vjp(c1 * g1 + c2 * g2)
    for got, first, second in zip(combined, vjp(g1), vjp(g2), strict=True):
        np.testing.assert_allclose(got, c1 * first + c2 * second, rtol=1e-9, atol=1e-9)


REUSE = [  # a tensor read whole and through indices, in different orders on the tape
    lambda a: (a + a) * a,
    lambda a: a[0] * a,
    lambda a: a * 3.0 + a[-1:],
    lambda a: (a[0] * a).sum() + a[..., :1].sum() + a[[0, 0]].sum(),
    lambda a: (a + a) * a + a[0] * a - a[-1:] + (a * a)[0].sum() + a.T.sum() * a,
]


@op_settings
@given(x=arrays(shapes(min_dims=1, min_side=1)), k=st.integers(0, len(REUSE) - 1))
def test_a_tensor_used_many_times_gets_the_sum_of_its_gradients(device: str, x, k) -> None:
    """The engine accumulates some gradients in place: shared or aliased buffers must not leak."""
    check_op(REUSE[k], x, device=device)


@st.composite
def reshape_args(draw):
    x = draw(arrays(shapes()))
    return x, draw(reshape_target(x.shape))


@op_settings
@given(args=reshape_args(), data=st.data())
def test_reshape_round_trip_is_the_identity(device: str, args, data) -> None:
    x_np, target = args
    x = Tensor(x_np, requires_grad=True, device=device)
    back = x.reshape(target).reshape(x.shape)
    np.testing.assert_array_equal(back.numpy(), x_np)
    grad = data.draw(arrays(x.shape))
    back.backward(Tensor(grad, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), grad)


@st.composite
def permuted(draw):
    x = draw(arrays(shapes(max_dims=4)))
    return x, tuple(draw(st.permutations(range(x.ndim))))


@op_settings
@given(args=permuted(), data=st.data())
def test_transpose_round_trip_is_the_identity(device: str, args, data) -> None:
    x_np, axes = args
    inverse = tuple(int(i) for i in np.argsort(axes))
    x = Tensor(x_np, requires_grad=True, device=device)
    y = x.transpose(axes)  # one tuple: a permutation of all axes
    assert y.shape == tuple(x_np.shape[a] for a in axes)
    back = y.permute(*inverse)
    np.testing.assert_array_equal(back.numpy(), x_np)
    np.testing.assert_array_equal(x.T.T.numpy(), x_np)
    grad = data.draw(arrays(x.shape))
    back.backward(Tensor(grad, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), grad)


# ------------------------------------------------------------------ stable softmax
huge = st.floats(-1e4, 1e4, width=32)


@st.composite
def huge_logits(draw):
    x = draw(hnp.arrays(np.float32, shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), elements=huge))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


def reference_log_softmax(x, axis):
    x = x.astype(np.float64)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@op_settings
@given(args=huge_logits(), data=st.data())
def test_softmax_and_log_softmax_are_stable_on_huge_float32_logits(device: str, args, data) -> None:
    x_np, axis = args
    x = Tensor(x_np, requires_grad=True, device=device)
    assert x.dtype == np.float32
    expected = reference_log_softmax(x_np, axis)

    p = x.softmax(axis)
    log_p = x.log_softmax(axis)
    assert p.dtype == log_p.dtype == np.float32
    assert np.isfinite(p.numpy()).all() and np.isfinite(log_p.numpy()).all()
    np.testing.assert_allclose(p.numpy(), np.exp(expected), atol=1e-6)
    np.testing.assert_allclose(p.numpy().sum(axis=axis), 1.0, rtol=1e-5)
    # float32 keeps ~7 digits of a log-probability as large as 2e4.
    np.testing.assert_allclose(log_p.numpy(), expected, rtol=1e-5, atol=1e-4)

    grad = data.draw(hnp.arrays(np.float32, x.shape, elements=st.floats(-1, 1, width=32)))
    (p * Tensor(grad, device=device) + log_p * Tensor(grad, device=device)).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_softmax_of_extreme_logits_puts_all_mass_on_the_largest(device: str) -> None:
    x = Tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], device=device)
    np.testing.assert_allclose(x.softmax().numpy(), [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax().numpy()[0], [0.0, -2e4, -1e4], rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax().numpy()[1], np.log([1 / 3] * 3), rtol=1e-6)
