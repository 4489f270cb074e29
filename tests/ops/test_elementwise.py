"""Elementwise ops: arithmetic with broadcasting (tensor or Python scalar either side),
the unary functions, clip and where.

Every test is one ``check_op`` call: forward vs NumPy, gradients and second derivatives
vs finite differences, on every backend of the ``device`` fixture.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import (
    arrays,
    away_from_zero,
    broadcasting_arrays,
    check_op,
    op_settings,
    positive,
    shapes,
    smooth,
)

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.ops import add_tanh

pairs = broadcasting_arrays(smooth(), smooth())
scalars = st.floats(-3, 3).filter(lambda c: abs(c) > 0.1)


# ------------------------------------------------------------ tensor (op) tensor
@op_settings
@given(xy=pairs)
def test_add(device: str, xy) -> None:
    check_op(lambda a, b: a + b, *xy, device=device)


@op_settings
@given(xy=pairs)
def test_add_tanh(device: str, xy) -> None:
    check_op(lambda a, b: add_tanh(a, b), *xy, device=device, oracle=lambda a, b: np.tanh(a + b))


@op_settings
@given(xy=pairs)
def test_sub(device: str, xy) -> None:
    check_op(lambda a, b: a - b, *xy, device=device)


@op_settings
@given(xy=pairs)
def test_mul(device: str, xy) -> None:
    check_op(lambda a, b: a * b, *xy, device=device)


@op_settings
@given(xy=broadcasting_arrays(smooth(), away_from_zero(0.5)))
def test_div(device: str, xy) -> None:
    check_op(lambda a, b: a / b, *xy, device=device)


@op_settings
@given(xy=broadcasting_arrays(positive(0.5, 2.0), smooth()))
def test_pow_tensor_exponent(device: str, xy) -> None:
    check_op(lambda a, b: a**b, *xy, device=device)


# ------------------------------------------------------- Python scalar either side
@op_settings
@given(x=arrays(shapes()), c=scalars)
def test_add_scalar_either_side(device: str, x, c) -> None:
    check_op(lambda a: (a + c) * (c + a), x, device=device)


@op_settings
@given(x=arrays(shapes()), c=scalars)
def test_sub_scalar_either_side(device: str, x, c) -> None:
    check_op(lambda a: (a - c) * (c - a), x, device=device)


@op_settings
@given(x=arrays(shapes()), c=scalars)
def test_mul_scalar_either_side(device: str, x, c) -> None:
    check_op(lambda a: (a * c) + (c * a) * a, x, device=device)


@op_settings
@given(x=arrays(shapes(), away_from_zero(0.5)), c=scalars)
def test_div_scalar_either_side(device: str, x, c) -> None:
    check_op(lambda a: a / c + c / a, x, device=device)


@op_settings
@given(x=arrays(shapes(), smooth()), p=st.sampled_from([0, 1, 2, 3, 4]))
def test_pow_integer_scalar_exponent(device: str, x, p) -> None:
    check_op(lambda a: a**p, x, device=device)


@op_settings
@given(x=arrays(shapes(), positive()), p=st.sampled_from([-2.0, -1.0, -0.5, 0.5, 1.5, 2.5]))
def test_pow_real_scalar_exponent(device: str, x, p) -> None:
    check_op(lambda a: a**p, x, device=device)


@op_settings
@given(x=arrays(shapes(), smooth()), c=positive(0.3, 3.0))
def test_pow_scalar_base(device: str, x, c) -> None:
    check_op(lambda a: c**a, x, device=device)


@op_settings
@given(x=arrays(shapes()))
def test_neg(device: str, x) -> None:
    check_op(lambda a: -a, x, device=device)


# ------------------------------------------------------------------------ unary
@op_settings
@given(x=arrays(shapes()))
def test_exp(device: str, x) -> None:
    check_op(lambda a: a.exp(), x, device=device, oracle=np.exp)


@op_settings
@given(x=arrays(shapes(), positive()))
def test_log(device: str, x) -> None:
    check_op(lambda a: a.log(), x, device=device, oracle=np.log)


@op_settings
@given(x=arrays(shapes(), smooth(3.0)))
def test_tanh(device: str, x) -> None:
    check_op(lambda a: a.tanh(), x, device=device, oracle=np.tanh)


@op_settings
@given(x=arrays(shapes(), smooth(6.0)))
def test_sigmoid(device: str, x) -> None:
    check_op(lambda a: a.sigmoid(), x, device=device, oracle=lambda a: 1 / (1 + np.exp(-a)))


@op_settings
@given(x=arrays(shapes(), away_from_zero()))
def test_relu(device: str, x) -> None:
    check_op(lambda a: a.relu(), x, device=device, oracle=lambda a: np.maximum(a, 0.0))


@op_settings
@given(x=arrays(shapes(), away_from_zero()))
def test_abs(device: str, x) -> None:
    check_op(lambda a: a.abs(), x, device=device, oracle=np.abs)


@op_settings
@given(x=arrays(shapes(), positive()))
def test_sqrt(device: str, x) -> None:
    check_op(lambda a: a.sqrt(), x, device=device, oracle=np.sqrt)


# ------------------------------------------------------------------ clip, where
clip_values = st.one_of(st.floats(-2.0, -0.6), st.floats(-0.4, 0.9), st.floats(1.1, 2.0))  # away from lo, hi


@op_settings
@given(x=arrays(shapes(), clip_values), bounds=st.sampled_from([(-0.5, 1.0), (None, 1.0), (-0.5, None)]))
def test_clip(device: str, x, bounds) -> None:
    check_op(lambda a: a.clip(*bounds), x, device=device, oracle=lambda a: np.clip(a, *bounds))


@st.composite
def where_args(draw):
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=0, max_side=3))
    cond_shape, a_shape, b_shape = drawn.input_shapes
    return draw(hnp.arrays(bool, cond_shape)), draw(arrays(a_shape)), draw(arrays(b_shape))


@op_settings
@given(args=where_args(), cond_as_tensor=st.booleans())
def test_where(device: str, args, cond_as_tensor) -> None:
    cond, a, b = args
    c = Tensor(cond, device=device) if cond_as_tensor else cond
    check_op(lambda a, b: tr.where(c, a, b), a, b, device=device, oracle=lambda a, b: np.where(cond, a, b))


# ----------------------------------------------------- examples worth spelling out
def test_scalar_operands_keep_the_tensor_dtype(device: str) -> None:
    x = Tensor([1.0, 2.0], device=device)  # float32
    for y in (x + 1.5, 1.5 - x, x * 2, 3 / x, x**2, 2.0**x, -x):
        assert y.dtype == np.float32 and y.device == device
    assert (Tensor([1.0], device=device, dtype="float64") * 0.1).dtype == np.float64


def test_where_gradient_goes_to_the_chosen_side(device: str) -> None:
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device, dtype="float64")
    b = Tensor([10.0], requires_grad=True, device=device, dtype="float64")
    tr.where(Tensor([True, False, True], device=device), a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 1.0]
    assert b.grad.tolist() == [1.0]  # broadcast operand: the sum over its copies


def test_where_accepts_a_python_number_on_either_side(device: str) -> None:
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True, device=device, dtype="float64")
    y = tr.where(x > 0, x, 0.0)
    y.sum().backward()
    assert y.tolist() == [1.0, 0.0, 3.0] and x.grad.tolist() == [1.0, 0.0, 1.0]
    assert tr.where(x > 0, 5.0, x).tolist() == [5.0, -2.0, 5.0]
    with pytest.raises(TypeError, match="expected at least one Tensor"):
        tr.where(x > 0, 1.0, 0.0)
