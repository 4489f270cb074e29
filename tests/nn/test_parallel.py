"""nn.parallel.DistributedDataParallel as a module (in a job of one process).

What it adds over the module (broadcast, averaged gradients) needs several processes:
tests/distributed/test_mpi.py. Here: it behaves as the module otherwise.
"""

from __future__ import annotations

import doctest
from collections.abc import Iterator

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.distributed.group import LAUNCHER_VARIABLES

DDP = nn.parallel.DistributedDataParallel


@pytest.fixture
def single(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    tr.distributed.init_process_group("mpi")
    yield
    tr.distributed.destroy_process_group()


class WithBuffer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.running = Tensor.zeros(2)  # a buffer: a tensor attribute that is not a parameter

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x) + self.running


def test_forward_and_gradients_are_the_module_s(single: None) -> None:
    tr.manual_seed(0)
    plain = nn.LSTM(3, 4)
    tr.manual_seed(0)
    inner = nn.LSTM(3, 4)
    ddp = DDP(inner)
    x = Tensor.randn(5, 2, 3)
    out_plain, _ = plain(x)
    out_ddp, _ = ddp(x)
    np.testing.assert_array_equal(out_plain.numpy(), out_ddp.numpy())
    out_plain.sum().backward()
    out_ddp.sum().backward()
    for (name, p), q in zip(plain.named_parameters(), ddp.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)


def test_state_dict_has_no_module_prefix(single: None) -> None:
    model = nn.Linear(3, 2)
    ddp = DDP(model)
    assert list(ddp.state_dict()) == list(model.state_dict()) == ["weight", "bias"]
    assert [name for name, _ in ddp.named_parameters()] == ["weight", "bias"]
    assert ddp.module is model and next(ddp.parameters()) is model.weight
    other = nn.Linear(3, 2)
    other.load_state_dict(ddp.state_dict())  # a distributed run's checkpoint loads into a plain model...
    ddp.load_state_dict({"module." + k: v * 0 for k, v in model.state_dict().items()})  # ...and PyTorch's keys load
    assert model.weight.tolist() == [[0.0] * 3] * 2
    with pytest.raises(KeyError, match="missing keys"):
        ddp.load_state_dict({"weight": np.zeros((2, 3))})


def test_train_eval_and_no_sync(single: None) -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    ddp = DDP(model)
    ddp.eval()
    assert not model.training and not model[0].training
    ddp.train()
    assert model[1].training
    with ddp.no_sync():
        assert not ddp.reducer.sync
        ddp(Tensor.randn(3, 2)).sum().backward()
    assert ddp.reducer.sync and ddp.reducer.stats["passes"] == 0
    ddp(Tensor.randn(3, 2)).sum().backward()
    assert ddp.reducer.stats["passes"] == 1


def test_buffers_are_the_tensor_attributes(single: None) -> None:
    model = WithBuffer()
    ddp = DDP(model, broadcast_buffers=True)
    assert [b is model.running for b in ddp.buffers()] == [True]
    assert ddp(Tensor.ones(1, 3)).shape == (1, 2)


def test_sample_count_is_checked(single: None) -> None:
    ddp = DDP(nn.Linear(2, 1))
    ddp.sample_count = 3
    assert ddp.reducer.sample_count == 3
    ddp.sample_count = None
    for bad in (0, -1, True, "3"):
        with pytest.raises(ValueError, match="expected a positive number or None"):
            ddp.sample_count = bad


def test_bad_arguments_are_named(single: None) -> None:
    with pytest.raises(TypeError, match="module is a Tensor; expected an nn.Module"):
        DDP(Tensor.zeros(2))
    with pytest.raises(ValueError, match="bucket_cap_mb=0"):
        DDP(nn.Linear(2, 1), bucket_cap_mb=0)


def test_needs_the_process_group() -> None:
    with pytest.raises(RuntimeError, match="init_process_group"):
        DDP(nn.Linear(2, 1))


def test_jit_step_through_ddp_is_bit_identical_to_eager(single: None) -> None:
    models = []
    for _ in range(2):
        tr.manual_seed(1)
        models.append(DDP(nn.GRU(3, 5), bucket_cap_mb=0.0001))
    opts = [tr.optim.Adam(m.parameters(), lr=0.01) for m in models]
    x = Tensor.randn(6, 2, 3)

    @tr.jit
    def step(x: Tensor) -> Tensor:
        opts[1].zero_grad()
        loss = models[1](x)[0].sum()
        loss.backward()
        opts[1].step()
        return loss

    for _ in range(4):
        opts[0].zero_grad()
        models[0](x)[0].sum().backward()
        opts[0].step()
        step(x)
    for p, q in zip(models[0].parameters(), models[1].parameters(), strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert step.replays == 3


def test_docstring_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert doctest.testmod(nn.parallel).failed == 0
