"""erf on the NumPy backend (W. J. Cody's approximations) against math.erf, over the real line."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn.backend import get_backend
from tinygrad_rnn.backend.special import erf

REFERENCE = np.vectorize(math.erf)


def _relative_error(x: np.ndarray) -> np.ndarray:
    want = REFERENCE(x)
    return np.abs(erf(x) - want) / np.maximum(np.abs(want), np.finfo(np.float64).tiny)


def test_erf_is_within_1e_15_relative_of_math_erf_over_the_real_line() -> None:
    dense = np.linspace(-8.0, 8.0, 400_001)  # every range of the approximation and the seams between them
    tiny_to_big = np.logspace(-310, 1.5, 20_000)  # subnormals up to 31.6, past where erfc underflows
    seams = np.array([0.46875, 4.0, 26.543])
    seams = np.concatenate([seams, np.nextafter(seams, 0.0), np.nextafter(seams, np.inf)])
    x = np.concatenate([dense, tiny_to_big, -tiny_to_big, seams, -seams])
    assert _relative_error(x).max() <= 1e-15


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_erf_is_within_1e_15_relative_of_math_erf_for_any_double(value: float) -> None:
    assert _relative_error(np.array([value]))[0] <= 1e-15


def test_erf_special_values_and_dtypes() -> None:
    special = erf(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300]))
    np.testing.assert_array_equal(special[[0, 2, 3, 5, 6]], [0.0, 1.0, -1.0, 1.0, -1.0])
    assert math.copysign(1.0, special[1]) == -1.0  # erf is odd: -0.0 stays -0.0
    assert np.isnan(special[4])
    assert erf(np.array(0.5)).shape == ()  # 0-d in, 0-d out
    assert erf(np.float32([0.5, -2.0])).dtype == np.float32
    np.testing.assert_allclose(erf(np.float32([0.5, -2.0])), [math.erf(0.5), math.erf(-2.0)], rtol=1e-7)
    assert erf(np.array([1, 2])).dtype == np.float64  # integers are computed as float64
    assert erf(np.zeros((2, 0))).shape == (2, 0)


def test_erf_is_odd_and_monotone() -> None:
    x = np.linspace(0.0, 7.0, 10_001)
    np.testing.assert_array_equal(erf(-x), -erf(x))
    assert (np.diff(erf(x)) >= 0).all()


def test_numpy_backend_erf_is_this_erf() -> None:
    x = np.linspace(-5.0, 5.0, 101)
    np.testing.assert_array_equal(get_backend("cpu").erf(x), erf(x))
