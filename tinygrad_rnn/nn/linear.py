"""``Linear``: the affine map y = W x + b of one layer of a feed-forward network."""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .checks import check_size
from .module import Module, Parameter


class Linear(Module):
    """Affine map applied to the last axis: y = x W^T + b.

    For one column vector this is the notes' output layer y_t = W^o s_t + W_0^o
    (6.390 notes C.13-C.14, Complete RNN) with ``weight`` = W^o and ``bias`` = W_0^o;
    applied to a whole sequence (T, B, m) at once it gives every y_t in one call.

    Both parameters start uniform on [-1/sqrt(in_features), 1/sqrt(in_features)], as in
    PyTorch, drawn from the library's generator (``tr.manual_seed`` makes them
    reproducible, the same on every device).

    Shapes:
        x: (..., in_features), any number of leading axes.
        output: (..., out_features).

    Args:
        in_features: size of the last axis of the input.
        out_features: size of the last axis of the output.
        bias: add the learnable offset ``bias``; without it y = x W^T.
        device: where the parameters live ("cpu", "cuda").
        dtype: parameter dtype; default float32.

    Attributes:
        weight: (out_features, in_features).
        bias: (out_features,), or None.

    Raises:
        ValueError: a size is not a positive int; ``forward`` gets an input whose last
            axis is not ``in_features``.

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.manual_seed(0)
        >>> layer = tr.nn.Linear(3, 2)
        >>> layer(tr.Tensor.ones(5, 4, 3)).shape
        (5, 4, 2)
        >>> [name for name, _ in layer.named_parameters()]
        ['weight', 'bias']
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = "cpu", dtype: Any = None
    ) -> None:
        super().__init__()
        self.in_features = check_size("Linear", "in_features", in_features)
        self.out_features = check_size("Linear", "out_features", out_features)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(
            Tensor.uniform(self.out_features, self.in_features, low=-bound, high=bound, device=device, dtype=dtype)
        )
        self.bias = (
            Parameter(Tensor.uniform(self.out_features, low=-bound, high=bound, device=device, dtype=dtype))
            if bias
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        """y = x W^T + b over the last axis of ``x``."""
        if not isinstance(x, Tensor):
            raise TypeError(f"Linear: input is a {type(x).__name__}; expected a Tensor")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}): input has "
                f"shape {x.shape}; expected the last axis to have size {self.in_features}"
            )
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
