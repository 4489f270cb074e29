"""Initialisers: overwrite a parameter's values, in place, without recording anything.

Each function makes a new tensor of the same shape, dtype and device with Tensor
constructors and moves its values into ``t`` (so every holder of the tensor, an
optimizer included, sees the new values), then returns ``t``. Random draws come from
the library's generator in float64, so ``tr.manual_seed`` gives the same weights on
every device.

Example ("trick 2" for long-term dependencies: identity weights, zero biases):
    >>> import tinygrad_rnn as tr
    >>> recurrent = tr.nn.Linear(4, 4)
    >>> _ = tr.nn.init.identity_(recurrent.weight)
    >>> _ = tr.nn.init.zeros_(recurrent.bias)
    >>> recurrent.weight.numpy().tolist()[1], recurrent.bias.numpy().tolist()
    ([0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0])
"""

from __future__ import annotations

import math
from typing import Any

from ..autograd import no_grad
from ..ops import qr
from ..tensor import Tensor


def _fill(name: str, t: Tensor, make: Any) -> Tensor:
    """Give ``t`` the values of ``make(shape, device)`` (a Tensor), under ``no_grad``; checks ``t``."""
    if not isinstance(t, Tensor):
        raise TypeError(f"nn.init.{name}: got a {type(t).__name__}; expected a Tensor (e.g. layer.weight)")
    if not t.is_leaf:
        raise ValueError(
            f"nn.init.{name}: the tensor was computed by an op; expected a leaf tensor such as a parameter"
        )
    with no_grad():
        new = make(t.shape, t.device)
        t.copy_(new)  # in place: holders of t (optimizers) see the new values, with a new version
    return t


def _check_numbers(name: str, **values: Any) -> None:
    """Each value must be a finite Python number (the bounds, means and gains above)."""
    for what, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TypeError(f"nn.init.{name}: {what}={value!r}; expected a finite number")


def zeros_(t: Tensor) -> Tensor:
    """t = 0 (biases, e.g. the notes' W_0^ss, in "trick 2")."""
    return _fill("zeros_", t, lambda shape, device: Tensor.zeros(*shape, device=device, dtype=t.dtype))


def identity_(t: Tensor, gain: float = 1.0) -> Tensor:
    """t = gain * I (ones on the diagonal of a 2-D tensor, zeros elsewhere).

    "Trick 2" for long-term dependencies (the lecture slides' "Parameter Initialization":
    weights to the identity, biases to zero): with W^ss = I and W_0^ss = 0, s_t starts
    close to s_{t-1}, so the product of Jacobians ds_t/ds_{t-1} in the backward pass
    (6.390 notes C.47, Vanishing gradients and gating mechanisms) neither shrinks nor
    grows at the start of training (with f_s = relu this is the IRNN of Le et al., 2015).

    Raises:
        ValueError: ``t`` is not 2-D.
    """
    _check_numbers("identity_", gain=gain)
    if isinstance(t, Tensor) and t.ndim != 2:
        raise ValueError(f"nn.init.identity_: tensor has shape {t.shape}; expected a 2-D (matrix) tensor")

    def make(shape: tuple[int, ...], device: Any) -> Tensor:
        rows, cols = shape
        return Tensor.eye(max(rows, cols), device=device, dtype=t.dtype)[:rows, :cols] * gain

    return _fill("identity_", t, make)


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """t ~ U(a, b), drawn from the library's generator.

    Raises:
        ValueError: ``a > b``.
    """
    _check_numbers("uniform_", a=a, b=b)
    if not a <= b:
        raise ValueError(f"nn.init.uniform_: a={a!r}, b={b!r}; expected a <= b")
    return _fill("uniform_", t, lambda shape, device: Tensor.uniform(*shape, low=a, high=b, device=device,
                                                                     dtype="float64"))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """t ~ N(mean, std^2), drawn from the library's generator.

    Raises:
        ValueError: ``std < 0``.
    """
    _check_numbers("normal_", mean=mean, std=std)
    if not std >= 0:
        raise ValueError(f"nn.init.normal_: std={std!r}; expected std >= 0")
    return _fill("normal_", t, lambda shape, device: Tensor.randn(*shape, device=device, dtype="float64") * std
                 + mean)


def _fans(name: str, t: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel), as PyTorch computes them."""
    if not isinstance(t, Tensor) or t.ndim < 2:
        shape = t.shape if isinstance(t, Tensor) else type(t).__name__
        raise ValueError(f"nn.init.{name}: tensor has shape {shape}; expected at least 2 dimensions (out, in, ...)")
    receptive = 1
    for d in t.shape[2:]:
        receptive *= d
    return t.shape[1] * receptive, t.shape[0] * receptive


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """t ~ U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).

    Keeps the variance of activations and of gradients roughly equal across layers.
    For a weight (out, in): fan_in = in, fan_out = out.

    Raises:
        ValueError: ``t`` has fewer than 2 dimensions.
    """
    _check_numbers("xavier_uniform_", gain=gain)
    fan_in, fan_out = _fans("xavier_uniform_", t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return uniform_(t, -bound, bound)


def orthogonal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """t = gain * Q, Q with orthonormal rows or columns (Saxe et al., 2014).

    Q comes from the QR decomposition of a Gaussian matrix (on the host), with the signs
    of R's diagonal moved into Q so that Q is uniformly distributed. A square W^ss then
    has every singular value 1: like the identity of :func:`identity_`, repeated
    multiplication by it (6.390 notes C.47) neither shrinks nor blows up a vector.
    A tensor (rows, *rest) is treated as the matrix (rows, prod(rest)).

    Raises:
        ValueError: ``t`` has fewer than 2 dimensions.
    """
    _check_numbers("orthogonal_", gain=gain)
    _fans("orthogonal_", t)

    def make(shape: tuple[int, ...], device: Any) -> Tensor:
        rows = shape[0]
        cols = t.numel() // rows if rows else 0
        if rows == 0 or cols == 0:
            return Tensor.zeros(*shape, device=device, dtype=t.dtype)
        tall = Tensor.randn(max(rows, cols), min(rows, cols), dtype="float64")
        q, r = qr(tall)  # q: (max, min) with orthonormal columns
        k = list(range(r.shape[0]))
        signs = (r[k, k] >= 0).astype(r.dtype) * 2.0 - 1.0
        q = (q * signs).to(device)  # Q diag(sign(diag R)): unique, uniform
        if rows < cols:
            q = q.T
        return (q * gain).reshape(*shape)

    return _fill("orthogonal_", t, make)
