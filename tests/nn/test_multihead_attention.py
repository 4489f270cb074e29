"""nn.MultiheadAttention (tinygrad_rnn/nn/attention.py; not test_attention.py, a name tests/ops already uses):
PyTorch as oracle over every mask kind and layout, lengths,
finite differences, state dicts both ways, checks."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import attention as attention_module

RTOL, ATOL = 1e-10, 1e-12


def randomized_torch_mha(E: int, H: int, seed: int = 0, **kwargs):
    """A float64 torch.nn.MultiheadAttention with every parameter random (none left at 0)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    ref = torch.nn.MultiheadAttention(E, H, dtype=torch.float64, **kwargs)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.tensor(rng.normal(scale=0.5, size=tuple(p.shape))))
    return ref


def pair(E: int, H: int, device: str = "cpu", **kwargs):
    """(torch layer, our layer holding the same parameters)."""
    ref = randomized_torch_mha(E, H, **kwargs)
    ours = nn.MultiheadAttention(E, H, dtype="float64", device=device, **kwargs)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def close(ours, theirs, what: str, rtol: float = RTOL) -> None:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.numpy() if isinstance(ours, Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=ATOL, err_msg=what)


def run_both(ref, ours, arrays: dict, kwargs: dict, self_attention: bool, device: str = "cpu", seed: int = 1,
             our_kwargs: dict | None = None, torch_kwargs: dict | None = None):
    """Run both layers on the same query/key/value and masks (float arrays get gradients) with
    the loss sum <output, R> + sum <weights, R'>; compare values and every gradient."""
    import torch

    rng = np.random.default_rng(seed)
    t_in, o_in = {}, {}
    for name, a in arrays.items():
        if a is None:
            continue
        floating = a.dtype.kind == "f"
        t_in[name] = torch.tensor(a, requires_grad=floating)
        o_in[name] = Tensor(a, device=device, requires_grad=floating)
    if self_attention:
        for ins in (t_in, o_in):
            ins["key"] = ins["value"] = ins["query"]
    call = lambda layer, ins, extra: layer(ins["query"], ins["key"], ins["value"],  # noqa: E731
                                           **{k: v for k, v in ins.items() if k not in ("query", "key", "value")},
                                           **kwargs, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "mismatched key_padding_mask and attn_mask is deprecated"
        out_t, w_t = call(ref, t_in, torch_kwargs or {})
    out, w = call(ours, o_in, our_kwargs or {})
    R = rng.normal(size=out_t.shape)
    loss_t = (out_t * torch.tensor(R)).sum()
    loss = (out * Tensor(R, device=device)).sum()
    assert (w is None) == (w_t is None)
    if w is not None:
        R2 = rng.normal(size=w_t.shape)
        loss_t = loss_t + (w_t * torch.tensor(R2)).sum()
        loss = loss + (w * Tensor(R2, device=device)).sum()
        close(w, w_t, "weights")
    close(out, out_t, "output")
    loss_t.backward()
    loss.backward()
    for name, t in t_in.items():
        if t.requires_grad and not (self_attention and name in ("key", "value")):
            close(o_in[name].grad, t.grad, f"gradient of {name}", rtol=1e-9)
    ref_params = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad, ref_params[name].grad, f"gradient of {name}", rtol=1e-9)
    return out, w


L, S, N, E, H = 4, 5, 3, 8, 2


def masks(kind: str, batched: bool, self_attention: bool, seed: int = 2) -> dict:
    """attn_mask / key_padding_mask arrays of one kind, every query keeping a key it may see."""
    rng = np.random.default_rng(seed)
    S_ = L if self_attention else S
    heads = (N * H,) if batched else (H,)
    out = {}
    for part in kind.split("+"):
        if part.startswith("bool"):
            shape = (L, S_) if part == "bool2d" else heads + (L, S_)
            m = rng.random(shape) < 0.4
            m[..., 0] = False  # True = not allowed: key 0 always allowed
            out["attn_mask"] = m
        elif part.startswith("float"):
            out["attn_mask"] = rng.normal(size=(L, S_) if part == "float2d" else heads + (L, S_))
        elif part == "kpm_bool":
            m = np.zeros((N, S_) if batched else (S_,), dtype=bool)
            m[..., 2:] = rng.random(m[..., 2:].shape) < 0.5
            out["key_padding_mask"] = m
        elif part == "kpm_float":
            out["key_padding_mask"] = rng.normal(size=(N, S_) if batched else (S_,))
    return out


MASK_KINDS = ["none", "bool2d", "float2d", "bool3d", "float3d", "kpm_bool", "kpm_float", "bool2d+kpm_bool",
              "float3d+kpm_bool", "causal"]
WEIGHTS = [{"need_weights": True}, {"need_weights": True, "average_attn_weights": False}, {"need_weights": False}]


# ------------------------------------------------------------------- PyTorch as oracle
# batch_first only changes the layout: every mask kind time-first, a few batch-first
LAYOUTS = [(kind, False) for kind in MASK_KINDS] + [(kind, True) for kind in ("float2d", "bool3d+kpm_bool", "causal")]


@pytest.mark.parametrize("kind, batch_first", LAYOUTS, ids=[f"{k}-{'batch_first' if b else 'T_first'}" for k, b in LAYOUTS])
@pytest.mark.parametrize("self_attention", [True, False], ids=["self", "cross"])
@pytest.mark.parametrize("weights", WEIGHTS, ids=["avg_weights", "head_weights", "no_weights"])
def test_matches_torch_values_and_every_gradient(kind: str, batch_first: bool, self_attention: bool,
                                                weights: dict) -> None:
    ref, ours = pair(E, H, batch_first=batch_first)
    rng = np.random.default_rng(0)
    lead = (lambda T: (N, T)) if batch_first else (lambda T: (T, N))
    arrays = {"query": rng.normal(size=lead(L) + (E,)), "key": rng.normal(size=lead(S) + (E,)),
              "value": rng.normal(size=lead(S) + (E,))}
    arrays.update(masks(kind, True, self_attention))
    our_kwargs, torch_kwargs = {}, {}
    if kind == "causal":  # torch needs the mask itself with its is_causal hint; ours builds it
        S_ = L if self_attention else S
        torch_kwargs = {"is_causal": True, "attn_mask": __import__("torch").tensor(np.triu(np.ones((L, S_), bool), 1))}
        our_kwargs = {"is_causal": True}
    run_both(ref, ours, arrays, weights, self_attention, our_kwargs=our_kwargs, torch_kwargs=torch_kwargs)


@pytest.mark.parametrize("kind", ["none", "bool2d", "float3d", "kpm_bool", "float2d+kpm_float"])
@pytest.mark.parametrize("weights", WEIGHTS, ids=["avg_weights", "head_weights", "no_weights"])
def test_unbatched_matches_torch(kind: str, weights: dict) -> None:
    ref, ours = pair(E, H, batch_first=True)  # batch_first does not apply to 2-D inputs
    rng = np.random.default_rng(3)
    arrays = {"query": rng.normal(size=(L, E)), "key": rng.normal(size=(S, E)), "value": rng.normal(size=(S, E))}
    arrays.update(masks(kind, False, False))
    out, w = run_both(ref, ours, arrays, weights, self_attention=False)
    assert out.shape == (L, E)


@pytest.mark.parametrize("options", [
    {"kdim": 3, "vdim": 6}, {"add_bias_kv": True}, {"add_zero_attn": True},
    {"add_bias_kv": True, "add_zero_attn": True, "kdim": 5}, {"bias": False}, {"dropout": 0.3}],
    ids=["kdim_vdim", "bias_kv", "zero_attn", "all_extras", "no_bias", "dropout_in_eval"])
@pytest.mark.parametrize("kind", ["none", "bool3d+kpm_bool", "float2d"])
def test_pytorch_options_match_torch(options: dict, kind: str) -> None:
    ref, ours = pair(E, H, **options)
    ref.eval(), ours.eval()
    rng = np.random.default_rng(4)
    arrays = {"query": rng.normal(size=(L, N, E)), "key": rng.normal(size=(S, N, options.get("kdim", E))),
              "value": rng.normal(size=(S, N, options.get("vdim", E)))}
    arrays.update(masks(kind, True, False))
    run_both(ref, ours, arrays, {"average_attn_weights": False}, self_attention=False)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]


def test_a_query_with_every_key_masked_gets_zero_weights_where_torch_gives_nan() -> None:
    torch = pytest.importorskip("torch")
    ref, ours = pair(E, H)
    x = np.random.default_rng(5).normal(size=(L, N, E))
    kpm = np.zeros((N, L), bool)
    kpm[1] = True
    out_t, _ = ref(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm))
    out, w = ours(*[Tensor(x)] * 3, key_padding_mask=Tensor(kpm))
    assert np.isnan(out_t[:, 1].detach().numpy()).all()
    assert (w.numpy()[1] == 0).all()
    np.testing.assert_array_equal(out.numpy()[:, 1], np.broadcast_to(ours.out_proj.bias.numpy(), (L, E)))
    close(out[:, 0::2], out_t[:, 0::2], "the other sequences")


# ---------------------------------------------------------------------- lengths
def test_lengths_equal_torch_key_padding_mask_on_real_positions_and_zero_elsewhere(device: str) -> None:
    torch = pytest.importorskip("torch")
    lengths = [L, 2, 3]
    ref, ours = pair(E, H, device=device)
    rng = np.random.default_rng(6)
    x = rng.normal(size=(L, N, E))
    valid = np.arange(L)[:, None] < np.array(lengths)[None]  # (L, N)
    R = rng.normal(size=(L, N, E)) * valid[..., None]  # a loss on real positions only
    x_t = torch.tensor(x, requires_grad=True)
    out_t, w_t = ref(x_t, x_t, x_t, key_padding_mask=torch.tensor(~valid.T))
    (out_t * torch.tensor(R)).sum().backward()
    x_o = Tensor(x, device=device, requires_grad=True)
    out, w = ours(x_o, x_o, x_o, lengths=lengths)
    (out * Tensor(R, device=device)).sum().backward()
    np.testing.assert_allclose(out.numpy()[valid], out_t.detach().numpy()[valid], rtol=RTOL, atol=ATOL)
    assert (out.numpy()[~valid] == 0).all() and (w.numpy()[~valid.T] == 0).all()
    np.testing.assert_allclose(w.numpy()[valid.T], w_t.detach().numpy()[valid.T], rtol=RTOL, atol=ATOL)
    close(x_o.grad, x_t.grad, "gradient of x", rtol=1e-9)
    for name, p in ref.named_parameters():
        close(dict(ours.named_parameters())[name].grad, p.grad, f"gradient of {name}", rtol=1e-9)


def test_lengths_in_cross_attention_mask_keys_only() -> None:
    rng = np.random.default_rng(7)
    mha = nn.MultiheadAttention(E, H, dtype="float64")
    q, kv = Tensor(rng.normal(size=(L, N, E))), Tensor(rng.normal(size=(S, N, E)))
    out, w = mha(q, kv, kv, lengths=[S, 1, 3])
    kpm = Tensor(np.arange(S)[None] >= np.array([S, 1, 3])[:, None])
    out_k, w_k = mha(q, kv, kv, key_padding_mask=kpm)
    np.testing.assert_array_equal(out.numpy(), out_k.numpy())
    np.testing.assert_array_equal(w.numpy(), w_k.numpy())


@given(st.data())
def test_property_padded_keys_get_zero_weight_and_padded_positions_zero_gradient(data) -> None:
    n = data.draw(st.integers(1, 3), label="N")
    T = data.draw(st.integers(1, 5), label="T")
    lengths = data.draw(st.lists(st.integers(1, T), min_size=n, max_size=n), label="lengths")
    heads = data.draw(st.sampled_from([1, 2]), label="heads")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    mha = nn.MultiheadAttention(4, heads, dtype="float64")
    x = Tensor(rng.normal(size=(T, n, 4)), requires_grad=True)  # self-attention
    q = Tensor(rng.normal(size=(data.draw(st.integers(1, 4), label="L"), n, 4)))  # cross-attention from q to kv
    kv = Tensor(rng.normal(size=(T, n, 4)), requires_grad=True)
    out, w = mha(x, x, x, lengths=lengths, average_attn_weights=False)
    out2, w2 = mha(q, kv, kv, lengths=lengths)
    loss = (out * Tensor(rng.normal(size=out.shape))).sum() + (w * Tensor(rng.normal(size=w.shape))).sum()
    loss = loss + (out2 * Tensor(rng.normal(size=out2.shape))).sum() + (w2 * Tensor(rng.normal(size=w2.shape))).sum()
    loss.backward()
    padded = np.arange(T)[:, None] >= np.array(lengths)[None]  # (T, N)
    assert (w.numpy().transpose(3, 0, 1, 2)[padded] == 0).all()  # padded keys, every head and query
    assert (w2.numpy().transpose(2, 0, 1)[padded] == 0).all()
    assert (x.grad.numpy()[padded] == 0).all()
    assert (kv.grad.numpy()[padded] == 0).all()
    np.testing.assert_allclose(w.numpy().sum(-1), np.broadcast_to((~padded.T)[:, None, :], w.shape[:3]) * 1.0,
                               atol=1e-12)  # real queries' weights sum to 1, padded ones' are 0


# ----------------------------------------------------------------- finite differences
@pytest.mark.parametrize("case", ["self_lengths", "cross_masks", "extras"])
def test_gradcheck_and_gradgradcheck(case: str, device: str) -> None:
    rng = np.random.default_rng(8)
    extra = {"add_bias_kv": True, "add_zero_attn": True, "kdim": 3, "batch_first": True} if case == "extras" else {}
    mha = nn.MultiheadAttention(4, 2, dtype="float64", device=device, **extra)
    for p in mha.parameters():
        p.data = Tensor(rng.normal(scale=0.5, size=p.shape), device=device).data
    T = lambda *shape: Tensor(rng.normal(size=shape), device=device, requires_grad=True)  # noqa: E731
    if case == "self_lengths":
        x = T(3, 2, 4)
        fn = lambda x, *ps: mha(x, x, x, lengths=[3, 2], average_attn_weights=False)  # noqa: E731
        inputs = (x,)
    elif case == "cross_masks":
        q, kv, am = T(2, 2, 4), T(3, 2, 4), T(2, 3)
        kpm = Tensor(np.array([[False, False, True], [False, False, False]]), device=device)
        fn = lambda q, kv, am, *ps: mha(q, kv, kv, attn_mask=am, key_padding_mask=kpm)  # noqa: E731
        inputs = (q, kv, am)
    else:
        q, k, v = T(2, 2, 4), T(2, 3, 3), T(2, 3, 4)
        fn = lambda q, k, v, *ps: mha(q, k, v)  # noqa: E731
        inputs = (q, k, v)
    assert tr.gradcheck(fn, *inputs, *mha.parameters())
    assert tr.gradgradcheck(fn, *inputs, *mha.parameters())


# ------------------------------------------------------------- state dicts, init, modes
def test_state_dict_round_trip_ours_to_torch_to_ours() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(E, H, add_bias_kv=True, dtype="float64")
    ref = torch.nn.MultiheadAttention(E, H, add_bias_kv=True, dtype=torch.float64)
    ref.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    back = nn.MultiheadAttention(E, H, add_bias_kv=True, dtype="float64")
    back.load_state_dict(ref.state_dict())
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[name], value)
    x = np.random.default_rng(9).normal(size=(L, N, E))
    close(ours(*[Tensor(x)] * 3)[0], ref(*[torch.tensor(x)] * 3)[0], "output")


def test_initialisation_is_pytorchs() -> None:
    mha = nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6.0 / (64 + 3 * 64))  # xavier-uniform on (3E, E)
    w = mha.in_proj_weight.numpy()
    assert w.shape == (192, 64) and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert (mha.in_proj_bias.numpy() == 0).all() and (mha.out_proj.bias.numpy() == 0).all()
    assert np.abs(mha.out_proj.weight.numpy()).max() <= 1 / math.sqrt(64)
    assert isinstance(mha.out_proj, nn.Linear) and mha.in_proj_weight.dtype == np.float32
    sep = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert [(n, p.shape) for n, p in sep.named_parameters()] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 3)), ("v_proj_weight", (8, 5)), ("in_proj_bias", (24,)),
        ("bias_k", (1, 1, 8)), ("bias_v", (1, 1, 8)), ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
    assert sep.in_proj_weight is None
    assert [n for n, _ in nn.MultiheadAttention(8, 2, bias=False).named_parameters()] == [
        "in_proj_weight", "out_proj.weight"]


def test_dropout_on_weights_only_in_training_and_reproducible() -> None:
    mha = nn.MultiheadAttention(E, H, dropout=0.5, dtype="float64")
    x = Tensor(np.random.default_rng(10).normal(size=(L, N, E)))
    tr.manual_seed(1)
    a = mha(x, x, x)[1].numpy()
    tr.manual_seed(1)
    b = mha(x, x, x)[1].numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a.sum(-1), 1.0)  # some weights dropped, the rest scaled by 2
    mha.eval()
    np.testing.assert_allclose(mha(x, x, x)[1].numpy().sum(-1), 1.0, rtol=1e-12)


def test_is_causal_equals_the_causal_mask(device: str) -> None:
    mha = nn.MultiheadAttention(E, H, dtype="float64", device=device)
    x = Tensor(np.random.default_rng(11).normal(size=(L, N, E)), device=device)
    out, w = mha(x, x, x, is_causal=True)
    out_m, w_m = mha(x, x, x, attn_mask=Tensor(np.triu(np.ones((L, L), bool), 1), device=device))
    np.testing.assert_array_equal(out.numpy(), out_m.numpy())
    assert (np.triu(w.numpy(), 1) == 0).all() and w.device == device


# ----------------------------------------------------------------------- checks
@pytest.mark.parametrize("call, error, match", [
    (lambda m, x: m(x[0], x, x), ValueError, r"key has shape \(4, 3, 8\) \(query \(3, 8\)\); expected \(S, 8\), unbatched"),
    (lambda m, x: m(x, x.reshape(4, 3, 2, 4)[:, :, 0], x), ValueError, r"key has shape \(4, 3, 4\).*expected \(S, N, 8\), batched"),
    (lambda m, x: m(x, x[:, :2], x[:, :2]), ValueError, r"batch sizes 3, 2 and 2"),
    (lambda m, x: m(x, x, x[:3]), ValueError, r"key has 4 positions and value 3"),
    (lambda m, x: m(x, x, x, attn_mask=Tensor.zeros(4, 5)), ValueError,
     r"attn_mask has shape \(4, 5\); expected \(L, S\) or \(N\*num_heads, L, S\) = \(4, 4\) or \(6, 4, 4\)"),
    (lambda m, x: m(x, x, x, key_padding_mask=Tensor.zeros(4, 3)), ValueError,
     r"key_padding_mask has shape \(4, 3\); expected \(N, S\) = \(3, 4\)"),
    (lambda m, x: m(x, x, x, key_padding_mask=Tensor([[0, 1, 0, 0]] * 3)), TypeError,
     r"key_padding_mask has dtype int64; expected bool"),
    (lambda m, x: m(x, x, x, lengths=[4, 5, 1]), ValueError, r"expected every length in 1..T = 1..4"),
    (lambda m, x: m(x, x, x, lengths=[4, 1]), ValueError, r"got 2 lengths for a batch of 3"),
    (lambda m, x: m(x.numpy(), x, x), TypeError, r"query is a ndarray; expected a Tensor"),
    (lambda m, x: m(x.reshape(2, 2, 3, 8), x, x), ValueError, r"query has shape \(2, 2, 3, 8\); expected 3-D"),
])
def test_bad_inputs_are_named(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call(nn.MultiheadAttention(8, 2), Tensor.randn(4, 3, 8))


@pytest.mark.parametrize("args, match", [((8, 3), "embed_dim=8 is not divisible by num_heads=3"),
                                         ((0, 1), "embed_dim=0; expected a positive int"),
                                         ((8, 2, 1.0), r"dropout=1.0; expected a probability in \[0, 1\)")])
def test_bad_sizes_are_refused(args, match) -> None:
    with pytest.raises(ValueError, match=match):
        nn.MultiheadAttention(*args)


def test_a_float_list_mask_keeps_the_layers_precision() -> None:
    mha = nn.MultiheadAttention(4, 2, dtype="float64")
    x = Tensor(np.random.default_rng(3).normal(size=(3, 2, 4)))
    mask = np.random.default_rng(4).normal(size=(3, 3))  # float64 values no float32 holds exactly
    want = mha(x, x, x, attn_mask=Tensor(mask), key_padding_mask=Tensor(mask[:2]))
    got = mha(x, x, x, attn_mask=mask.tolist(), key_padding_mask=mask[:2].tolist())  # was rounded to float32 first
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_docstring_example_runs() -> None:
    assert doctest.testmod(attention_module).failed == 0
