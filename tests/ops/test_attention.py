"""The fused softmax-attention op: its one-pass forward and backward equal its Tensor-op
definition (the composite), and finite differences agree with both."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.ops.attention import SoftmaxAttention, masked_score, softmax_attention, softmax_attention_composite


@st.composite
def attention_case(draw):
    """q, k, v with broadcasting batch axes, and any of: a bias, a bool mask, a dropout mask."""
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=2, max_side=2))
    L, S, E, Ev = (draw(st.integers(1, 4)) for _ in range(4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    q, k, v = (rng.standard_normal(b + s) for b, s in zip(batch.input_shapes, [(L, E), (S, E), (S, Ev)], strict=True))
    scores = batch.result_shape + (L, S)
    bias = rng.standard_normal(draw(st.sampled_from([(L, S), (1, S), scores]))) if draw(st.booleans()) else None
    allowed = rng.random(scores) < 0.6 if draw(st.booleans()) else None  # dead rows included
    p = draw(st.sampled_from([0.0, 0.5]))
    keep = rng.random(scores) >= p if p else None
    return q, k, v, bias, allowed, keep, p


@settings(max_examples=40, deadline=None)
@given(case=attention_case(), wants=st.lists(st.booleans(), min_size=4, max_size=4).filter(any))
def test_fused_forward_and_backward_equal_the_composite(case, wants) -> None:
    q, k, v, bias, allowed, keep, p = case
    arrays = [q, k, v] + ([bias] if bias is not None else [])
    tensors = [Tensor(a, requires_grad=w) for a, w in zip(arrays, wants, strict=False)]
    if not any(t.requires_grad for t in tensors):
        tensors[0].requires_grad_(True)
    kw = {"bias": tensors[3] if bias is not None else None, "allowed": None if allowed is None else Tensor(allowed),
          "scale": 0.6, "keep": None if keep is None else Tensor(keep), "p": p}
    fused = softmax_attention(*tensors[:3], **kw)
    reference, _ = softmax_attention_composite(*tensors[:3], **kw)
    np.testing.assert_array_equal(fused.numpy(), reference.numpy())  # the same arithmetic, in the same order
    differentiated = [t for t in tensors if t.requires_grad]
    grad_out = Tensor(np.random.default_rng(1).standard_normal(fused.shape))
    fast = tr.grad(fused, differentiated, grad_out)  # plain backward: backward_arrays
    slow = tr.grad(reference, differentiated, grad_out)  # the composite's own tape
    for a, b in zip(fast, slow, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-13)


def _inputs(device: str, with_bias: bool = True):
    rng = np.random.default_rng(0)
    shapes = [(2, 3, 2), (2, 4, 2), (1, 4, 3)] + ([(3, 4)] if with_bias else [])
    return [Tensor(rng.standard_normal(s), requires_grad=True, device=device) for s in shapes]


def test_fused_op_passes_gradcheck_and_gradgradcheck(device: str) -> None:
    allowed = np.random.default_rng(1).random((2, 3, 4)) < 0.7
    allowed[1, 2] = False  # a row with no key
    keep = np.random.default_rng(2).random((2, 3, 4)) < 0.8

    def fn(q, k, v, bias):
        return softmax_attention(q, k, v, bias, Tensor(allowed, device=device), 0.8, Tensor(keep, device=device), 0.2)

    inputs = _inputs(device)
    assert tr.gradcheck(fn, *inputs)
    assert tr.gradgradcheck(fn, *inputs)  # create_graph differentiates the composite


def test_create_graph_differentiates_the_composite() -> None:
    q, k, v, bias = _inputs("cpu")
    out = softmax_attention(q, k, v, bias, scale=0.5)
    (grad_q,) = tr.grad((out * out).sum(), [q], create_graph=True)
    assert grad_q.requires_grad  # a gradient on the tape: differentiable again
    reference, _ = softmax_attention_composite(q, k, v, bias, scale=0.5)
    (want,) = tr.grad((reference * reference).sum(), [q], create_graph=True)
    np.testing.assert_allclose(grad_q.numpy(), want.numpy(), rtol=1e-12)
    second = tr.grad(grad_q.sum(), [k, v, bias])
    expected = tr.grad(want.sum(), [k, v, bias])
    for a, b in zip(second, expected, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-13)


def test_a_bias_of_the_scores_shape_keeps_its_own_gradient() -> None:
    """dbias = dS, while dQ and dK use dS * scale: scaling dS in place must not reach dbias."""
    q, k, v, _ = _inputs("cpu")
    bias = Tensor(np.random.default_rng(3).standard_normal((2, 3, 4)), requires_grad=True)
    fused = softmax_attention(q, k, v, bias, scale=3.0)
    reference, _ = softmax_attention_composite(q, k, v, bias, scale=3.0)
    for a, b in zip(tr.grad(fused.sum(), [q, k, bias]), tr.grad(reference.sum(), [q, k, bias]), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-13)


def test_masked_scores_are_the_most_negative_finite_number() -> None:
    for dtype in ("float16", "float32", "float64"):
        assert masked_score(np.dtype(dtype)) == np.finfo(dtype).min


def test_the_op_records_one_node() -> None:
    q, k, v, bias = _inputs("cpu")
    out = softmax_attention(q, k, v, bias, allowed=Tensor(np.ones((3, 4), bool)), scale=0.5)
    assert isinstance(out._ctx, SoftmaxAttention) and out._ctx.inputs == (q, k, v, bias)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_stays_float32(dtype) -> None:
    q, k, v = (t.detach().astype(dtype) for t in _inputs("cpu", with_bias=False))
    assert softmax_attention(q, k, v, scale=np.float64(0.5)).dtype == dtype  # a NumPy scale does not promote
