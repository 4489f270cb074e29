"""``Dropout``: the regulariser PyTorch models put between layers, a module around
``nn.functional.dropout`` that follows ``train()`` / ``eval()``."""

from __future__ import annotations

from ..tensor import Tensor
from .functional import dropout
from .module import Module


class Dropout(Module):
    """Inverted dropout in training mode, the identity in eval mode.

    y = x * m / (1 - p) with m_i ~ Bernoulli(1 - p), drawn anew at each call from the
    library's generator (``tr.manual_seed``); p = 1 gives zeros. After ``model.eval()``,
    y = x.

    Shapes:
        x: any shape; output: the same.

    Args:
        p: the probability of zeroing an entry, in [0, 1].
        inplace: accepted for PyTorch's signature; x is never overwritten.

    Raises:
        ValueError: ``p`` outside [0, 1].

    Example:
        >>> from tinygrad_rnn import Tensor, nn
        >>> drop = nn.Dropout(p=0.5).eval()
        >>> drop(Tensor.ones(2, 3)).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = float(p), bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
