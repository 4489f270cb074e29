"""Special functions NumPy lacks, for the NumPy backend: the error function.

erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, which exact GELU needs
(GELU(x) = x * Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2). NumPy has no erf and
SciPy is not a dependency, so it is computed here with W. J. Cody's rational
approximations ("Rational Chebyshev approximations for the error function",
Math. Comp. 23 (1969) 631-637; the constants are those of his SPECFUN routine CALERF).
Three ranges of y = |x|:

* y <= 0.46875:      erf(x) = x * P1(y^2) / Q1(y^2)
* 0.46875 < y <= 4:  erfc(y) = exp(-y^2) * P2(y) / Q2(y)
* y > 4:             erfc(y) = exp(-y^2) / y * (1/sqrt(pi) - R(1/y^2) / y^2), R = P3/Q3

and erf(x) = sign(x) * (1 - erfc(y)) on the outer two. exp(-y^2) is taken as
exp(-h^2) * exp(-(y - h)(y + h)) with h = y rounded down to a multiple of 1/16, whose
square is exact: y*y itself would carry a rounding error that exp magnifies. The
result is within a few units in the last place of the true value in float64 (the
tests measure it against ``math.erf``); float32 input is computed in float64 and
rounded once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Coefficients, lowest degree first in the evaluation below (the last one of each
# numerator is the leading coefficient, as Cody lists them).
_P1 = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
       1.85777706184603153e-1)
_Q1 = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_P2 = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
       8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
       2.15311535474403846e-8)
_Q2 = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
       3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P3 = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
       6.58749161529837803e-4, 1.63153871373020978e-2)
_Q3 = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
       2.33520497626869185e-3)
_ONE_OVER_SQRT_PI = 5.6418958354775628695e-1
_SMALL, _MIDDLE = 0.46875, 4.0
_ERFC_UNDERFLOW = 26.543  # erfc(y) is below the smallest double past here: erf(x) = sign(x)


def _ratio(p: tuple[float, ...], q: tuple[float, ...], z: np.ndarray) -> np.ndarray:
    """Cody's nested evaluation of P(z) / Q(z): both polynomials have degree len(q), the
    denominator is monic, ``p[-1]`` leads the numerator and ``p[-2]``, ``q[-1]`` are the
    constant terms."""
    n = len(q)
    num, den = p[-1] * z, z.copy()
    for k in range(n - 1):
        num = (num + p[k]) * z
        den = (den + q[k]) * z
    return (num + p[n - 1]) / (den + q[n - 1])


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """exp(-y^2), with y^2 split as h^2 + (y - h)(y + h), h = y rounded down to 1/16."""
    h = np.trunc(y * 16.0) / 16.0
    return np.exp(-h * h) * np.exp(-(y - h) * (y + h))


def erf(x: Any) -> np.ndarray:
    """The error function of a float array, elementwise (NaN stays NaN, erf(+-inf) = +-1)."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x64 = x.astype(np.float64)
    y = np.abs(x64)
    out = np.empty_like(x64)

    small = y <= _SMALL
    ys = y[small]
    out[small] = x64[small] * _ratio(_P1, _Q1, ys * ys)

    middle = (y > _SMALL) & (y <= _MIDDLE)
    ym = y[middle]
    erfc = _exp_minus_square(ym) * _ratio(_P2, _Q2, ym)
    out[middle] = np.copysign((0.5 - erfc) + 0.5, x64[middle])

    large = (y > _MIDDLE) & (y < _ERFC_UNDERFLOW)
    yl = y[large]
    z = 1.0 / (yl * yl)
    erfc = _exp_minus_square(yl) * (_ONE_OVER_SQRT_PI - z * _ratio(_P3, _Q3, z)) / yl
    out[large] = np.copysign((0.5 - erfc) + 0.5, x64[large])

    huge = y >= _ERFC_UNDERFLOW  # inf included; NaN fails every comparison above and below
    out[huge] = np.copysign(1.0, x64[huge])
    nan = np.isnan(x64)
    out[nan] = x64[nan]
    return out.astype(dtype, copy=False)
