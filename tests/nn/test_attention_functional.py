"""Scaled dot-product attention, proven three ways (as BPTT is): against PyTorch, against the
closed-form gradients written out in NumPy, and by finite differences; plus its masks."""

from __future__ import annotations

import doctest

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.nn import attention_functional
from tinygrad_rnn.nn import functional as F

# (query, key, value) shapes: 3-D with L != S, 4-D, 4-D whose batch/head axes broadcast, 2-D.
SHAPES = {
    "3d": ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
    "4d": ((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 5)),
    "4d_broadcast": ((2, 1, 3, 4), (1, 2, 5, 4), (2, 2, 5, 6)),
    "2d": ((3, 4), (5, 4), (5, 2)),
}
MASKS = ["none", "bool", "bool_dead_row", "float", "float_inf", "causal"]


def _inputs(shapes, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _mask(kind: str, shapes, seed: int = 1):
    """The attn_mask of ``kind`` for these shapes as a NumPy array (None for none/causal)."""
    rng = np.random.default_rng(seed)
    L, S = shapes[0][-2], shapes[1][-2]
    batch = np.broadcast_shapes(shapes[0][:-2], shapes[1][:-2], shapes[2][:-2])
    if kind in ("bool", "bool_dead_row"):
        mask = rng.random(batch + (L, S)) < 0.7
        mask[..., 0] = True  # every row attends somewhere...
        if kind == "bool_dead_row":
            mask[..., 1, :] = False  # ...but query 1, which attends nowhere
        return mask
    if kind in ("float", "float_inf"):
        mask = rng.standard_normal((L, S))  # broadcast over the batch: its gradient is summed
        if kind == "float_inf":
            mask[0, 1] = mask[1, :] = -np.inf  # one masked key, and one query with none left
        return mask
    return None


def _call(fn, q, k, v, kind, mask):
    if kind == "causal":
        return fn(q, k, v, is_causal=True)
    return fn(q, k, v, attn_mask=mask) if mask is not None else fn(q, k, v)


# ------------------------------------------------------------------ PyTorch as the oracle
@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("case", sorted(SHAPES))
@pytest.mark.parametrize("weights", [False, True], ids=["sdpa", "attention_weights"])
def test_values_and_every_gradient_equal_pytorch(case, kind, weights) -> None:
    torch = pytest.importorskip("torch")
    shapes = SHAPES[case]
    arrays, mask = _inputs(shapes), _mask(kind, shapes)
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    float_mask = mask is not None and mask.dtype.kind == "f"
    our_mask = None if mask is None else Tensor(mask, requires_grad=float_mask)
    their_mask = None if mask is None else torch.tensor(mask, requires_grad=float_mask)
    fn = (lambda *a, **kw: F.attention_weights(*a, **kw)[0]) if weights else F.scaled_dot_product_attention
    out = _call(fn, *ours, kind, our_mask)
    want = _call(torch.nn.functional.scaled_dot_product_attention, *theirs, kind, their_mask)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-13)
    grad_out = np.random.default_rng(2).standard_normal(out.shape)
    wrt = ours + ([our_mask] if float_mask else [])
    theirs_wrt = theirs + ([their_mask] if float_mask else [])
    got = tr.grad(out, wrt, Tensor(grad_out))
    expected = torch.autograd.grad(want, theirs_wrt, torch.tensor(grad_out))
    for name, g, e in zip(["query", "key", "value", "attn_mask"], got, expected, strict=False):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


# ----------------------------------------------------------------- the closed form in NumPy
def _closed_form(Q, K, V, dO, allowed, scale):
    """A = softmax(S) over allowed keys (0 elsewhere, and on rows with none), S = Q K^T * scale, O = A V."""
    S = Q @ np.swapaxes(K, -1, -2) * scale
    S = np.where(allowed, S, -np.inf)
    row_max = np.max(S, axis=-1, keepdims=True)
    E = np.where(allowed, np.exp(S - np.where(np.isfinite(row_max), row_max, 0.0)), 0.0)
    Z = E.sum(axis=-1, keepdims=True)
    A = E / np.where(Z > 0, Z, 1.0)
    dV = np.swapaxes(A, -1, -2) @ dO
    dA = dO @ np.swapaxes(V, -1, -2)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))
    dQ = dS @ K * scale
    dK = np.swapaxes(dS, -1, -2) @ Q * scale
    return A, A @ V, dQ, dK, dV


@pytest.mark.parametrize("kind", ["none", "causal", "bool_dead_row"])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composite"])
def test_tape_gradients_equal_the_closed_form(kind, fused) -> None:
    shapes = ((2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 6))
    Q, K, V = _inputs(shapes, seed=3)
    dO = np.random.default_rng(4).standard_normal((2, 2, 4, 6))
    mask = _mask(kind, shapes)
    allowed = np.tril(np.ones((4, 5), bool)) if kind == "causal" else np.ones((4, 5), bool) if mask is None else mask
    A, out_np, dQ, dK, dV = _closed_form(Q, K, V, dO, allowed, scale=1 / np.sqrt(3))
    q, k, v = (Tensor(a, requires_grad=True) for a in (Q, K, V))
    kw = {"is_causal": True} if kind == "causal" else {"attn_mask": None if mask is None else Tensor(mask)}
    if fused:
        out = F.scaled_dot_product_attention(q, k, v, **kw)
    else:
        out, weights = F.attention_weights(q, k, v, **kw)
        np.testing.assert_allclose(weights.numpy(), A, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.numpy(), out_np, rtol=1e-12, atol=1e-14)
    out.backward(Tensor(dO))
    for name, t, want in (("dQ", q, dQ), ("dK", k, dK), ("dV", v, dV)):
        np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-10, atol=1e-10, err_msg=name)


# -------------------------------------------------------------------- finite differences
SMALL = {"3d": ((1, 3, 2), (1, 4, 2), (1, 4, 3)), "4d_broadcast": ((2, 1, 2, 2), (1, 2, 3, 2), (2, 2, 3, 2))}


@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("case", sorted(SMALL))
def test_gradcheck_and_gradgradcheck(case, kind) -> None:
    shapes = SMALL[case]  # small: second order costs (inputs)^2 evaluations
    mask = _mask(kind, shapes)
    tensors = [Tensor(a, requires_grad=True) for a in _inputs(shapes)]
    if mask is not None and mask.dtype.kind == "f":
        tensors.append(Tensor(mask, requires_grad=True))  # the float mask is differentiated too
        fixed = None
    else:
        fixed = None if mask is None else Tensor(mask)

    def sdpa(q, k, v, m=None):
        return _call(F.scaled_dot_product_attention, q, k, v, kind, m if m is not None else fixed)

    def both(q, k, v, m=None):
        return _call(F.attention_weights, q, k, v, kind, m if m is not None else fixed)

    for fn in (sdpa, both):
        assert tr.gradcheck(fn, *tensors)
        assert tr.gradgradcheck(fn, *tensors)


def test_gradcheck_with_dropout_and_a_custom_scale() -> None:
    tensors = [Tensor(a, requires_grad=True) for a in _inputs(SHAPES["3d"])]

    def fn(q, k, v):
        tr.manual_seed(5)  # the same dropout mask at every evaluation
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, scale=0.7)

    assert tr.gradcheck(fn, *tensors)
    assert tr.gradgradcheck(fn, *tensors)


# --------------------------------------------------------------------- masked rows and keys
def test_a_query_with_every_key_masked_gets_zero_output_and_zero_gradient() -> None:
    shapes = SHAPES["3d"]
    q, k, v = (Tensor(a, requires_grad=True) for a in _inputs(shapes))
    for mask in (Tensor(_mask("bool_dead_row", shapes)), Tensor(_mask("float_inf", shapes))):
        out, weights = F.attention_weights(q, k, v, attn_mask=mask)
        assert (weights.numpy()[:, 1] == 0).all() and (out.numpy()[:, 1] == 0).all()
        fused = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        np.testing.assert_array_equal(fused.numpy(), out.numpy())
        grad_out = np.zeros(out.shape)
        grad_out[:, 1] = 1.0  # only the dead row's output is differentiated
        for result in (out, fused):
            grads = tr.grad(result, [q, k, v], Tensor(grad_out))
            assert all((g.numpy() == 0).all() for g in grads)
        assert np.isfinite(weights.numpy()).all()


def test_no_keys_at_all_gives_zeros() -> None:
    q, v = Tensor.randn(2, 3, 4, dtype="float64"), Tensor.randn(2, 0, 5, dtype="float64", requires_grad=True)
    k = Tensor.randn(2, 0, 4, dtype="float64")
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5) and (out.numpy() == 0).all()
    out, weights = F.attention_weights(q, k, v)
    assert weights.shape == (2, 3, 0) and out.shape == (2, 3, 5)


def test_masks_keep_anomaly_mode_quiet() -> None:
    """Masked scores are finite (the dtype's most negative number), so no inf reaches the tape."""
    q, k, v = (Tensor(a, requires_grad=True) for a in _inputs(SHAPES["3d"]))
    with tr.detect_anomaly():
        for kw in ({"attn_mask": Tensor(_mask("float_inf", SHAPES["3d"]))},
                   {"attn_mask": Tensor(_mask("bool_dead_row", SHAPES["3d"]))}, {"is_causal": True}):
            F.scaled_dot_product_attention(q, k, v, **kw).sum().backward()
            F.attention_weights(q, k, v, **kw)[0].sum().backward()


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_padded_keys_get_exactly_zero_weight_and_zero_gradient(data) -> None:
    B, L, S = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    lengths = data.draw(st.lists(st.integers(0, S), min_size=B, max_size=B))
    seed = data.draw(st.integers(0, 2**16))
    q, k, v = (Tensor(a, requires_grad=True) for a in _inputs(((B, L, 3), (B, S, 3), (B, S, 2)), seed))
    padded = F.lengths_to_padding_mask(lengths, S).numpy()
    allowed = Tensor(~padded).reshape(B, 1, S)  # attn_mask: True = may attend
    out, weights = F.attention_weights(q, k, v, attn_mask=allowed)
    w = weights.numpy()
    assert (w[np.broadcast_to(padded[:, None, :], w.shape)] == 0).all()
    sums = w.sum(axis=-1)
    np.testing.assert_allclose(sums[np.array(lengths) > 0], 1.0, rtol=1e-12)
    assert (sums[np.array(lengths) == 0] == 0).all()
    grad_out = Tensor(np.random.default_rng(seed).standard_normal(out.shape))
    for result in (out, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)):
        _, grad_k, grad_v = tr.grad(result, [q, k, v], grad_out)
        assert (grad_k.numpy()[padded] == 0).all() and (grad_v.numpy()[padded] == 0).all()


# ------------------------------------------------------------------------------- dropout
def test_dropout_drops_weights_with_the_library_generator() -> None:
    q, k, v = (Tensor(a, requires_grad=True) for a in _inputs(SHAPES["4d"]))
    tr.manual_seed(11)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    tr.manual_seed(11)
    out_w, weights = F.attention_weights(q, k, v, dropout_p=0.3)
    _, clean = F.attention_weights(q, k, v)
    tr.manual_seed(11)
    manual = F.dropout(clean, 0.3)  # nn.functional.dropout with the same draws
    np.testing.assert_array_equal(weights.numpy(), manual.numpy())
    np.testing.assert_array_equal(out.numpy(), out_w.numpy())
    np.testing.assert_allclose(out.numpy(), (manual @ v).numpy(), rtol=1e-13)
    assert (weights.numpy() == 0).any()
    for a, b in zip(tr.grad(out.sum(), [q, k, v]), tr.grad(out_w.sum(), [q, k, v]), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-13)


# ------------------------------------------------------------------- the weights helper
def test_attention_weights_rows_sum_to_one_and_weigh_the_values() -> None:
    q, k, v = (Tensor(a) for a in _inputs(SHAPES["4d_broadcast"]))
    out, weights = F.attention_weights(q, k, v, is_causal=True)
    assert weights.shape == (2, 2, 3, 5) and out.shape == (2, 2, 3, 6)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-12)
    assert (np.triu(weights.numpy()[0, 0], 1) == 0).all()  # causal: key j > query i gets nothing
    np.testing.assert_allclose(out.numpy(), (weights @ v).numpy(), rtol=1e-13)
    np.testing.assert_array_equal(out.numpy(), F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy())


# ----------------------------------------------------------- other backends, the jit
def test_forward_and_backward_on_every_backend(device: str) -> None:
    shapes = SHAPES["4d_broadcast"]
    arrays = _inputs(shapes)
    results = {}
    for where_ in ("cpu", device):
        q, k, v = (Tensor(a, requires_grad=True, device=where_) for a in arrays)
        bias = Tensor(_mask("float_inf", shapes), requires_grad=True, device=where_)
        allowed = Tensor(_mask("bool_dead_row", shapes), device=where_)
        tr.manual_seed(3)
        out = (F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=0.2)
               + F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
               + F.attention_weights(q, k, v, is_causal=True)[0])
        assert out.device == where_
        (out * out).sum().backward()
        results[where_] = [t.numpy() for t in (out, q.grad, k.grad, v.grad, bias.grad)]
    for a, b in zip(results["cpu"], results[device], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_a_jitted_attention_step_replays_the_eager_one_bit_for_bit() -> None:
    def setup():
        tr.manual_seed(0)
        w = [tr.nn.Parameter(Tensor.randn(4, 4) * 0.5) for _ in range(3)]
        return w, tr.optim.SGD(w, lr=0.1)

    def make_step(w, opt):
        def step(x, mask):
            opt.zero_grad()
            out = F.scaled_dot_product_attention(x @ w[0], x @ w[1], x @ w[2], attn_mask=mask, dropout_p=0.25)
            loss = (out * out).mean()
            loss.backward()
            opt.step()
            return loss
        return step

    (w_e, opt_e), (w_j, opt_j) = setup(), setup()
    eager, jitted = make_step(w_e, opt_e), tr.jit(make_step(w_j, opt_j))
    mask = ~F.lengths_to_padding_mask([5, 3], 5).numpy()
    for i in range(4):
        x = Tensor(np.random.default_rng(i).standard_normal((2, 5, 4)).astype("float32"))
        tr.manual_seed(100 + i)
        want = eager(x, Tensor(mask.reshape(2, 1, 5)))
        tr.manual_seed(100 + i)
        got = jitted(x, Tensor(mask.reshape(2, 1, 5)))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    for a, b in zip(w_e, w_j, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert (jitted.records, jitted.replays) == (1, 3)


# ------------------------------------------------------------------------------- errors
def test_bad_arguments_are_named() -> None:
    q, k, v = (Tensor(a) for a in _inputs(SHAPES["3d"]))
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(ValueError, match="both attn_mask and is_causal"):
        sdpa(q, k, v, attn_mask=Tensor(np.ones((3, 5), bool)), is_causal=True)
    with pytest.raises(ValueError, match=r"query and key share E"):
        sdpa(q, k[..., :3], v)
    with pytest.raises(ValueError, match=r"key and value share S"):
        sdpa(q, k, v[:, :4])
    with pytest.raises(ValueError, match="batch dimensions"):
        sdpa(q, Tensor.randn(3, 5, 4, dtype="float64"), Tensor.randn(3, 5, 6, dtype="float64"))
    with pytest.raises(ValueError, match=r"attn_mask has shape \(3, 4\); expected a shape that broadcasts"):
        sdpa(q, k, v, attn_mask=Tensor(np.ones((3, 4), bool)))
    with pytest.raises(TypeError, match="attn_mask has dtype int64; expected bool"):
        sdpa(q, k, v, attn_mask=Tensor(np.ones((3, 5), np.int64)))
    with pytest.raises(TypeError, match="expected one dtype"):
        sdpa(q, k, v.float())
    with pytest.raises(TypeError, match="query is a ndarray; expected a Tensor"):
        sdpa(q.numpy(), k, v)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        sdpa(Tensor.ones(4), k, v)
    with pytest.raises(ValueError, match=r"dropout_p=1.0; expected a probability in \[0, 1\)"):
        sdpa(q, k, v, dropout_p=1.0)
    with pytest.raises(TypeError, match="scale='x'"):
        sdpa(q, k, v, scale="x")
    with pytest.raises(TypeError, match="is_causal=1"):
        sdpa(q, k, v, is_causal=1)


def test_float_masks_of_another_dtype_and_lists_are_accepted() -> None:
    q, k, v = (Tensor(a) for a in _inputs(SHAPES["3d"]))
    mask = _mask("float", SHAPES["3d"])
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=Tensor(mask.astype(np.float32).astype(np.float64)))
    got = F.scaled_dot_product_attention(q, k, v, attn_mask=Tensor(mask, dtype="float32"))  # cast to query's dtype
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    as_list = F.scaled_dot_product_attention(q, k, v, attn_mask=(mask > 0).tolist())
    np.testing.assert_array_equal(as_list.numpy(), F.scaled_dot_product_attention(q, k, v, attn_mask=Tensor(mask > 0)).numpy())


def test_a_float_list_mask_keeps_the_querys_precision() -> None:
    q, k, v = (Tensor(a) for a in _inputs(SHAPES["3d"]))
    mask = _mask("float", SHAPES["3d"])  # float64 values no float32 holds exactly
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=Tensor(mask))
    got = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.tolist())  # was rounded to float32 first
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_nan_in_a_float_mask_propagates_as_in_pytorch() -> None:
    q, k, v = (Tensor(a) for a in _inputs(SHAPES["3d"]))
    mask = _mask("float", SHAPES["3d"])
    mask[1, 2] = np.nan  # a NaN is not -inf: it must not silently mask the key
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=Tensor(mask)).numpy()
    assert np.isnan(out[:, 1]).all() and not np.isnan(np.delete(out, 1, axis=1)).any()


# ---------------------------------------------------------------- lengths -> padding mask
def test_lengths_to_padding_mask() -> None:
    mask = F.lengths_to_padding_mask([2, 0, 3], max_len=4)
    assert mask.dtype == bool and mask.shape == (3, 4)
    assert mask.tolist() == [[False, False, True, True], [True] * 4, [False, False, False, True]]
    assert F.lengths_to_padding_mask(Tensor([1, 2])).tolist() == [[False, True], [False, False]]
    assert F.lengths_to_padding_mask(np.array([3])).shape == (1, 3)
    assert F.lengths_to_padding_mask([], max_len=2).shape == (0, 2)
    assert F.lengths_to_padding_mask([1], device="strict").device == "strict"
    with pytest.raises(ValueError, match=r"include \[5\]; expected each in 0..4"):
        F.lengths_to_padding_mask([2, 5], max_len=4)
    with pytest.raises(ValueError, match=r"include \[-1\]"):
        F.lengths_to_padding_mask([-1, 2])
    with pytest.raises(TypeError, match="expected a 1-D sequence of ints"):
        F.lengths_to_padding_mask([1.5, 2])
    with pytest.raises(ValueError, match="max_len=-2"):
        F.lengths_to_padding_mask([1], max_len=-2)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(attention_functional).failed == 0
