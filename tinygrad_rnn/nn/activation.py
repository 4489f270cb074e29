"""Activation functions as modules, for ``nn.Sequential`` and PyTorch-style models.

Each is a one-line ``forward`` over the Tensor op (or ``nn.functional``), with PyTorch's
name, arguments and ``repr``; none has parameters. The notes' f_s and f_o by name
(``ElmanRNN(f_s="tanh")``) are the same functions.

    >>> from tinygrad_rnn import Tensor, nn
    >>> nn.Sequential(nn.Linear(2, 3), nn.Tanh())(Tensor.ones(4, 2)).shape
    (4, 3)
"""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class Tanh(Module):
    """y = tanh(x), elementwise.

    Shapes:
        x: any shape; output: the same.
    """

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x)), elementwise.

    Shapes:
        x: any shape; output: the same.
    """

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class ReLU(Module):
    """y = max(x, 0), elementwise.

    Shapes:
        x: any shape; output: the same.

    Args:
        inplace: accepted for PyTorch's signature (and shown by ``repr``); the result is
            always a new tensor, x is never overwritten.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    """y = x * Phi(x), Phi the standard normal CDF; ``approximate="tanh"`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Computed by ``nn.functional.gelu``.

    Shapes:
        x: any shape; output: the same.

    Args:
        approximate: "none" (exact) or "tanh".

    Raises:
        ValueError: another ``approximate``.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate={approximate!r}; expected 'none' or 'tanh'")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class _AlongDim(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """y = exp(x) / sum(exp(x)) along ``dim`` (the notes' f_o for classes).

    Shapes:
        x: any shape with at least one axis; output: the same, summing to 1 along ``dim``.

    Args:
        dim: the axis of the classes. None: PyTorch's deprecated implicit choice, with
            its warning (0 for 1-D and 3-D inputs, else 1).
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, dim=self.dim)


class LogSoftmax(_AlongDim):
    """y = x - log(sum(exp(x))) along ``dim``, computed stably; pairs with ``nn.NLLLoss``.

    Shapes:
        x: any shape with at least one axis; output: the same.

    Args:
        dim: the axis of the classes (None: as :class:`Softmax`).
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, dim=self.dim)

