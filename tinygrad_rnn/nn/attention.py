"""``MultiheadAttention``: several scaled dot-product attentions side by side, PyTorch's layer.

The slides (003, "Learning Self-Attention with Neural Networks") in four steps: encode
position (:class:`~.transformer.PositionalEncoding`), extract query, key and value by
learned linear maps, weigh every key by its similarity to the query,
softmax(Q K^T / scaling), and return the weighted sum of the values. Several heads do
this at once on slices of the embedding, and a last linear map mixes them.
"""

from __future__ import annotations

import math
from typing import Any

from ..ops import broadcast_to, cat, where
from ..tensor import Tensor
from . import functional as F
from . import init
from .attention_masks import as_mask, causal_blocked, check_mask_shape, real_positions
from .checks import check_lengths, check_size
from .linear import Linear
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017), with PyTorch's parameters and masks.

        MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O + b^O
        head_i = Attention(Q W_i^Q + b_i^Q, K W_i^K + b_i^K, V W_i^V + b_i^V)
        Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V,   d_k = embed_dim / num_heads

    W_i^Q is rows i*d_k..(i+1)*d_k of the first third of ``in_proj_weight`` (transposed),
    W_i^K of the second, W_i^V of the third; W^O is ``out_proj.weight`` transposed. M
    sums the masks: an additive float mask as given, and -inf where a bool mask is True.
    **Bool masks follow PyTorch's MultiheadAttention: True = NOT allowed to attend**, the
    opposite of :func:`~tinygrad_rnn.nn.functional.scaled_dot_product_attention`'s
    convention. A key with -inf gets weight exactly 0, and exactly 0 gradient from it.
    A query whose keys are all masked gets all-zero weights, so its output is ``out_proj.bias``
    (PyTorch gives NaN there).

    ``lengths`` (ours, as the recurrent layers have): keys at positions >= lengths[b] are
    masked. In self-attention (``query is key``) the outputs and weights of query
    positions >= lengths[b] are also set to 0, so padded queries get exactly zero
    gradient (PyTorch's ``key_padding_mask`` leaves values there, and so do we when it is
    used). In cross-attention ``lengths`` only masks the keys.

    Initialisation as PyTorch: ``in_proj_weight`` (or the three separate weights)
    xavier-uniform, ``in_proj_bias`` and ``out_proj.bias`` 0, ``out_proj.weight`` as a
    Linear layer's; so ``torch.nn.MultiheadAttention``'s state dict loads as is, both ways.

    Shapes (L target length, S source length, N batch, E embed_dim, H num_heads):
        query: (L, N, E), key: (S, N, kdim), value: (S, N, vdim); (N, L, E) ... with
        ``batch_first``; unbatched (L, E), (S, kdim), (S, vdim).
        attn_mask: (L, S) or (N*H, L, S) (entry n*H + h for batch n, head h); unbatched
        (L, S) or (H, L, S).  key_padding_mask: (N, S); unbatched (S,).
        output: the shape of query.  weights: (N, L, S) averaged over heads, else
        (N, H, L, S); unbatched (L, S) or (H, L, S). S grows by one with ``add_bias_kv``
        and by one with ``add_zero_attn``.

    Args:
        embed_dim: E, the size of the queries and outputs.
        num_heads: H, parallel heads; E must be a multiple of H.
        dropout: probability of zeroing attention weights, in training mode.
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        add_bias_kv: learn ``bias_k``, ``bias_v`` (1, 1, E), appended to keys and values.
        add_zero_attn: append a zero key and value after the projections.
        kdim, vdim: sizes of the keys and values (default E); when either differs from E
            the projections are ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
            ``v_proj_weight`` (E, vdim) instead of ``in_proj_weight`` (3E, E).
        batch_first: inputs and output are (N, L, E).
        device: where the parameters live ("cpu", "cuda").  dtype: default float32.

    Raises:
        ValueError: bad sizes (E not a multiple of H), dropout; in forward, inputs or masks
            of the wrong shape or layout (both shapes are named).
        TypeError: a mask that is neither bool nor float.

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.manual_seed(0)
        >>> mha = tr.nn.MultiheadAttention(8, 2)
        >>> x = tr.Tensor.randn(5, 3, 8)                       # (L, N, E)
        >>> out, weights = mha(x, x, x, lengths=[5, 2, 4])
        >>> out.shape, weights.shape
        ((5, 3, 8), (3, 5, 5))
        >>> round(weights[1, 0, 2:].sum().item(), 6)           # keys past length 2: weight 0
        0.0
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = "cpu", dtype: Any = None) -> None:
        super().__init__()
        name = "MultiheadAttention"
        E = self.embed_dim = check_size(name, "embed_dim", embed_dim)
        self.num_heads = check_size(name, "num_heads", num_heads)
        if E % self.num_heads:
            raise ValueError(f"{name}: embed_dim={E} is not divisible by num_heads={self.num_heads}; "
                             "expected embed_dim to be a multiple of num_heads")
        self.head_dim = E // self.num_heads
        self.kdim = E if kdim is None else check_size(name, "kdim", kdim)
        self.vdim = E if vdim is None else check_size(name, "vdim", vdim)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout={dropout!r}; expected a probability in [0, 1)")
        self.dropout, self.batch_first, self.add_zero_attn = float(dropout), bool(batch_first), bool(add_zero_attn)
        self._qkv_same_embed_dim = self.kdim == E and self.vdim == E

        def weight(rows: int, cols: int) -> Parameter:
            return Parameter(init.xavier_uniform_(Tensor.zeros(rows, cols, device=device, dtype=dtype)))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = weight(3 * E, E)
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight, self.k_proj_weight = weight(E, E), weight(E, self.kdim)
            self.v_proj_weight = weight(E, self.vdim)
        self.in_proj_bias = Parameter(Tensor.zeros(3 * E, device=device, dtype=dtype)) if bias else None
        self.bias_k = self.bias_v = None
        if add_bias_kv:  # xavier-normal on a (1, 1, E) tensor: std = sqrt(2 / (E + E))
            self.bias_k, self.bias_v = (
                Parameter(init.normal_(Tensor.zeros(1, 1, E, device=device, dtype=dtype), 0.0, 1.0 / math.sqrt(E)))
                for _ in range(2))
        self.out_proj = Linear(E, E, bias=bias, device=device, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.bias)

    # ---------------------------------------------------------------- forward
    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False, lengths: Any = None) -> tuple[Tensor, Tensor | None]:
        """Attend from every query position to the key/value positions; see the class docstring.

        ``is_causal`` with no ``attn_mask`` masks key j > query i (PyTorch raises there and
        otherwise reads is_causal as a hint that ``attn_mask`` is causal, as we do).

        Returns:
            ``(output, weights)``; weights is None unless ``need_weights``.
        """
        self_attention = query is key
        q, k, v, batched = self._canonical_inputs(query, key, value)
        (L, N, _), S, H, d = q.shape, k.shape[0], self.num_heads, self.head_dim
        lengths = check_lengths("MultiheadAttention", lengths, S, N)
        extra = (self.bias_k is not None) + self.add_zero_attn  # keys appended after the projections
        mask = self._combined_mask(q, S, extra, batched, attn_mask, key_padding_mask, is_causal, lengths)

        q, k, v = self._project(q, k, v)  # (N, H, L or S, head_dim)
        if self.bias_k is not None:
            k = cat([k, broadcast_to(self.bias_k.reshape(1, H, 1, d), (N, H, 1, d))], axis=2)
            v = cat([v, broadcast_to(self.bias_v.reshape(1, H, 1, d), (N, H, 1, d))], axis=2)
        if self.add_zero_attn:
            zeros = Tensor.zeros(N, H, 1, d, device=k.device, dtype=k.dtype)
            k, v = cat([k, zeros], axis=2), cat([v, zeros], axis=2)

        p = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = F.attention_weights(q, k, v, attn_mask=mask, dropout_p=p)
        else:
            out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        out = self.out_proj(out.transpose(2, 0, 1, 3).reshape(L, N, self.embed_dim))  # Concat(heads) W^O + b^O

        real = real_positions(lengths, L, q.device) if lengths is not None and self_attention else None
        if real is not None:  # padded queries: output 0, so gradient 0
            out = where(real.transpose(1, 0).reshape(L, N, 1), out, 0.0)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(axis=1)
            if real is not None:
                weights = where(real.reshape(N, 1, L, 1) if weights.ndim == 4 else real.reshape(N, L, 1), weights, 0.0)
            if not batched:
                weights = weights.reshape(*weights.shape[1:])
        if not batched:
            return out.reshape(L, self.embed_dim), weights
        return (out.transpose(1, 0, 2) if self.batch_first else out), weights

    def _canonical_inputs(self, query: Any, key: Any, value: Any) -> tuple[Tensor, Tensor, Tensor, bool]:
        """query, key, value as (L, N, E), (S, N, kdim), (S, N, vdim), and whether they were batched."""
        name = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        for what, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: {what} is a {type(t).__name__}; expected a Tensor")
        if query.ndim not in (2, 3):
            raise ValueError(f"{name}: query has shape {query.shape}; expected 3-D "
                             f"{'(N, L, E)' if self.batch_first else '(L, N, E)'} or 2-D (L, E) unbatched")
        batched = query.ndim == 3
        lay = ("(N, {}, {})" if self.batch_first else "({}, N, {})") if batched else "({}, {})"
        expected = {"query": (query, "L", self.embed_dim), "key": (key, "S", self.kdim), "value": (value, "S", self.vdim)}
        for what, (t, T, size) in expected.items():
            if t.ndim != query.ndim or t.shape[-1] != size:
                raise ValueError(f"{name}: {what} has shape {t.shape} (query {query.shape}); expected "
                                 f"{lay.format(T, size)}, {'batched' if batched else 'unbatched'} like the query")
        if batched and self.batch_first:
            query, key, value = (t.transpose(1, 0, 2) for t in (query, key, value))
        elif not batched:
            query, key, value = (t.reshape(t.shape[0], 1, t.shape[1]) for t in (query, key, value))
        if batched and not query.shape[1] == key.shape[1] == value.shape[1]:
            raise ValueError(f"{name}: query, key and value have batch sizes {query.shape[1]}, {key.shape[1]} and "
                             f"{value.shape[1]}; expected one batch size N")
        if key.shape[0] != value.shape[0]:
            raise ValueError(f"{name}: key has {key.shape[0]} positions and value {value.shape[0]}; expected one "
                             "length S for both (a value for every key)")
        return query, key, value, batched

    def _project(self, q: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Q W^Q + b^Q, K W^K + b^K, V W^V + b^V, split into heads: (N, H, T, head_dim) each."""
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            W = self.in_proj_weight
            weights = (W[:E], W[E:2 * E], W[2 * E:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        biases = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        out = []
        for x, W, bias in zip((q, k, v), weights, biases, strict=True):
            T, N, e = x.shape
            y = x.reshape(T * N, e) @ W.T
            y = y if bias is None else y + bias
            out.append(y.reshape(T, N, self.num_heads, self.head_dim).transpose(1, 2, 0, 3))
        return out[0], out[1], out[2]

    def _combined_mask(self, q: Tensor, S: int, extra: int, batched: bool, attn_mask: Any, key_padding_mask: Any,
                       is_causal: bool, lengths: list[int] | None) -> Tensor | None:
        """Every mask merged into one for scaled_dot_product_attention, broadcastable to
        (N, H, L, S + extra): bool (True = may attend) when all masks are bool, else
        additive float (-inf where a bool mask forbids); None when there is no mask."""
        (L, N, _), H = q.shape, self.num_heads
        name = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        parts = []  # bool parts hold True where attending is NOT allowed
        if attn_mask is not None:
            shapes = [(L, S), (N * H, L, S) if batched else (H, L, S)]
            layout = "(L, S) or (N*num_heads, L, S)" if batched else "(L, S) or (num_heads, L, S)"
            m = check_mask_shape(name, "attn_mask", as_mask(name, "attn_mask", attn_mask, q), shapes, layout)
            parts.append(m.reshape(1, 1, L, S) if m.ndim == 2 else m.reshape(N, H, L, S))
        elif is_causal:
            parts.append(causal_blocked(L, S, q.device).reshape(1, 1, L, S))
        if key_padding_mask is not None:
            m = as_mask(name, "key_padding_mask", key_padding_mask, q)
            check_mask_shape(name, "key_padding_mask", m, [(N, S) if batched else (S,)], "(N, S)" if batched else "(S,)")
            parts.append(m.reshape(N, 1, 1, S))
        if lengths is not None:
            parts.append(F.lengths_to_padding_mask(lengths, S, device=q.device).reshape(N, 1, 1, S))
        blocked = added = None
        for part in parts:
            if part.dtype.kind == "b":
                blocked = part if blocked is None else where(blocked, blocked, part)  # either forbids
            else:
                added = part if added is None else added + part
        if added is not None:
            mask = added if blocked is None else where(blocked, float("-inf"), added)
            fill = Tensor.zeros(*mask.shape[:-1], extra, device=q.device, dtype=q.dtype)  # appended keys: + 0
        elif blocked is not None:
            mask = blocked == False  # noqa: E712 (elementwise: the allowed keys)
            fill = Tensor.zeros(*mask.shape[:-1], extra, device=q.device) == 0  # appended keys: allowed
        else:
            return None
        return cat([mask, fill], axis=-1) if extra else mask

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")
