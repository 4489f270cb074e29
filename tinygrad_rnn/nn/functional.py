"""Stateless functions of layers: activations, dropout and the losses, PyTorch's
``torch.nn.functional`` for this library (``from tinygrad_rnn.nn import functional as F``).

The losses live in :mod:`~tinygrad_rnn.nn.loss_functions` (their docstring shows the
notes' sequence loss and objective as one line each) and are re-exported here. The class
losses take the classes on the LAST axis; PyTorch's take them on axis 1 (the loss modules
``nn.CrossEntropyLoss`` and ``nn.NLLLoss`` take PyTorch's layout).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ..ops import where
from ..tensor import Tensor
from .attention_functional import attention_weights, lengths_to_padding_mask, scaled_dot_product_attention  # noqa: F401
from .checks import REDUCTIONS  # noqa: F401 (re-exported, as before the losses moved)
from .loss_functions import (  # noqa: F401 (re-exported: F.cross_entropy ...)
    IGNORE_INDEX,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from .transformer_functional import gelu, layer_norm  # noqa: F401 (nn.functional.gelu, as the attention names above)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each entry with probability ``p``, scale the rest by 1/(1-p).

    The identity when ``training`` is False or ``p`` is 0; all zeros (``x * 0``) when
    ``p`` is 1, as in PyTorch. The mask is drawn on x's device from the library's
    generator (``tr.manual_seed``), so the zeroed entries differ from PyTorch's.

    Args:
        x: any tensor.  p: the probability of zeroing an entry.  training: apply it at all.
        inplace: accepted for PyTorch's signature; the result is always a new tensor
            (x is never overwritten).

    Raises:
        ValueError: ``p`` is not in [0, 1].
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p={p!r}; expected a probability in [0, 1]")
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: x is a {type(x).__name__}; expected a Tensor")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = 1.0 - p
    mask = Tensor.rand(*x.shape, device=x.device, dtype=x.dtype) < keep
    return where(mask, x * (1.0 / keep), 0.0)


_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": Tensor.tanh,
    "relu": Tensor.relu,
    "sigmoid": Tensor.sigmoid,
    "identity": lambda x: x,
    "softmax": lambda x: x.softmax(axis=-1),
}


def activation(name_or_fn: Any, allowed: tuple[str, ...], what: str) -> Callable[[Tensor], Tensor]:
    """Resolve an activation given by name (one of ``allowed``) or as a callable.

    Raises:
        ValueError: an unknown name; the message lists the names expected.
    """
    if callable(name_or_fn):
        return name_or_fn
    if name_or_fn not in allowed:
        raise ValueError(f"{what}: unknown activation {name_or_fn!r}; expected one of {list(allowed)} or a callable")
    return _ACTIVATIONS[name_or_fn]


# ------------------------------------------------------------ activations, PyTorch's names
def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ``inplace`` is accepted for PyTorch's signature (x is never overwritten)."""
    return x.relu()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def _softmax_axis(name: str, x: Tensor, dim: Any, axis: Any) -> int:
    """``dim`` or ``axis`` (not both); neither: PyTorch's deprecated implicit choice, with its warning."""
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(f"{name}: got dim={dim!r} and axis={axis!r}; expected one of them")
    chosen = dim if dim is not None else axis
    if chosen is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      "dim=X as an argument.", UserWarning, stacklevel=3)
        chosen = 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy rule
    return chosen


def softmax(x: Tensor, dim: int | None = None, dtype: Any = None, *, axis: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (PyTorch's name) or ``axis``; ``dtype`` casts x first.

    Omitting both picks an axis as PyTorch's deprecated rule does (0 for 1-D and 3-D
    tensors, else 1), with PyTorch's warning: pass ``dim=``.
    """
    x = x if dtype is None else x.astype(dtype)
    return x.softmax(axis=_softmax_axis("softmax", x, dim, axis))


def log_softmax(x: Tensor, dim: int | None = None, dtype: Any = None, *, axis: int | None = None) -> Tensor:
    """x - log(sum(exp(x))) along ``dim`` or ``axis``, stable; as :func:`softmax` otherwise."""
    x = x if dtype is None else x.astype(dtype)
    return x.log_softmax(axis=_softmax_axis("log_softmax", x, dim, axis))
