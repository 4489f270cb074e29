"""The masks of ``MultiheadAttention``: checked, converted, and made from lengths.

PyTorch's layer takes its masks in two conventions: a bool mask holds True where a query
may NOT attend (the opposite of ``scaled_dot_product_attention``'s bool masks), a float
mask is added to the scores. These helpers turn what a caller gives into Tensors of the
layer's dtype and check their shapes; ``causal_blocked`` and ``real_positions`` build
the masks that ``is_causal`` and ``lengths`` stand for (``TransformerEncoderLayer``
uses ``real_positions`` too).
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F


def as_mask(name: str, what: str, mask: Any, like: Tensor) -> Tensor:
    """``mask`` as a Tensor: bool as it is (True = not allowed), floating cast to ``like``'s dtype.

    Raises:
        TypeError: the mask is neither bool nor floating.
    """
    given = mask
    if not isinstance(mask, Tensor):
        mask = Tensor(mask, device=like.device)
        if mask.dtype.kind == "f" and mask.dtype != like.dtype:
            mask = Tensor(given, device=like.device, dtype=like.dtype)  # not via float32, a float list's default
    kind = mask.dtype.kind
    if kind == "b":
        return mask
    if kind != "f":
        raise TypeError(f"{name}: {what} has dtype {mask.dtype}; expected bool (True = not allowed to attend) "
                        "or floating (added to the attention scores)")
    return mask if mask.dtype == like.dtype else mask.astype(like.dtype)


def check_mask_shape(name: str, what: str, mask: Tensor, shapes: list[tuple[int, ...]], layout: str) -> Tensor:
    """``mask`` if its shape is one of ``shapes`` (else ValueError naming both)."""
    if mask.shape not in shapes:
        raise ValueError(f"{name}: {what} has shape {mask.shape}; expected {layout} = "
                         + " or ".join(str(s) for s in shapes))
    return mask


def causal_blocked(L: int, S: int, device: str) -> Tensor:
    """(L, S) bool, True where key j comes after query i (j > i): what a causal model may not see."""
    return Tensor.arange(S, device=device).reshape(1, S) > Tensor.arange(L, device=device).reshape(L, 1)


def real_positions(lengths: list[int], T: int, device: str) -> Tensor:
    """(N, T) bool, True where position t < lengths[n]: the real (not padded) positions."""
    return F.lengths_to_padding_mask(lengths, T, device=device) == False  # noqa: E712 (elementwise)
