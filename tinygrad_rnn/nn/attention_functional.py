"""Attention as functions: scaled dot-product attention, its weights, and its masks.

The slides' self-attention (003, "Attention Is All You Need" part, "Learning
Self-Attention with Neural Networks"): a query is compared with every key ("how similar
is the key to the query?"), the similarities become weights that sum to 1 over the
keys, and the output is the weights' mixture of the values ("extract features with high
attention"):

    A(Q, K, V) = softmax(Q K^T / scaling) V,   scaling = sqrt(d_k)

with Q (L, E) one query per row, K (S, E) one key per row, V (S, Ev) one value per key,
d_k = E. Everything here is built from Tensor ops (the softmax-attention op of
``ops/attention.py`` has a fused backward, and its Tensor-op definition is what
``create_graph=True`` differentiates), so gradients come from the tape as for BPTT.

Masks follow PyTorch: a boolean ``attn_mask`` holds True where a query may attend to a
key; a float ``attn_mask`` is added to the scores (-inf entries mask, as with a bool
False); ``is_causal`` lets query i see keys j <= i (top-left aligned when L != S). A key
padding mask in PyTorch's ``key_padding_mask`` convention (True at padded keys) comes
from :func:`lengths_to_padding_mask`.

One choice differs from PyTorch's math path, which gives NaN there: a query row whose
keys are all masked gets all-zero weights, so its output is exactly 0 and no gradient
flows through it (PyTorch's fused CPU kernel also returns 0 for it).
"""

from __future__ import annotations

import math
from typing import Any

from ..ops.attention import softmax_attention, softmax_attention_composite
from ..ops.reduce import broadcast_shapes
from ..ops.select import where
from ..tensor import Tensor
from . import checks
from .checks import as_int

__all__ = ["attention_weights", "lengths_to_padding_mask", "scaled_dot_product_attention"]


def _check_qkv(name: str, query: Any, key: Any, value: Any) -> None:
    for what, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {what} is a {type(t).__name__}; expected a Tensor")
        if t.ndim < 2 or not t.backend.is_floating(t.dtype):
            raise ValueError(f"{name}: {what} has shape {t.shape} and dtype {t.dtype}; expected a floating-point "
                             "Tensor with at least 2 dimensions (..., length, features)")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{name}: query, key and value have dtypes {query.dtype}, {key.dtype} and {value.dtype}; "
                        "expected one dtype")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{name}: query {query.shape}, key {key.shape} and value {value.shape}; expected "
                         "(..., L, E), (..., S, E) and (..., S, Ev): query and key share E, key and value share S")
    try:
        broadcast_shapes(name, query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError as e:
        raise ValueError(f"{e} (the leading, batch dimensions of query, key and value)") from None


def _masks(name: str, attn_mask: Any, is_causal: bool, query: Tensor, S: int) -> tuple[Tensor | None, Tensor | None]:
    """(bias, allowed): the float mask to add to the scores (finite) and the boolean mask
    of keys each query may attend to; either may be None."""
    L = query.shape[-2]
    if not isinstance(is_causal, bool):
        raise TypeError(f"{name}: is_causal={is_causal!r}; expected True or False")
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{name}: got both attn_mask and is_causal=True; expected at most one of them "
                             "(as PyTorch; put the causal pattern into attn_mask to combine them)")
        rows = Tensor.arange(L, device=query.device).reshape(L, 1)
        return None, rows >= Tensor.arange(S, device=query.device).reshape(1, S)  # key j <= query i
    if attn_mask is None:
        return None, None
    mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(attn_mask, device=query.device)
    if mask is not attn_mask and mask.backend.is_floating(mask.dtype) and mask.dtype != query.dtype:
        mask = Tensor(attn_mask, device=query.device, dtype=query.dtype)  # not via float32, a float list's default
    if mask.device != query.device:
        raise RuntimeError(f"{name}: attn_mask is on {mask.device!r} but query is on {query.device!r}; expected one device")
    try:
        shape = broadcast_shapes(name, mask.shape, query.shape[:-2] + (L, S))
    except ValueError:
        shape = None
    if shape is None or shape[-2:] != (L, S):
        raise ValueError(f"{name}: attn_mask has shape {mask.shape}; expected a shape that broadcasts to the "
                         f"scores (..., L, S) = (..., {L}, {S})")
    if mask.backend.is_bool(mask.dtype):
        return None, mask
    if not mask.backend.is_floating(mask.dtype):
        raise TypeError(f"{name}: attn_mask has dtype {mask.dtype}; expected bool (True = may attend) or a float "
                        "dtype (added to the scores)")
    if mask.dtype != query.dtype:
        mask = mask.astype(query.dtype)
    allowed = mask != -math.inf  # (not mask > -inf: a NaN must propagate, as in PyTorch, not mask the key)
    return where(allowed, mask, 0.0), allowed  # -inf entries become a bool False: no inf on the tape


def _prepare(name: str, query: Tensor, key: Tensor, value: Tensor, attn_mask: Any, dropout_p: Any, is_causal: Any,
             scale: Any) -> dict[str, Any]:
    """Check the arguments; the keyword arguments of the softmax-attention op."""
    _check_qkv(name, query, key, value)
    S, E = key.shape[-2], query.shape[-1]
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) or not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{name}: dropout_p={dropout_p!r}; expected a probability in [0, 1)")
    if scale is None:
        if E == 0:
            raise ValueError(f"{name}: query has E = 0 features, so the default scale 1/sqrt(E) is undefined; "
                             "expected E >= 1 or an explicit scale")
        scale = 1.0 / math.sqrt(E)
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"{name}: scale={scale!r}; expected a number or None (1/sqrt(E))")
    bias, allowed = _masks(name, attn_mask, is_causal, query, S)
    keep = None
    if dropout_p > 0.0:
        shape = broadcast_shapes(name, query.shape[:-1] + (S,), key.shape[:-2] + (1, 1), value.shape[:-2] + (1, 1),
                                 *(m.shape for m in (bias, allowed) if m is not None))
        keep = Tensor.rand(*shape, device=query.device, dtype=query.dtype) < 1.0 - dropout_p  # as nn.functional.dropout
    return {"bias": bias, "allowed": allowed, "scale": float(scale), "keep": keep, "p": float(dropout_p)}


def _no_keys(query: Tensor, value: Tensor) -> Tensor:
    """S = 0: no key to attend to, so every row is all-masked: zero weights of shape (..., L, 0)."""
    shape = broadcast_shapes("scaled_dot_product_attention", query.shape[:-1] + (0,), value.shape[:-2] + (1, 1))
    return Tensor.zeros(*shape, device=query.device, dtype=query.dtype)


def scaled_dot_product_attention(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Any = None, dropout_p: float = 0.0,
    is_causal: bool = False, scale: float | None = None,
) -> Tensor:
    """Scaled dot-product attention, softmax(Q K^T / sqrt(d_k)) V (slides 003, "Attention Is All You Need").

        S = Q K^T * scale (+ attn_mask if float),   A = softmax(S) over the keys,   O = dropout(A) V

    scale defaults to 1/sqrt(E). Masked keys (bool mask False, float mask -inf, or j > i
    under ``is_causal``) get weight exactly 0; a query row with every key masked gets
    all-zero weights, so its output is 0 and its gradient is 0 (PyTorch's math path
    would give NaN). ``dropout_p > 0`` drops attention weights (not outputs) with the
    library's generator, like ``nn.functional.dropout``, whatever the module's mode: pass
    0 in evaluation, as PyTorch's layers do.

    Shapes:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev); the leading (batch,
        head) dimensions broadcast, and 2-D inputs are fine.
        attn_mask: broadcastable to (..., L, S).
        output: (..., L, Ev).

    Args:
        query, key, value: float tensors of one dtype and device.
        attn_mask: None; bool (True = may attend); or float, added to the scores (a
            Tensor, or a list or array). Float masks are differentiable.
        dropout_p: probability of zeroing each attention weight (the rest are scaled by
            1/(1 - p)).
        is_causal: query i attends to keys 0..i only (top-left aligned, as PyTorch).
        scale: multiplies Q K^T; None means 1/sqrt(E).

    Returns:
        The attention output.

    Raises:
        TypeError: non-Tensor inputs, mixed dtypes, an integer mask, a non-number scale.
        ValueError: shapes that do not fit (all named), a mask that does not broadcast to
            (..., L, S), ``attn_mask`` together with ``is_causal``, ``dropout_p`` outside [0, 1).

    Example:
        >>> import tinygrad_rnn as tr
        >>> q = tr.Tensor.ones(2, 3, 4)
        >>> tr.nn.functional.scaled_dot_product_attention(q, q, tr.Tensor.ones(2, 3, 5), is_causal=True).shape
        (2, 3, 5)
    """
    options = _prepare("scaled_dot_product_attention", query, key, value, attn_mask, dropout_p, is_causal, scale)
    if key.shape[-2] == 0:
        return _no_keys(query, value) @ value
    return softmax_attention(query, key, value, **options)


def attention_weights(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Any = None, dropout_p: float = 0.0,
    is_causal: bool = False, scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """Scaled dot-product attention that also returns its weights: ``(output, weights)``.

    The same function as :func:`scaled_dot_product_attention`, with the same arguments
    and the same output, computed as its Tensor-op definition so that the weights are a
    tensor on the tape too (``nn.MultiheadAttention(need_weights=True)`` returns them):

        weights = dropout(A),  A = softmax(Q K^T * scale + mask),   output = weights V

    They are the weights that multiplied V, so after dropout when ``dropout_p > 0`` (as
    PyTorch's ``multi_head_attention_forward`` returns them); each row sums to 1 without
    dropout, and is all zeros for a query whose keys are all masked.

    Shapes:
        output: (..., L, Ev); weights: (..., L, S).

    Raises:
        As :func:`scaled_dot_product_attention`.
    """
    options = _prepare("attention_weights", query, key, value, attn_mask, dropout_p, is_causal, scale)
    if key.shape[-2] == 0:
        weights = _no_keys(query, value)
        return weights @ value, weights
    return softmax_attention_composite(query, key, value, **options)


def lengths_to_padding_mask(lengths: Any, max_len: int | None = None, device: Any = None) -> Tensor:
    """A key padding mask from sequence lengths: True at PADDED positions (j >= lengths[b]).

        mask[b, j] = j >= lengths[b]

    PyTorch's ``key_padding_mask`` convention (``nn.MultiheadAttention``), the opposite
    of a boolean ``attn_mask`` of :func:`scaled_dot_product_attention` (True = may
    attend): pass ``mask.reshape(B, 1, 1, S) == False`` there (B, heads, L, S scores).
    A length of 0 pads a whole sequence: every one of its queries then has all keys
    masked and gets zero output.

    Shapes:
        lengths: (B,); output: (B, max_len), bool.

    Args:
        lengths: B ints in 0..max_len (a list, tuple, array or integer Tensor).
        max_len: the padded length S; None means max(lengths). With a Tensor of lengths and
            max_len given, no Python reads the values but the range check (tr.jit records it once).
        device: where the mask lives; None: lengths' device if it is a Tensor, else "cpu".

    Returns:
        The bool mask.

    Raises:
        TypeError: lengths are not ints.  ValueError: a length outside 0..max_len, or a
        negative max_len.

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.nn.functional.lengths_to_padding_mask([2, 3], max_len=4).tolist()
        [[False, False, True, True], [False, False, False, True]]
    """
    if device is None:
        device = lengths.device if isinstance(lengths, Tensor) else "cpu"
    if isinstance(lengths, Tensor) and max_len is not None:
        return _mask_from_tensor(lengths, max_len, device)
    values = lengths.tolist() if hasattr(lengths, "tolist") else lengths
    if as_int(values) is not None:
        values = [values]
    if not isinstance(values, (list, tuple)) or any(as_int(n) is None for n in values):
        raise TypeError(f"lengths_to_padding_mask: lengths={lengths!r}; expected a 1-D sequence of ints")
    values = [as_int(n) for n in values]
    if max_len is None:
        max_len = max(values, default=0)
    elif as_int(max_len) is None or as_int(max_len) < 0:
        raise ValueError(f"lengths_to_padding_mask: max_len={max_len!r}; expected a non-negative int or None")
    max_len = as_int(max_len)
    bad = [n for n in values if not 0 <= n <= max_len]
    if bad:
        raise ValueError(f"lengths_to_padding_mask: lengths {values} include {bad}; expected each in 0..{max_len}")
    positions = Tensor.arange(max_len, device=device).reshape(1, max_len)
    return positions >= Tensor(values, device=device, dtype="int64").reshape(len(values), 1)


def _mask_from_tensor(lengths: Tensor, max_len: Any, device: Any) -> Tensor:
    """The padding mask of an integer Tensor of lengths, its values read only by the range
    check (so ``tr.jit`` records it once for every batch of one shape)."""
    if lengths.dtype.kind not in "iu" or lengths.ndim > 1:
        raise TypeError(f"lengths_to_padding_mask: lengths is a {lengths.dtype} Tensor of shape {lengths.shape}; "
                        "expected a 1-D Tensor of ints")
    if as_int(max_len) is None or as_int(max_len) < 0:
        raise ValueError(f"lengths_to_padding_mask: max_len={max_len!r}; expected a non-negative int or None")
    max_len, lengths = as_int(max_len), lengths.reshape(-1).to(device)
    bad = checks.first_outside(lengths, 0, max_len)  # looked up at the call: tr.jit replaces it while recording
    if bad is not None:
        raise ValueError(f"lengths_to_padding_mask: lengths (a Tensor) include {bad}; expected each in 0..{max_len}")
    positions = Tensor.arange(max_len, device=device).reshape(1, max_len)
    return positions >= lengths.reshape(lengths.shape[0], 1)
