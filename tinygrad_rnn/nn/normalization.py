"""``LayerNorm``: normalise each position's features, the glue between attention blocks."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .checks import as_int
from .module import Module, Parameter

__all__ = ["LayerNorm"]


def normalized_shape_of(name: str, normalized_shape: Any) -> tuple[int, ...]:
    """``normalized_shape`` (an int, or a tuple/list of ints) as a tuple of positive ints.

    Raises:
        TypeError: it is neither an int nor a sequence of ints.  ValueError: empty, or a size < 1.
    """
    dims = (normalized_shape,) if as_int(normalized_shape) is not None else normalized_shape
    if not isinstance(dims, (tuple, list)) or any(as_int(n) is None for n in dims):
        raise TypeError(f"{name}: normalized_shape={normalized_shape!r}; expected an int or a tuple of ints, "
                        "the sizes of the trailing axes to normalise over")
    shape = tuple(as_int(n) for n in dims)
    if not shape or min(shape) < 1:
        raise ValueError(f"{name}: normalized_shape={normalized_shape!r}; expected one or more positive sizes")
    return shape


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes of each position.

    With D the trailing axes of size ``normalized_shape``, for every leading index:

        mu = mean_D(x),   sigma^2 = mean_D((x - mu)^2)   (biased, as PyTorch)
        y = (x - mu) / sqrt(sigma^2 + eps) * weight + bias

    Each token is rescaled on its own, with no statistics across the batch or time, so
    padded positions never leak into real ones. ``weight`` starts at 1 and ``bias`` at 0,
    as in PyTorch (``torch.nn.LayerNorm``), whose state dict loads as is. The gradient
    comes from the tape through :func:`~tinygrad_rnn.nn.functional.layer_norm`.

    Shapes:
        x: (..., *normalized_shape), any number of leading axes.
        output: the shape of x.

    Args:
        normalized_shape: int or tuple of ints, the sizes of the trailing axes normalised.
        eps: added to the variance before the square root.
        elementwise_affine: learn ``weight`` (and ``bias``); without it y = (x - mu) / sigma.
        bias: learn ``bias`` too (only with ``elementwise_affine``).
        device: where the parameters live ("cpu", "cuda").
        dtype: parameter dtype; default float32.

    Attributes:
        weight: normalized_shape, or None.  bias: normalized_shape, or None.

    Raises:
        TypeError, ValueError: a bad ``normalized_shape`` or ``eps``; ``forward`` gets an
            input whose trailing axes are not ``normalized_shape``.

    Example:
        >>> import tinygrad_rnn as tr
        >>> norm = tr.nn.LayerNorm(4)
        >>> y = norm(tr.Tensor([[1.0, 2.0, 3.0, 4.0]]))
        >>> [round(v, 3) for v in y.tolist()[0]]
        [-1.342, -0.447, 0.447, 1.342]
        >>> [name for name, _ in norm.named_parameters()]
        ['weight', 'bias']
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = "cpu", dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = normalized_shape_of("LayerNorm", normalized_shape)
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0:
            raise ValueError(f"LayerNorm: eps={eps!r}; expected a number >= 0")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        shape = self.normalized_shape
        self.weight = Parameter(Tensor.ones(*shape, device=device, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(Tensor.zeros(*shape, device=device, dtype=dtype)) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        """(x - mean) / sqrt(var + eps) * weight + bias over the trailing ``normalized_shape`` axes."""
        if not isinstance(x, Tensor):
            raise TypeError(f"LayerNorm: input is a {type(x).__name__}; expected a Tensor")
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm(normalized_shape={self.normalized_shape}): input has shape {x.shape}; "
                             f"expected its last {k} axes to be {self.normalized_shape}")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
