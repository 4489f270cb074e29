"""Speaking PyTorch: a script written the PyTorch way runs on tinygrad_rnn with only the
names it is handed changed; tensors move to and from PyTorch, NumPy and JAX through
DLPack without a copy; ``tr.tensor`` is the function, not the submodule."""

from __future__ import annotations

import importlib
import math
import sys

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")


# ------------------------------------------------------------ a PyTorch script, run twice
def language_model_script(torch, nn, F, optim, start=None) -> dict:  # noqa: N803
    """An LSTM language model in the style of pytorch/examples' word_language_model: written for
    PyTorch, and run here unchanged with ``torch, nn, F, optim`` bound to either library.
    ``start(model)`` is called on the new model (to give both runs the same weights).

    Returns the losses, the evaluation loss, an accuracy and sampled tokens."""
    torch.manual_seed(0)
    ntokens, emsize, nhid, bsz, bptt, lr = 11, 8, 12, 3, 5, 10.0
    corpus = torch.tensor([(i * 7 + (i // 5)) % ntokens for i in range(200)], dtype=torch.long)

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(ntokens, emsize)
            self.rnn = nn.LSTM(emsize, nhid, num_layers=2)
            self.decoder = nn.Linear(nhid, ntokens)

        def forward(self, x, hidden):
            emb = self.encoder(x)
            output, hidden = self.rnn(emb, hidden)
            decoded = self.decoder(output.view(-1, output.size(2)))
            return decoded.view(output.size(0), output.size(1), -1), hidden

        def init_hidden(self, bsz):
            weight = self.decoder.weight
            return (weight.new_zeros(2, bsz, nhid), weight.new_zeros(2, bsz, nhid))

    def batchify(data, bsz):
        nbatch = data.size(0) // bsz
        data = data.narrow(0, 0, nbatch * bsz)
        return data.view(bsz, -1).t().contiguous()

    def get_batch(source, i):
        seq_len = min(bptt, len(source) - 1 - i)
        return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)

    def repackage_hidden(h):
        return tuple(v.detach() for v in h)

    model = RNNModel().to(dtype=torch.float64)
    start(model)
    train_data = batchify(corpus[:150], bsz)
    val_data = batchify(corpus[150:], bsz)
    losses = []
    model.train()
    for _epoch in range(4):
        hidden = model.init_hidden(bsz)
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i)
            hidden = repackage_hidden(hidden)
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = F.cross_entropy(output.view(-1, ntokens), targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(p.grad, alpha=-lr)
            losses.append(loss.item())

    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        hidden = model.init_hidden(bsz)
        for i in range(0, val_data.size(0) - 1, bptt):
            data, targets = get_batch(val_data, i)
            output, hidden = model(data, hidden)
            flat = output.view(-1, ntokens)
            total += len(data) * F.cross_entropy(flat, targets).item()
            correct += (flat.max(1)[1] == targets).sum().item()
            count += targets.numel()
        hidden = model.init_hidden(1)
        token = torch.randint(ntokens, (1, 1), dtype=torch.long)
        words = []
        for _ in range(8):
            output, hidden = model(token, hidden)
            weights = output.squeeze().div(0.8).exp()
            word = torch.multinomial(weights, 1)[0]
            token.fill_(word)
            words.append(int(word))
    return {"losses": losses, "val": total / (len(val_data) - 1), "accuracy": correct / count, "words": words}


def test_a_pytorch_language_model_script_runs_unchanged_and_tracks_pytorch() -> None:
    weights = {}
    theirs = language_model_script(torch, torch.nn, torch.nn.functional, torch.optim, start=lambda m: weights.update(
        {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}))
    ours = language_model_script(tr, tr.nn, tr.nn.functional, tr.optim, start=lambda m: m.load_state_dict(weights))
    assert len(ours["losses"]) == 40
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-10)
    assert np.mean(theirs["losses"][-10:]) < 0.8 * np.mean(theirs["losses"][:10])  # it learns
    assert math.isclose(ours["val"], theirs["val"], rel_tol=1e-10) and ours["accuracy"] == theirs["accuracy"]
    assert len(ours["words"]) == 8 and all(0 <= w < 11 for w in ours["words"])  # sampled: its own generator


# ------------------------------------------------------------ DLPack
def test_dlpack_with_pytorch_shares_memory_both_ways() -> None:
    ours = Tensor([1.0, 2.0, 3.0])
    theirs = torch.from_dlpack(ours)
    theirs[0] = 10.0
    assert ours.tolist() == [10.0, 2.0, 3.0] and theirs.data_ptr() == ours.data.ctypes.data
    source = torch.arange(4.0, dtype=torch.float64)
    back = tr.from_dlpack(source)
    back[1] = 7.0
    assert source.tolist() == [0.0, 7.0, 2.0, 3.0] and back.dtype == tr.float64
    assert tr.from_dlpack(torch.tensor([True, False])).dtype == tr.bool
    assert tr.from_dlpack(torch.arange(6).reshape(2, 3).t()).tolist() == [[0, 3], [1, 4], [2, 5]]  # strided


def test_dlpack_with_numpy_shares_memory_both_ways() -> None:  # NumPy reads host memory: CPU tensors only
    ours = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.shares_memory(np.from_dlpack(ours), ours.data)
    array = np.arange(4, dtype=np.int32)
    imported = tr.from_dlpack(array)
    imported[0] = -1
    assert array[0] == -1 and imported.device == "cpu" and imported.dtype == tr.int32


def test_dlpack_with_jax() -> None:
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    source = jnp.arange(16.0, dtype=jnp.float32)
    imported = tr.from_dlpack(source)
    assert imported.tolist() == list(range(16)) and imported.data.ctypes.data == source.unsafe_buffer_pointer()
    exported = jax.dlpack.from_dlpack(Tensor([1.0, 2.0]))  # JAX copies host memory that is not 64-byte aligned
    assert exported.tolist() == [1.0, 2.0]


def test_dlpack_refusals_say_why() -> None:
    with pytest.raises(RuntimeError, match=r"cannot lend a tensor that requires grad .* expected t.detach\(\)"):
        torch.from_dlpack(Tensor([1.0], requires_grad=True))
    assert torch.from_dlpack(Tensor([1.0], requires_grad=True).detach()).tolist() == [1.0]
    with pytest.raises(TypeError, match="expected an array with __dlpack__ and __dlpack_device__"):
        tr.from_dlpack([1.0, 2.0])
    with pytest.raises(TypeError, match="not a DLPack capsule: pass the array itself"):
        tr.from_dlpack(torch.utils.dlpack.to_dlpack(torch.ones(2)))
    alias = tr.from_dlpack(Tensor([1.0, 2.0]))
    assert alias.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match=r"tr.jit: .*DLPack inside a jitted function"):
        tr.jit(lambda x: torch.from_dlpack(x * 2.0))(Tensor([1.0, 1.0]))


# ------------------------------------------------------------ the package's names
def test_tr_tensor_is_the_function_and_the_module_still_imports() -> None:
    assert callable(tr.tensor) and tr.tensor([1.0]).tolist() == [1.0]
    module = importlib.import_module("tinygrad_rnn.tensor")
    assert module is sys.modules["tinygrad_rnn.tensor"] and module.Tensor is Tensor
    from tinygrad_rnn.tensor import Tensor as T2

    assert T2 is Tensor and tr.Tensor is Tensor


def test_star_import_does_not_shadow_builtins() -> None:
    names: dict = {}
    exec("from tinygrad_rnn import *", names)  # noqa: S102
    assert not {"float", "int", "bool", "max", "min", "sum", "abs", "all", "any"} & set(names)
    assert {"tensor", "zeros", "float32", "long", "device", "tanh", "cat"} <= set(names)
