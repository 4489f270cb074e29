"""Softmax attention, O = softmax(Q K^T * scale) V, as one fused op beside its definition.

With S = Q K^T * scale (+ an additive mask), A = softmax(S) row by row (over the keys) and
O = A V, the gradients are (the closed form the tests write out in NumPy):

    dV = A^T dO,   dA = dO V^T,   dS = A * (dA - rowsum(dA * A)),
    dQ = dS K * scale,   dK = dS^T Q * scale.

A boolean mask ``allowed`` removes keys: their scores are replaced by the most negative
finite number of the dtype before the softmax (its exp underflows to exactly 0, and no
infinity ever reaches the tape, so anomaly mode stays quiet), and the weights are then
multiplied by [allowed]. That second step only matters for a row whose keys are all
masked: its softmax would be uniform, and instead it is all zeros, so that row's output
is 0 and no gradient flows through it.

As in ``ops/fused.py``, :class:`SoftmaxAttention` keeps three views of the same math:
``composite`` (:func:`softmax_attention_composite`, plain Tensor ops: the reference, and
what ``create_graph=True`` differentiates), ``forward`` and ``backward_arrays`` (one
pass each, on backend arrays; ``tr.gradcheck`` proves the backward right).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fused import Fused
from .linalg import MatMul, _swap_last_axes
from .reduce import broadcast_axes
from .select import where

if TYPE_CHECKING:
    from ..tensor import Tensor

# The most negative finite number of each float width (itemsize in bytes).
_MOST_NEGATIVE = {2: -65504.0, 4: -3.4028234663852886e38, 8: -1.7976931348623157e308}


def masked_score(dtype: Any) -> float:
    """The score a masked key gets: the most negative finite number of ``dtype``, so that
    exp(score - row max) is exactly 0 for any finite row max below ~1e292 (float64)."""
    return _MOST_NEGATIVE[dtype.itemsize]


def _array(t: Any) -> Any:
    """A constant given as a Tensor or as a backend array -> the array (None stays None)."""
    return t._data if hasattr(t, "_data") else t


def softmax_attention_composite(
    q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None = None, allowed: Any = None, scale: float = 1.0,
    keep: Any = None, p: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """(O, A') by Tensor ops, the definition of :class:`SoftmaxAttention`:

        S = Q K^T * scale + bias,   A = [allowed] * softmax(where(allowed, S, most negative)),
        A' = where(keep, A / (1 - p), 0),   O = A' V

    ``allowed`` and ``keep`` are constant boolean Tensors or arrays (None: all True);
    ``keep`` is the dropout mask of the weights (inverted dropout with rate ``p``, the
    formula of ``nn.functional.dropout``). Returns the output and the weights A' that
    multiplied V.
    """
    scores = q._apply(MatMul, k, transpose_b=True) * scale  # Q K^T, K read transposed (no copy)
    if bias is not None:
        scores = scores + bias
    if allowed is not None:
        scores = where(allowed, scores, masked_score(scores.dtype))
    weights = scores.softmax(axis=-1)
    if allowed is not None:
        weights = where(allowed, weights, 0.0)  # a row with no allowed key: zeros, not uniform
    if keep is not None:
        weights = where(keep, weights * (1.0 / (1.0 - p)), 0.0)
    return weights @ v, weights


def _sum_to(backend: Any, a: Any, shape: tuple[int, ...]) -> Any:
    """Sum the array ``a`` down to ``shape`` (the arrays' ``unbroadcast``)."""
    if a.shape == shape:
        return a
    axes = broadcast_axes(a.shape, shape)
    return (backend.sum(a, axis=axes, keepdims=True) if axes else a).reshape(shape)


class SoftmaxAttention(Fused):
    """softmax_attention: O = A' V, A' = dropout(A), A = [allowed] * softmax(masked(Q K^T * scale + bias))
    dQ = unbroadcast(dS K * scale, Q.shape), where dA = dropout(grad V^T) and dS = A * (dA - rowsum(dA * A))
    dK = unbroadcast(dS^T Q * scale, K.shape)
    dV = unbroadcast(A'^T grad, V.shape)
    dbias = unbroadcast(dS, bias.shape)
    """

    def forward(self, q: Any, k: Any, v: Any, bias: Any = None, *, scale: float, allowed: Any = None,
                keep: Any = None, p: float = 0.0) -> Any:
        backend = self.backend
        scores = q @ _swap_last_axes(k)  # a fresh array: the softmax is computed in place in it
        scores *= scale
        if bias is not None:
            scores = scores + bias  # (may broadcast to a larger shape: not in place)
        if allowed is not None:
            scores = backend.where(allowed, scores, masked_score(scores.dtype))
        scores -= backend.amax(scores, axis=-1, keepdims=True)
        a = backend.exp(scores, out=scores)
        a /= backend.sum(a, axis=-1, keepdims=True)
        if allowed is not None:
            a *= allowed  # = where(allowed, a, 0): a is finite
        kept = a if keep is None else backend.where(keep, a * (1.0 / (1.0 - p)), 0.0)
        self.a, self.kept, self.scale, self.allowed, self.keep, self.p = a, kept, scale, allowed, keep, p
        return kept @ v

    def backward_arrays(self, grad: Any) -> tuple[Any, ...]:
        backend = self.backend
        q, k, v = (t._data for t in self.inputs[:3])
        bias = self.inputs[3] if len(self.inputs) > 3 else None
        wants = [t.requires_grad for t in self.inputs]
        grad_v = _sum_to(backend, _swap_last_axes(self.kept) @ grad, v.shape) if wants[2] else None
        grad_q = grad_k = grad_bias = None
        if wants[0] or wants[1] or (bias is not None and wants[3]):
            grad_s = grad @ _swap_last_axes(v)  # dA' (a fresh array: dS is computed in place in it)
            if self.keep is not None:
                grad_s *= self.keep
                grad_s *= 1.0 / (1.0 - self.p)
            a = self.a  # 0 at masked keys and on rows with none allowed: dS is 0 there too
            grad_s -= backend.sum(grad_s * a, axis=-1, keepdims=True)
            grad_s *= a
            if bias is not None and wants[3]:
                grad_bias = _sum_to(backend, grad_s, bias.shape)
                if grad_bias is grad_s:  # same shape: keep dbias apart from the scaling below
                    grad_bias = grad_s.copy()
            grad_s *= self.scale
            grad_q = _sum_to(backend, grad_s @ k, q.shape) if wants[0] else None
            grad_k = _sum_to(backend, _swap_last_axes(grad_s) @ q, k.shape) if wants[1] else None
        return (grad_q, grad_k, grad_v) + ((grad_bias,) if bias is not None else ())

    def composite(self, q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None = None) -> Tensor:
        return softmax_attention_composite(q, k, v, bias, self.allowed, self.scale, self.keep, self.p)[0]


def softmax_attention(
    q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None = None, allowed: Any = None, scale: float = 1.0,
    keep: Any = None, p: float = 0.0,
) -> Tensor:
    """O = A' V in one op (see :func:`softmax_attention_composite` for the definition and the
    arguments). q (..., L, E), k (..., S, E), v (..., S, Ev) with broadcasting leading axes;
    bias, allowed and keep broadcast to the scores (..., L, S). The arguments are taken as
    checked (``nn.functional.scaled_dot_product_attention`` checks them)."""
    others = (k, v) if bias is None else (k, v, bias)
    return q._apply(SoftmaxAttention, *others, scale=float(scale), allowed=_array(allowed), keep=_array(keep), p=p)
