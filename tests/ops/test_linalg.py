"""The (batched) matrix product, with NumPy's rules for 1-D operands."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from op_oracle import check_op, matmul_pair, op_settings

from tinygrad_rnn import Tensor


@op_settings
@given(ab=matmul_pair())
def test_matmul(device: str, ab) -> None:
    check_op(lambda a, b: a @ b, *ab, device=device)


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (4, 3, 2)), ((4, 2, 3), (3,)), ((1, 3), (3, 1)),
     ((0, 3), (3, 2)), ((2, 0), (0, 2)), ((2, 1, 2, 3), (5, 3, 1))],
)
def test_matmul_edge_shapes(device: str, a_shape, b_shape) -> None:
    rng = np.random.default_rng(0)
    check_op(lambda a, b: a @ b, rng.standard_normal(a_shape), rng.standard_normal(b_shape), device=device)


def test_matmul_method_and_array_operand(device: str) -> None:
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], device=device, dtype="float64")
    assert a.matmul(a).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert (a @ [1.0, 1.0]).tolist() == [3.0, 7.0]
    assert ([1.0, 1.0] @ a).tolist() == [4.0, 6.0]
