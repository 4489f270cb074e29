"""The other two functions of a Transformer block: GELU and layer normalisation.

``gelu`` is an op (``ops/activation.py``: forward and backward side by side, exact GELU
through the backend's ``erf``); ``layer_norm`` is composite, so its gradient comes from
the tape.
"""

from __future__ import annotations

from typing import Any

from ..ops import activation
from ..tensor import Tensor
from .checks import as_int

__all__ = ["gelu", "layer_norm"]


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002 (PyTorch's name)
    """Gaussian error linear unit: GELU(x) = x * Phi(x), Phi the standard normal CDF.

        approximate="none":  GELU(x) = x (1 + erf(x / sqrt 2)) / 2
        approximate="tanh":  GELU(x) ~ x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2

    d GELU/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi) (exact form). For
    x below about -8, 1 + erf(x / sqrt 2) cancels, so GELU(x) (about -1e-15 and smaller)
    is accurate in absolute, not relative, terms, as in PyTorch.

    Shapes:
        input: any shape; output: the same.

    Args:
        input: a float tensor.
        approximate: "none" (exact) or "tanh".

    Returns:
        GELU applied elementwise.

    Raises:
        ValueError: another ``approximate``.  TypeError: input is not a float Tensor.

    Example:
        >>> import tinygrad_rnn as tr
        >>> [round(v, 4) for v in tr.nn.functional.gelu(tr.Tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.1587, 0.0, 0.8413]
    """
    if not isinstance(input, Tensor) or not input.backend.is_floating(input.dtype):
        given = f"a Tensor of dtype {input.dtype}" if isinstance(input, Tensor) else f"a {type(input).__name__}"
        raise TypeError(f"gelu: input is {given}; expected a floating-point Tensor")
    return activation.gelu(input, approximate)


def _normalized_shape(normalized_shape: Any) -> tuple[int, ...] | None:
    dims = (normalized_shape,) if as_int(normalized_shape) is not None else normalized_shape
    if not isinstance(dims, (tuple, list)) or not dims or any(as_int(d) is None or as_int(d) < 1 for d in dims):
        return None
    return tuple(as_int(d) for d in dims)


def layer_norm(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the trailing dimensions ``normalized_shape``:

        y = (x - mean) / sqrt(var + eps) * weight + bias

    mean and var are taken over the last ``len(normalized_shape)`` dimensions of each
    sample, var biased (divided by their size N, not N - 1), as PyTorch. Composite: the
    gradient comes from the tape.

    Shapes:
        input: (..., *normalized_shape); weight, bias: normalized_shape; output: as input.

    Args:
        input: a float tensor.
        normalized_shape: an int or a tuple of positive ints: input's trailing shape.
        weight, bias: the elementwise affine parameters (None: 1 and 0).
        eps: added to the variance.

    Returns:
        The normalised tensor.

    Raises:
        ValueError: input's trailing shape, or weight's or bias's shape, is not
            normalized_shape (both named).
        TypeError: input is not a float Tensor.

    Example:
        >>> import tinygrad_rnn as tr
        >>> y = tr.nn.functional.layer_norm(tr.Tensor([[1.0, 2.0, 3.0]]), 3)
        >>> [round(v, 3) for v in y[0].tolist()]
        [-1.225, 0.0, 1.225]
    """
    if not isinstance(input, Tensor) or not input.backend.is_floating(input.dtype):
        given = f"a Tensor of dtype {input.dtype}" if isinstance(input, Tensor) else f"a {type(input).__name__}"
        raise TypeError(f"layer_norm: input is {given}; expected a floating-point Tensor")
    shape = _normalized_shape(normalized_shape)
    if shape is None:
        raise ValueError(f"layer_norm: normalized_shape={normalized_shape!r}; expected a positive int or a non-empty "
                         "tuple of positive ints")
    if input.shape[input.ndim - len(shape):] != shape or input.ndim < len(shape):
        raise ValueError(f"layer_norm: input has shape {input.shape}; expected one ending in normalized_shape {shape}")
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None and (not isinstance(p, Tensor) or p.shape != shape):
            given = p.shape if isinstance(p, Tensor) else type(p).__name__
            raise ValueError(f"layer_norm: {what} is {given}; expected None or a Tensor of shape {shape}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0:
        raise ValueError(f"layer_norm: eps={eps!r}; expected a non-negative number")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    centred = input - input.mean(axis=axes, keepdims=True)
    var = (centred * centred).mean(axis=axes, keepdims=True)
    y = centred / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
