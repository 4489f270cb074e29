"""nn.module_state: buffers in state dicts, loading into buffers, moving them; tied
weights trained once and saved under both names; tied state dicts moving both ways
between PyTorch and tinygrad_rnn, and a tied LSTM language model written once for both
libraries training identically in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn


def with_buffers(lib: Any, torch: Any = None) -> Any:
    """A module with a persistent and a non-persistent buffer, built with ``lib`` (ours or torch.nn)."""
    make = torch.tensor if torch is not None else Tensor

    class Normalizer(lib.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = lib.Linear(2, 2)
            self.register_buffer("mean", make([0.5, -0.5]))
            self.register_buffer("count", make([3]))  # an integer buffer
            self.register_buffer("cache", make([1.0, 1.0]), persistent=False)
            self.register_buffer("unused", None)
            self.scale = lib.Parameter(make([2.0, 2.0]))

        def forward(self, x: Any) -> Any:
            return self.proj(x - self.mean) * self.scale

    class Model(lib.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = Normalizer()
            self.head = lib.Linear(2, 1)
            self.register_buffer("step", make([0.0]))
    return Model()


def test_state_dict_keys_and_buffer_traversals_match_torch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = with_buffers(nn), with_buffers(torch.nn, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert "norm.cache" not in ours.state_dict() and "norm.cache" in dict(ours.named_buffers())
    assert ours.state_dict()["norm.count"].dtype == np.int64


def test_torch_state_dict_with_buffers_loads_and_round_trips() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = with_buffers(nn), with_buffers(torch.nn, torch)
    with torch.no_grad():
        theirs.norm.mean.fill_(0.25)
        theirs.norm.count.fill_(7)
    result = ours.load_state_dict(theirs.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == [] and tuple(result) == ([], [])
    assert ours.norm.mean.tolist() == [0.25, 0.25] and ours.norm.count.tolist() == [7]
    assert ours.norm.count.dtype == np.int64  # cast to the buffer's own dtype
    fresh = with_buffers(torch.nn, torch)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(3, 2)).astype(np.float32)
    np.testing.assert_allclose(ours.norm(Tensor(x)).numpy(), fresh.norm(torch.tensor(x)).detach().numpy(), rtol=1e-6)


def test_missing_buffer_is_a_missing_key() -> None:
    model = with_buffers(nn)
    sd = model.state_dict()
    del sd["norm.mean"]
    with pytest.raises(KeyError, match=r"missing keys \['norm.mean'\]"):
        model.load_state_dict(sd)
    assert model.load_state_dict(sd, strict=False).missing_keys == ["norm.mean"]


def test_to_moves_buffers_and_casts_only_floating_ones() -> None:
    model = with_buffers(nn).to("strict", "float64")
    assert all(b.device == "strict" for b in model.buffers())
    assert model.norm.mean.dtype == np.float64 and model.norm.cache.dtype == np.float64
    assert model.norm.count.dtype == np.int64
    out = model.norm(Tensor(np.ones((1, 2)), device="strict"))
    assert out.device == "strict" and out.dtype == np.float64


def test_assigning_a_tensor_to_a_buffer_replaces_it_and_keeps_it_registered() -> None:
    model = with_buffers(nn)
    model.norm.mean = Tensor([9.0, 9.0])
    assert model.state_dict()["norm.mean"].tolist() == [9.0, 9.0]
    model.norm.mean = None
    assert "norm.mean" not in model.state_dict()
    with pytest.raises(TypeError, match=r"cannot assign a list to 'mean'; expected a Tensor or None"):
        model.norm.mean = [1.0]
    del model.norm.mean
    assert "mean" not in model.norm._buffers


def test_state_dict_keep_vars_prefix_and_destination() -> None:
    model = nn.Linear(2, 1)
    kept = model.state_dict(keep_vars=True)
    assert kept["weight"] is model.weight
    out: dict = {"other": 1}
    assert model.state_dict(destination=out, prefix="lin.") is out
    assert list(out) == ["other", "lin.weight", "lin.bias"]


# ------------------------------------------------------------------------ tied weights
class TiedLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Embedding(5, 3)
        self.decoder = nn.Linear(3, 5)
        self.decoder.weight = self.encoder.weight


def test_tied_parameter_is_trained_once_and_saved_under_both_names() -> None:
    model = TiedLM()
    assert model.decoder.weight is model.encoder.weight
    assert [n for n, _ in model.named_parameters()] == ["encoder.weight", "decoder.bias"]
    assert [n for n, _ in model.named_parameters(remove_duplicate=False)] == ["encoder.weight", "decoder.weight",
                                                                               "decoder.bias"]
    sd = model.state_dict()
    assert list(sd) == ["encoder.weight", "decoder.weight", "decoder.bias"]
    np.testing.assert_array_equal(sd["encoder.weight"], sd["decoder.weight"])
    opt = tr.optim.SGD(model.parameters(), lr=0.1)
    assert len(opt.params) == 2


def test_tied_state_dict_loads_with_both_keys_or_one() -> None:
    source, target = TiedLM(), TiedLM()
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target.decoder.weight.numpy(), source.encoder.weight.numpy())
    assert target.decoder.weight is target.encoder.weight  # loading copies values: the tie stays
    only_one = {k: v + 1.0 for k, v in source.state_dict().items() if k != "decoder.weight"}
    result = target.load_state_dict(only_one, strict=False)
    assert result.missing_keys == ["decoder.weight"]
    np.testing.assert_array_equal(target.decoder.weight.numpy(), only_one["encoder.weight"])


def language_model(lib: Any, vocab: int, hidden: int) -> Any:
    """A word-language model with tied embedding and decoder, written the PyTorch way;
    ``lib`` is ``torch.nn`` or ``tinygrad_rnn.nn``: nothing else differs."""

    class RNNModel(lib.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = lib.Dropout(0.0)
            self.encoder = lib.Embedding(vocab, hidden)
            self.rnn = lib.LSTM(hidden, hidden, num_layers=2)
            self.decoder = lib.Linear(hidden, vocab)
            self.decoder.weight = self.encoder.weight

        def forward(self, x: Any) -> Any:
            emb = self.drop(self.encoder(x))
            output, _ = self.rnn(emb)
            return self.decoder(self.drop(output))
    return RNNModel()


def test_tied_state_dicts_move_both_ways_between_torch_and_ours() -> None:
    torch = pytest.importorskip("torch")
    theirs, ours = language_model(torch.nn, 7, 4), language_model(nn, 7, 4)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours.decoder.weight.numpy(), theirs.encoder.weight.detach().numpy())
    back = language_model(torch.nn, 7, 4)
    back.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert back.decoder.weight is back.encoder.weight
    x = np.random.default_rng(0).integers(0, 7, size=(5, 2))
    np.testing.assert_allclose(back(torch.tensor(x)).detach().numpy(), ours(Tensor(x)).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_tied_language_model_trains_like_torch_in_float64() -> None:
    torch = pytest.importorskip("torch")
    vocab, hidden = 11, 6
    theirs = language_model(torch.nn, vocab, hidden).double()
    ours = language_model(nn, vocab, hidden).double()
    ours.load_state_dict(theirs.state_dict())
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.5)
    opt = tr.optim.SGD(ours.parameters(), lr=0.5)
    crit_t, crit = torch.nn.CrossEntropyLoss(), nn.CrossEntropyLoss()
    rng = np.random.default_rng(1)
    for _ in range(3):
        tokens = rng.integers(0, vocab, size=(7, 3))
        x, y = tokens[:-1], tokens[1:]
        opt_t.zero_grad()
        loss_t = crit_t(theirs(torch.tensor(x)).reshape(-1, vocab), torch.tensor(y).reshape(-1))
        loss_t.backward()
        opt.zero_grad()
        loss = crit(ours(Tensor(x)).reshape(-1, vocab), Tensor(y).reshape(-1))
        loss.backward()
        np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-12)
        grad_t = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():  # the tied weight's gradient sums both uses
            np.testing.assert_allclose(p.grad.numpy(), grad_t[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=name)
        opt_t.step()
        opt.step()
    assert ours.decoder.weight is ours.encoder.weight
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, theirs.state_dict()[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
