"""DataLoader: the same batches as PyTorch's on deterministic loaders (contents, shapes,
dtypes, len, drop_last), seeded shuffles, PyTorch's argument checks, and a ragged batch
run end to end through pad_collate and nn.GRU against PyTorch."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest
from torch_compare import plain

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.utils import data
from tinygrad_rnn.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, pad_collate


class Stream(IterableDataset):
    def __init__(self, n: int, sized: bool = True) -> None:
        self.n, self.sized = n, sized

    def __iter__(self):
        return iter({"i": i, "x": [float(i), -float(i)]} for i in range(self.n))

    def __len__(self) -> int:
        if not self.sized:
            raise TypeError("this stream has no length")
        return self.n


def datasets(lib: str) -> dict:
    """The same datasets for both libraries (tensor datasets hold each library's tensors)."""
    x, y = np.arange(21.0).reshape(7, 3), np.array([0, 1, 1, 0, 2, 2, 1])
    if lib == "torch":
        import torch
        from torch.utils.data import IterableDataset as TorchIterable
        from torch.utils.data import TensorDataset as TorchTensorDataset

        class TorchStream(TorchIterable):
            def __iter__(self):
                return iter({"i": i, "x": [float(i), -float(i)]} for i in range(7))

            def __len__(self) -> int:
                return 7

        tensors, stream = TorchTensorDataset(torch.tensor(x), torch.tensor(y)), TorchStream()
    else:
        tensors, stream = TensorDataset(Tensor(x), Tensor(y)), Stream(7)
    return {
        "tensor dataset": tensors,
        "list of pairs": [(x[i].astype(np.float32), int(y[i])) for i in range(7)],
        "list of dicts": [{"id": i, "w": float(i) / 2, "tag": f"s{i}"} for i in range(7)],
        "range": range(7),
        "iterable": stream,
    }


@pytest.mark.parametrize("case", list(datasets("tr")))
@pytest.mark.parametrize(("batch_size", "drop_last"), [(1, False), (3, False), (3, True), (7, True), (10, False),
                                                       (10, True), (None, False)])
def test_batches_match_pytorch(case: str, batch_size: int | None, drop_last: bool) -> None:
    torch = pytest.importorskip("torch")
    ours = DataLoader(datasets("tr")[case], batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(datasets("torch")[case], batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    for _ in range(2):  # a loader can be iterated again
        assert [plain(b) for b in ours] == [plain(b) for b in theirs]
    assert (ours.batch_size, ours.drop_last) == (theirs.batch_size, theirs.drop_last)


@pytest.mark.parametrize("kwargs", [
    {"sampler": [6, 0, 3, 3]},
    {"sampler": [6, 0, 3], "batch_size": 2},
    {"batch_sampler": [[5, 1], [0], [2, 3, 4]]},
    {"sampler": [2, 1], "batch_size": None},
])
def test_given_samplers_match_pytorch(kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    ours = DataLoader(datasets("tr")["tensor dataset"], **kwargs)
    theirs = torch.utils.data.DataLoader(datasets("torch")["tensor dataset"], **kwargs)
    assert [plain(b) for b in ours] == [plain(b) for b in theirs] and len(ours) == len(theirs)
    assert (ours.batch_size, ours.drop_last) == (theirs.batch_size, theirs.drop_last)


def test_shuffle_is_a_fresh_seeded_permutation_every_epoch() -> None:
    ds = TensorDataset(Tensor.arange(50))
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=tr.Generator().manual_seed(0))
    epochs = [[i for (batch,) in loader for i in batch.tolist()] for _ in range(3)]
    assert all(sorted(e) == list(range(50)) for e in epochs) and epochs[0] != epochs[1]
    assert [len(b) for (b,) in loader] == [8] * 6 + [2] and len(loader) == 7
    again = DataLoader(ds, batch_size=8, shuffle=True, generator=tr.Generator().manual_seed(0))
    assert [[i for (batch,) in again for i in batch.tolist()] for _ in range(3)] == epochs
    tr.manual_seed(1)
    first = [b.tolist() for (b,) in DataLoader(ds, batch_size=8, shuffle=True, drop_last=True)]
    tr.manual_seed(1)
    assert [b.tolist() for (b,) in DataLoader(ds, batch_size=8, shuffle=True, drop_last=True)] == first
    assert all(len(b) == 8 for b in first) and len(first) == 6


def test_a_resumed_run_shuffles_as_the_uninterrupted_one(tmp_path) -> None:
    """The global generator is in every checkpoint; a Generator's state goes in the extras."""
    ds, g = range(12), tr.Generator().manual_seed(3)
    model = nn.Linear(1, 1)
    loaders = [DataLoader(ds, batch_size=4, shuffle=True), DataLoader(ds, batch_size=4, shuffle=True, generator=g)]
    for loader in loaders:
        list(loader)  # epoch 1
    tr.save_checkpoint(tmp_path / "run.npz", model, extra={"loader_rng": g.get_state()})
    straight = [[b.tolist() for b in loader] for loader in loaders]  # epoch 2, uninterrupted
    tr.manual_seed(99)  # a new process would start elsewhere
    info = tr.load_checkpoint(tmp_path / "run.npz", model)
    g2 = tr.Generator().set_state(info["extra"]["loader_rng"])
    resumed = [DataLoader(ds, batch_size=4, shuffle=True), DataLoader(ds, batch_size=4, shuffle=True, generator=g2)]
    assert [[b.tolist() for b in loader] for loader in resumed] == straight


def test_a_stream_without_length_batches_but_has_no_len() -> None:
    loader = DataLoader(Stream(5, sized=False), batch_size=2)
    assert [b["i"].tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError, match="no length"):
        len(loader)


def test_a_dataset_with_getitems_is_read_a_batch_at_a_time() -> None:
    class Batched(Dataset):
        calls: list = []

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [float(i) for i in indices]

        def __len__(self) -> int:
            return 5

    ds = Batched()
    assert [b.tolist() for b in DataLoader(ds, batch_size=2)] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert ds.calls == [[0, 1], [2, 3], [4]]


def test_custom_collate_fn() -> None:
    loader = DataLoader(range(5), batch_size=2, collate_fn=lambda batch: sum(batch))
    assert list(loader) == [1, 5, 4]


def test_num_workers_is_accepted_with_a_warning_and_the_same_batches() -> None:
    with pytest.warns(UserWarning, match="num_workers=2, but tinygrad_rnn has no worker processes"):
        loader = DataLoader(range(5), batch_size=2, num_workers=2, prefetch_factor=2, persistent_workers=True,
                            pin_memory=True)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(range(5), num_workers=0, pin_memory=True)  # nothing to say without workers


@pytest.mark.parametrize("kwargs", [
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_sampler": [[0, 1]], "drop_last": True},
    {"batch_sampler": [[0, 1]], "shuffle": True},
    {"batch_sampler": [[0, 1]], "sampler": [0]},
    {"batch_size": None, "drop_last": True},
    {"prefetch_factor": 2},
    {"persistent_workers": True},
    {"num_workers": -1},
    {"batch_size": 0},
    {"batch_size": -3},
    {"timeout": -1},
    {"iterable": True, "shuffle": True},
    {"iterable": True, "sampler": [0]},
    {"iterable": True, "batch_sampler": [[0]]},
    {"empty": True, "shuffle": True},
])
def test_what_pytorch_refuses_is_refused_with_a_value_error(kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    kwargs = dict(kwargs)
    iterable, empty = kwargs.pop("iterable", False), kwargs.pop("empty", False)
    ours = Stream(3) if iterable else [] if empty else list(range(4))
    theirs = datasets("torch")["iterable"] if iterable else ours
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(theirs, **kwargs)
    with pytest.raises(ValueError, match="DataLoader|RandomSampler"):
        DataLoader(ours, **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"shuffle": "yes"}, "shuffle='yes' is a str; expected True, False or None"),
    ({"drop_last": 1}, "drop_last=1 is a int; expected True or False"),
    ({"collate_fn": 3}, "collate_fn is a int; expected a function"),
    ({"generator": 0}, "DataLoader: generator is a builtins.int; expected a tr.Generator"),
])
def test_wrong_kinds_of_arguments_are_type_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        DataLoader(range(4), **kwargs)


def test_importable_both_ways_and_docstring_examples_run() -> None:
    assert tr.utils.data.DataLoader is DataLoader and tr.Generator is tr.random.Generator
    for module in (data.dataloader, data.dataset, data.sampler, data.collate):
        assert doctest.testmod(module).failed == 0, module.__name__


# ------------------------------------------------------------- end to end, against PyTorch
class Ragged(Dataset):
    """Sequences of 1..6 steps of 3 features, each with a class label."""

    def __init__(self, n: int) -> None:
        gen = np.random.default_rng(0)
        self.items = [(gen.standard_normal((int(gen.integers(1, 7)), 3)), int(gen.integers(0, 4))) for _ in range(n)]

    def __getitem__(self, i: int):
        x, y = self.items[i]
        return Tensor(x), y

    def __len__(self) -> int:
        return len(self.items)


def test_ragged_sequences_train_a_gru_through_pad_collate_like_pytorch() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t_gru, t_head = torch.nn.GRU(3, 5, dtype=torch.float64), torch.nn.Linear(5, 4, dtype=torch.float64)
    gru, head = nn.GRU(3, 5, dtype="float64"), nn.Linear(5, 4, dtype="float64")
    gru.load_state_dict(t_gru.state_dict())
    head.load_state_dict(t_head.state_dict())
    params = list(gru.parameters()) + list(head.parameters())
    opt = optim.SGD(params, lr=0.1)
    t_opt = torch.optim.SGD(list(t_gru.parameters()) + list(t_head.parameters()), lr=0.1)
    ds = Ragged(10)

    def torch_collate(batch):
        seqs = [torch.tensor(x.numpy()) for x, _ in batch]
        return (torch.nn.utils.rnn.pad_sequence(seqs), [len(s) for s in seqs],
                torch.tensor([y for _, y in batch]))

    losses, t_losses = [], []
    ours = DataLoader(ds, batch_size=4, collate_fn=pad_collate)
    theirs = torch.utils.data.DataLoader(ds, batch_size=4, collate_fn=torch_collate)
    for (x, lengths, y), (tx, t_lengths, ty) in zip(ours, theirs, strict=True):
        assert lengths == t_lengths and x.shape == tuple(tx.shape)
        opt.zero_grad()
        _, h_n = gru(x, lengths=lengths)
        loss = nn.functional.cross_entropy(head(h_n[-1]), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())

        t_opt.zero_grad()
        packed = torch.nn.utils.rnn.pack_padded_sequence(tx, t_lengths, enforce_sorted=False)
        _, t_h = t_gru(packed)
        t_loss = torch.nn.functional.cross_entropy(t_head(t_h[-1]), ty)
        t_loss.backward()
        t_opt.step()
        t_losses.append(t_loss.item())
    assert len(losses) == 3
    np.testing.assert_allclose(losses, t_losses, rtol=1e-10, atol=1e-12)
    for name, value in gru.state_dict().items():
        np.testing.assert_allclose(value, t_gru.state_dict()[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
