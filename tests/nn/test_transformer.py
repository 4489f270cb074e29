"""nn.TransformerEncoderLayer, nn.TransformerEncoder, nn.PositionalEncoding: PyTorch as oracle
(pre- and post-norm, relu and gelu, padding masks, eval mode), lengths, finite differences."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import transformer as transformer_module

D, HEADS, FF, T, B = 8, 2, 16, 5, 3
LENGTHS = [T, 2, 4]


def randomize(module, seed: int = 0) -> None:
    """Every torch parameter random, so that no bias or LayerNorm weight is left at 0 or 1."""
    import torch

    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(rng.normal(scale=0.4, size=tuple(p.shape))))


def torch_layer(**kwargs):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dtype=torch.float64, **kwargs)
    randomize(ref)
    return ref.eval()


def layout(x: np.ndarray, batch_first: bool) -> np.ndarray:
    return x.transpose(1, 0, 2) if batch_first else x


def compare_grads(ours, ref, rtol: float = 1e-9) -> None:
    theirs = dict(ref.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=rtol, atol=1e-11, err_msg=name)


CASES = [(masks, False) for masks in ("none", "padding", "float_mask+padding", "causal")] + [
    ("padding", True), ("causal", True)]


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masks, batch_first", CASES, ids=[f"{m}-{'batch_first' if b else 'T_first'}" for m, b in CASES])
def test_encoder_layer_matches_torch_in_eval_mode(norm_first, activation, masks, batch_first) -> None:
    import torch

    kwargs = {"norm_first": norm_first, "activation": activation, "batch_first": batch_first}
    ref = torch_layer(**kwargs)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, dtype="float64", **kwargs).eval()
    layer.load_state_dict(ref.state_dict())
    rng = np.random.default_rng(1)
    x = layout(rng.normal(size=(T, B, D)), batch_first)
    t_kw, o_kw = {}, {}
    if "padding" in masks:
        kpm = np.arange(T)[None] >= np.array(LENGTHS)[:, None]
        t_kw["src_key_padding_mask"], o_kw["src_key_padding_mask"] = torch.tensor(kpm), Tensor(kpm)
    if "float_mask" in masks:
        m = rng.normal(size=(T, T))
        t_kw["src_mask"], o_kw["src_mask"] = torch.tensor(m), Tensor(m)
    if masks == "causal":
        t_kw.update(src_mask=torch.tensor(np.triu(np.ones((T, T), bool), 1)), is_causal=True)
        o_kw["is_causal"] = True
    # grad enabled and parameters requiring grad: torch takes its math path, not the eval fast path
    x_t = torch.tensor(x, requires_grad=True)
    y_t = ref(x_t, **t_kw)
    x_o = Tensor(x, requires_grad=True)
    y = layer(x_o, **o_kw)
    np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    R = rng.normal(size=x.shape)
    (y_t * torch.tensor(R)).sum().backward()
    (y * Tensor(R)).sum().backward()
    np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=1e-9, atol=1e-11)
    compare_grads(layer, ref)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_lengths_match_torch_padding_mask_on_real_positions_and_are_zero_elsewhere(norm_first, device) -> None:
    import torch

    ref = torch_layer(norm_first=norm_first, activation="gelu")
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, activation="gelu", norm_first=norm_first, dtype="float64",
                                       device=device).eval()
    layer.load_state_dict(ref.state_dict())
    rng = np.random.default_rng(2)
    x = rng.normal(size=(T, B, D))
    real = np.arange(T)[:, None] < np.array(LENGTHS)[None]  # (T, B)
    R = rng.normal(size=x.shape)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = ref(x_t, src_key_padding_mask=torch.tensor(~real.T))
    (y_t * torch.tensor(R * real[..., None])).sum().backward()  # a loss on real positions only
    x_o = Tensor(x, device=device, requires_grad=True)
    y = layer(x_o, lengths=LENGTHS)
    (y * Tensor(R, device=device)).sum().backward()  # every position: padded ones are 0 anyway
    np.testing.assert_allclose(y.numpy()[real], y_t.detach().numpy()[real], rtol=1e-10, atol=1e-12)
    assert (y.numpy()[~real] == 0).all()
    assert (x_o.grad.numpy()[~real] == 0).all()  # exactly: padded positions get no gradient
    np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=1e-9, atol=1e-11)
    compare_grads(layer, ref)


def test_encoder_stack_matches_torch_and_has_its_names() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    proto = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dtype=torch.float64, batch_first=True)
    ref = torch.nn.TransformerEncoder(proto, 2, norm=torch.nn.LayerNorm(D, dtype=torch.float64),
                                      enable_nested_tensor=False)
    randomize(ref)
    ref.eval()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True, dtype="float64"), 2,
                                 norm=nn.LayerNorm(D, dtype="float64")).eval()
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.load_state_dict(ref.state_dict())
    rng = np.random.default_rng(3)
    x = rng.normal(size=(B, T, D))
    kpm = np.arange(T)[None] >= np.array(LENGTHS)[:, None]
    x_t = torch.tensor(x, requires_grad=True)
    y_t = ref(x_t, src_key_padding_mask=torch.tensor(kpm))
    x_o = Tensor(x, requires_grad=True)
    y = ours(x_o, src_key_padding_mask=Tensor(kpm))
    np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    R = rng.normal(size=x.shape)
    (y_t * torch.tensor(R)).sum().backward()
    (y * Tensor(R)).sum().backward()
    np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=1e-9, atol=1e-11)
    compare_grads(ours, ref)
    y_len = ours(x_o, lengths=LENGTHS)  # lengths: the same at real positions, 0 after the final norm too
    np.testing.assert_allclose(y_len.numpy()[~kpm], y.numpy()[~kpm], rtol=1e-12)
    assert (y_len.numpy()[kpm] == 0).all()


def test_encoder_copies_start_equal_and_train_apart() -> None:
    layer = nn.TransformerEncoderLayer(4, 2, 6)
    enc = nn.TransformerEncoder(layer, 3)
    sd = enc.state_dict()
    for name, value in layer.state_dict().items():
        for k in range(3):
            np.testing.assert_array_equal(sd[f"layers.{k}.{name}"], value)
    assert len({id(p) for p in enc.parameters()}) == len(list(enc.parameters())) == 3 * len(list(layer.parameters()))
    assert all(p.backend is q.backend for p, q in zip(enc.parameters(), list(layer.parameters()) * 3, strict=True))
    assert all(isinstance(p, nn.Parameter) for p in enc.parameters())
    enc(Tensor.randn(5, 2, 4)).sum().backward()  # one tape through three copies
    assert all(p.grad is not None for p in enc.parameters()) and layer.linear1.weight.grad is None


def test_state_dict_round_trip_ours_to_torch_to_ours() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.TransformerEncoderLayer(D, HEADS, FF, dtype="float64").eval()
    ref = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dtype=torch.float64).eval()
    ref.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    back = nn.TransformerEncoderLayer(D, HEADS, FF, dtype="float64")
    back.load_state_dict(ref.state_dict())
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[name], value)
    x = np.random.default_rng(4).normal(size=(T, B, D))
    with torch.no_grad():
        np.testing.assert_allclose(ours(Tensor(x)).numpy(), ref(torch.tensor(x)).numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_only_in_training_mode_and_reproducible() -> None:
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.3, dtype="float64")
    x = Tensor(np.random.default_rng(5).normal(size=(T, B, D)))
    tr.manual_seed(7)
    a = layer(x).numpy()
    tr.manual_seed(7)
    np.testing.assert_array_equal(layer(x).numpy(), a)
    layer.eval()
    e1, e2 = layer(x).numpy(), layer(x).numpy()
    np.testing.assert_array_equal(e1, e2)
    assert not np.allclose(a, e1)
    assert [m.p for m in (layer.dropout, layer.dropout1, layer.dropout2)] == [0.3] * 3 and layer.self_attn.dropout == 0.3
    assert all(type(m) is nn.Dropout for m in (layer.dropout, layer.dropout1, layer.dropout2))  # PyTorch's classes


def test_unbatched_input_and_callable_activation() -> None:
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, activation=lambda h: h.tanh(), dtype="float64").eval()
    x = np.random.default_rng(6).normal(size=(T, D))
    y = layer(Tensor(x), lengths=3)
    batched = layer(Tensor(x[:, None]), lengths=[3])
    np.testing.assert_allclose(y.numpy(), batched.numpy()[:, 0], rtol=1e-12)
    assert (y.numpy()[3:] == 0).all() and y.shape == (T, D)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_gradcheck_and_gradgradcheck(norm_first, device: str) -> None:
    rng = np.random.default_rng(8)
    layer = nn.TransformerEncoderLayer(4, 2, 6, activation="gelu", norm_first=norm_first, dtype="float64",
                                       device=device).eval()
    for p in layer.parameters():
        p.data = Tensor(rng.normal(scale=0.5, size=p.shape), device=device).data
    x = Tensor(rng.normal(size=(3, 2, 4)), device=device, requires_grad=True)
    fn = lambda x, *ps: layer(x, lengths=[3, 2])  # noqa: E731
    assert tr.gradcheck(fn, x, *layer.parameters())
    # second derivatives: through attention, both LayerNorms and GELU (a few weights keep it quick)
    assert tr.gradgradcheck(fn, x, layer.self_attn.in_proj_weight, layer.norm1.weight, layer.linear1.bias)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"activation='tanh'; expected 'relu' or 'gelu' or a callable"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(ValueError, match="dim_feedforward=0; expected a positive int"):
        nn.TransformerEncoderLayer(4, 2, 0)
    with pytest.raises(ValueError, match="embed_dim=4 is not divisible by num_heads=3"):
        nn.TransformerEncoderLayer(4, 3)
    with pytest.raises(TypeError, match="encoder_layer is a int; expected a Module"):
        nn.TransformerEncoder(3, 2)
    with pytest.raises(ValueError, match=r"got 2 lengths for a batch of 3"):
        nn.TransformerEncoderLayer(4, 2, 6)(Tensor.zeros(5, 3, 4), lengths=[5, 5])


# ------------------------------------------------------------------ positional encoding
@pytest.mark.parametrize("d_model", [16, 5])
def test_positional_table_is_the_formula(d_model: int) -> None:
    pe = nn.PositionalEncoding(d_model, max_len=1000, dtype="float64")
    pos = np.arange(1000)[:, None]
    angle = pos / 10000.0 ** (2 * np.arange((d_model + 1) // 2)[None] / d_model)
    table = np.stack([np.sin(angle), np.cos(angle)], axis=-1).reshape(1000, -1)[:, :d_model]
    np.testing.assert_allclose(pe.pe.numpy(), table, rtol=0, atol=1e-12)
    assert pe.state_dict() == {} and list(pe.parameters()) == []
    assert len({tuple(np.round(r, 9)) for r in pe.pe.numpy()}) == 1000  # every position its own code


def test_positional_encoding_adds_the_table_in_every_layout(device: str) -> None:
    pe = nn.PositionalEncoding(6, max_len=20, device=device, dtype="float64")
    table = pe.pe.numpy()
    x = np.random.default_rng(9).normal(size=(7, 3, 6))
    np.testing.assert_allclose(pe(Tensor(x, device=device)).numpy(), x + table[:7, None], rtol=1e-14)
    np.testing.assert_allclose(pe(Tensor(x[:, 0], device=device)).numpy(), x[:, 0] + table[:7], rtol=1e-14)
    pe_bf = nn.PositionalEncoding(6, max_len=20, batch_first=True, device=device, dtype="float64")
    xb = x.transpose(1, 0, 2)
    np.testing.assert_allclose(pe_bf(Tensor(xb, device=device)).numpy(), xb + table[None, :7], rtol=1e-14)
    x32 = Tensor(x, device=device).float()
    assert pe(x32).dtype == np.float32  # the table follows the input's dtype
    x_o = Tensor(x, device=device, requires_grad=True)
    assert tr.gradcheck(lambda x: pe(x), x_o)


def test_positional_encoding_follows_to_and_drops_out_in_training() -> None:
    pe = nn.PositionalEncoding(4, max_len=8, dropout=0.5)
    assert type(pe.dropout) is nn.Dropout and pe.dropout.p == 0.5
    assert pe.pe.dtype == np.float32
    pe.to(dtype="float64")
    assert pe.pe.dtype == np.float64
    x = Tensor.ones(8, 2, 4, dtype="float64")
    y = pe(x).numpy()
    assert (y == 0).any() and pe.training
    pe.eval()
    np.testing.assert_allclose(pe(x).numpy(), 1.0 + np.broadcast_to(pe.pe.numpy()[:, None], (8, 2, 4)), rtol=1e-14)


def test_positional_encoding_checks() -> None:
    pe = nn.PositionalEncoding(4, max_len=8)
    with pytest.raises(ValueError, match=r"input has shape \(9, 2, 4\); expected \(T, N, d_model\).*T <= 8"):
        pe(Tensor.zeros(9, 2, 4))
    with pytest.raises(ValueError, match=r"input has shape \(3, 2, 5\)"):
        pe(Tensor.zeros(3, 2, 5))
    with pytest.raises(ValueError, match="max_len=0; expected a positive int"):
        nn.PositionalEncoding(4, max_len=0)
    with pytest.raises(TypeError, match="input has dtype int64; expected a floating-point Tensor"):
        pe(Tensor.zeros(3, 2, 4, dtype="int64"))  # the table cast to int64 would be silently truncated


def test_docstring_examples_run() -> None:
    assert doctest.testmod(transformer_module).failed == 0
