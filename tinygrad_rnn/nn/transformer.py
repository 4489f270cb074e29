"""The Transformer encoder: self-attention and a feed-forward network, each with a residual
connection and layer normalisation; and the sinusoidal positional encoding it needs.

Attention sees its inputs "all at once": permuting the positions permutes the outputs
and changes nothing else. The slides (003) fix this "no order" by adding position
information to every input first: :class:`PositionalEncoding`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

from ..ops import cat, stack, where
from ..tensor import Tensor
from . import functional as F
from .attention import MultiheadAttention
from .attention_masks import real_positions
from .checks import check_lengths, check_size
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "PositionalEncoding"]

_FEED_FORWARD_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": Tensor.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """One encoder layer of "Attention Is All You Need": self-attention, then a position-wise
    feed-forward network, each wrapped in a residual connection and a LayerNorm.

    Post-norm (``norm_first=False``, the paper's and PyTorch's default):

        x = norm1(x + dropout1(SelfAttention(x)))
        y = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    Pre-norm (``norm_first=True``): x = x + dropout1(SelfAttention(norm1(x))), then
    y = x + dropout2(FF(norm2(x))). SelfAttention(x) is ``self_attn(x, x, x)``, a
    :class:`~.attention.MultiheadAttention`. Submodule names (``self_attn``, ``linear1``,
    ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``) are
    PyTorch's, so ``torch.nn.TransformerEncoderLayer``'s state dict loads as is, both ways.
    No dropout in eval mode.

    ``lengths`` (ours): positions t >= lengths[b] are padding; keys there are masked, and
    the layer's outputs there are 0, so they get exactly zero gradient. With
    ``src_key_padding_mask`` instead, values at padded positions are PyTorch's.

    Shapes:
        src, output: (T, N, d_model) ((N, T, d_model) with ``batch_first``; (T, d_model)
        unbatched).  src_mask: (T, T) or (N*nhead, T, T).  src_key_padding_mask: (N, T).

    Args:
        d_model: size of each position's vector.  nhead: attention heads.
        dim_feedforward: hidden size of the feed-forward network.
        dropout: dropout probability everywhere (attention weights included).
        activation: "relu", "gelu" or a callable on a Tensor.
        layer_norm_eps: eps of both LayerNorms.  batch_first: (N, T, d_model) layout.
        norm_first: pre-norm instead of post-norm.  bias: learn biases in the Linear and
        LayerNorm layers and in the attention.  device, dtype: of the parameters.

    Raises:
        ValueError: a bad size, dropout or activation name; in forward, see
            :class:`~.attention.MultiheadAttention`.

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.manual_seed(0)
        >>> layer = tr.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16).eval()
        >>> y = layer(tr.Tensor.randn(5, 3, 8), lengths=[5, 2, 4])
        >>> y.shape, y[2:, 1].abs().sum().item()            # zero past sequence 1's length
        ((5, 3, 8), 0.0)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device: Any = "cpu",
                 dtype: Any = None) -> None:
        super().__init__()
        dim_feedforward = check_size("TransformerEncoderLayer", "dim_feedforward", dim_feedforward)
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str) and activation in _FEED_FORWARD_ACTIVATIONS:
            activation = _FEED_FORWARD_ACTIVATIONS[activation]
        elif not callable(activation):
            raise ValueError(f"TransformerEncoderLayer: activation={activation!r}; expected "
                             f"{' or '.join(repr(a) for a in _FEED_FORWARD_ACTIVATIONS)} or a callable")
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False, lengths: Any = None) -> Tensor:
        """The encoder layer on ``src``; masks as in :class:`~.attention.MultiheadAttention`
        (bool True = not allowed); ``is_causal`` with no ``src_mask`` masks later positions."""
        x = src
        masks = {"attn_mask": src_mask, "key_padding_mask": src_key_padding_mask, "is_causal": is_causal,
                 "lengths": lengths}
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), masks)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, masks))
            x = self.norm2(x + self._ff_block(x))
        return zero_padding(x, lengths, self.self_attn.batch_first)

    def _sa_block(self, x: Tensor, masks: dict[str, Any]) -> Tensor:
        return self.dropout1(self.self_attn(x, x, x, need_weights=False, **masks)[0])

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (same initial weights, as PyTorch's
    deep copies), then ``norm`` if given: y = norm(layer_K(... layer_1(src))).

    Parameter names ``layers.{k}.…`` and ``norm.…`` are PyTorch's.
    ``enable_nested_tensor`` and ``mask_check`` (PyTorch's fast-path switches) are accepted
    and have no effect.

    Shapes, masks and ``lengths``: those of :class:`TransformerEncoderLayer`, passed to
    every layer.

    Raises:
        TypeError: ``encoder_layer`` or ``norm`` is not a Module.  ValueError: bad num_layers.

    Example:
        >>> import tinygrad_rnn as tr
        >>> layer = tr.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        >>> encoder = tr.nn.TransformerEncoder(layer, num_layers=2).eval()
        >>> encoder(tr.Tensor.randn(3, 5, 8)).shape
        (3, 5, 8)
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer is a {type(encoder_layer).__name__}; expected a Module")
        if norm is not None and not isinstance(norm, Module):
            raise TypeError(f"TransformerEncoder: norm is a {type(norm).__name__}; expected a Module or None")
        num_layers = check_size("TransformerEncoder", "num_layers", num_layers)
        self.layers = ModuleList(_copy_module(encoder_layer) for _ in range(num_layers))
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None, lengths: Any = None) -> Tensor:
        """Every layer in turn, each with the same masks and ``lengths``."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal),
                      lengths=lengths)
        if self.norm is None:
            return x
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        return zero_padding(self.norm(x), lengths, batch_first)


def _copy_module(module: Module) -> Module:
    """A deep copy of ``module`` with new tensors holding the same values.

    ``copy.deepcopy`` alone cannot be used: it would copy the backends (which hold array
    modules, not copyable) and each tensor's place in the tape's order. So every tensor
    is first mapped to a fresh one (a Parameter stays a Parameter) and every backend to
    itself; deepcopy then copies the rest (sizes, flags, submodules) around them.
    """
    memo: dict[int, Any] = {}
    for m in module.modules():
        for value in vars(m).values():
            if isinstance(value, Tensor) and id(value) not in memo:
                memo[id(value)] = Parameter(value) if isinstance(value, Parameter) else Tensor(value)
                memo[id(value.backend)] = value.backend
    return copy.deepcopy(module, memo)


def zero_padding(x: Tensor, lengths: Any, batch_first: bool) -> Tensor:
    """``x`` (T, N, ...) ((N, T, ...) with batch_first; (T, ...) unbatched) with 0 at t >= lengths[n]."""
    if lengths is None:
        return x
    batched = x.ndim == 3
    T, N = (x.shape[1], x.shape[0]) if batched and batch_first else (x.shape[0], x.shape[1] if batched else 1)
    lengths = check_lengths("TransformerEncoderLayer", lengths, T, N)
    if lengths is None:
        return x
    real = real_positions(lengths, T, x.device)  # (N, T)
    if batched and batch_first:
        return where(real.reshape(N, T, 1), x, 0.0)
    return where(real.transpose(1, 0).reshape(T, N, 1) if batched else real.reshape(T, 1), x, 0.0)


class PositionalEncoding(Module):
    """Adds the sinusoidal position code of "Attention Is All You Need" to every position:

        PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),   PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))
        output = dropout(x + PE[:T])

    Each pair of features is a clock turning at its own speed, from one turn per 2 pi
    positions to one per 10000 * 2 pi, so every position gets a distinct code and
    PE(pos + k) is a fixed linear function (a rotation) of PE(pos). The table ``pe``
    (max_len, d_model) is a constant, not a parameter: a non-persistent buffer, so it
    follows ``to()`` but is not in ``state_dict()`` (PyTorch's tutorials register a
    persistent one, which they then save).

    Shapes:
        x, output: (T, N, d_model) ((N, T, d_model) with ``batch_first``; (T, d_model)
        unbatched), T <= max_len.

    Args:
        d_model: size of each position's vector (odd sizes drop the last cosine).
        max_len: longest sequence.  dropout: probability, in training mode.
        batch_first: (N, T, d_model) layout.  device, dtype: of the table (default float32).

    Raises:
        ValueError: bad sizes; in forward, a sequence longer than ``max_len`` or a last axis
            that is not ``d_model``.  TypeError: in forward, an input that is not a float Tensor.

    Example:
        >>> import tinygrad_rnn as tr
        >>> pe = tr.nn.PositionalEncoding(4, max_len=10)
        >>> [round(v, 3) for v in pe.pe[1].tolist()]            # sin 1, cos 1, sin 0.01, cos 0.01
        [0.841, 0.54, 0.01, 1.0]
        >>> pe(tr.Tensor.zeros(3, 2, 4)).shape
        (3, 2, 4)
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = False,
                 device: Any = "cpu", dtype: Any = None) -> None:
        super().__init__()
        self.d_model = check_size("PositionalEncoding", "d_model", d_model)
        self.max_len = check_size("PositionalEncoding", "max_len", max_len)
        self.dropout = Dropout(dropout)
        self.batch_first = bool(batch_first)
        self.register_buffer("pe", sinusoid_table(self.max_len, self.d_model).to(device=device, dtype=dtype or "float32"),
                             persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """x + PE[:T], then dropout."""
        if not isinstance(x, Tensor):
            raise TypeError(f"PositionalEncoding: input is a {type(x).__name__}; expected a Tensor")
        if not x.backend.is_floating(x.dtype):  # the table cast to an integer dtype would be truncated
            raise TypeError(f"PositionalEncoding: input has dtype {x.dtype}; expected a floating-point Tensor")
        time_axis = 1 if self.batch_first and x.ndim == 3 else 0
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model or x.shape[time_axis] > self.max_len:
            layout = "(N, T, d_model)" if self.batch_first else "(T, N, d_model)"
            raise ValueError(f"PositionalEncoding(d_model={self.d_model}, max_len={self.max_len}): input has shape "
                             f"{x.shape}; expected {layout} or (T, d_model) with d_model = {self.d_model} and "
                             f"T <= {self.max_len}")
        T = x.shape[time_axis]
        pe = self.pe[:T] if self.pe.dtype == x.dtype else self.pe[:T].astype(x.dtype)
        shape = (1, T, self.d_model) if time_axis == 1 else ((T, 1, self.d_model) if x.ndim == 3 else (T, self.d_model))
        return self.dropout(x + pe.reshape(*shape))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


def sinusoid_table(max_len: int, d_model: int) -> Tensor:
    """PE (max_len, d_model) in float64, built by the rotation that makes it useful.

    With a_i = 10000^(-2i/d) the angle rate of pair i, PE(pos + n) is PE(pos) rotated by
    the angle n a_i: sin(x + y) = sin x cos y + cos x sin y, cos(x + y) = cos x cos y -
    sin x sin y. Starting from position 0 and doubling the rows known (n = 1, 2, 4, ...),
    log2(max_len) rotations give the whole table to within a few rounding errors.
    """
    rates = [10000.0 ** (-2.0 * i / d_model) for i in range((d_model + 1) // 2)]
    sin = Tensor([[0.0] * len(rates)], dtype="float64")
    cos = Tensor([[1.0] * len(rates)], dtype="float64")
    n = 1
    while n < max_len:  # rows [0, n) known: rows [n, 2n) are them rotated by n a_i
        sin_n = Tensor([math.sin(n * a) for a in rates], dtype="float64")
        cos_n = Tensor([math.cos(n * a) for a in rates], dtype="float64")
        sin, cos = cat([sin, sin * cos_n + cos * sin_n]), cat([cos, cos * cos_n - sin * sin_n])
        n *= 2
    return stack([sin[:max_len], cos[:max_len]], axis=-1).reshape(max_len, -1)[:, :d_model]
