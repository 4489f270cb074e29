"""tr.distributed's functions in a process started without mpiexec (a job of one), and their checks.

The multi-process behaviour is in test_mpi.py (launched under mpiexec).
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.distributed.group import LAUNCHER_VARIABLES, default_timeout

dist = tr.distributed


def test_started_alone_it_is_a_job_of_one_and_says_so(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not dist.is_initialized()
    dist.init_process_group("mpi")
    try:
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "single process (world size 1)" in err and "mpiexec -n 2" in err
        assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
        with pytest.raises(RuntimeError, match="already initialized"):
            dist.init_process_group("mpi")
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized()
    dist.destroy_process_group()  # twice is harmless


def test_collectives_of_a_job_of_one_are_the_identity(single: None, device: str) -> None:
    for op in ("sum", "mean", "max"):
        t = Tensor([1.5, -2.0], device=device)
        dist.all_reduce(t, op=op)
        assert t.tolist() == [1.5, -2.0]
    t = Tensor([[3, 4]], device=device)
    dist.broadcast(t, src=0)
    assert t.tolist() == [[3, 4]]
    dist.barrier()


def test_all_reduce_writes_in_place_with_a_new_version(single: None) -> None:
    w = tr.nn.Linear(2, 1).weight
    y = (w * w).sum()
    dist.all_reduce(w, op="mean")  # a parameter, with grad mode on: allowed, as in PyTorch
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_bad_arguments_are_named(single: None) -> None:
    with pytest.raises(ValueError, match="op='avg'; expected one of 'sum', 'mean', 'max'"):
        dist.all_reduce(Tensor([1.0]), op="avg")
    with pytest.raises(TypeError, match="got a ndarray; expected a Tensor"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(TypeError, match="dtype int64"):
        dist.all_reduce(Tensor([1, 2]), op="mean")
    with pytest.raises(ValueError, match=r"src=1; expected a rank, an int in \[0, 0\]"):
        dist.broadcast(Tensor([1.0]), src=1)


def test_init_arguments_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="backend='gloo'; expected one of 'mpi', 'nccl'"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="timeout=0"):
        dist.init_process_group("mpi", timeout=0)
    monkeypatch.setenv("TINYGRAD_RNN_DIST_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="TINYGRAD_RNN_DIST_TIMEOUT='soon'"):
        default_timeout()
    monkeypatch.setenv("TINYGRAD_RNN_DIST_TIMEOUT", "7.5")
    assert default_timeout() == 7.5
    assert not dist.is_initialized()


def test_functions_need_the_group_first() -> None:
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(Tensor([1.0]))):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()


def test_under_mpiexec_without_mpi4py_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setattr(dist, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"mpi4py is not installed.*tinygrad_rnn\[distributed\]"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_all_reduce_inside_tr_jit_runs_at_every_replay(single: None) -> None:
    calls = []
    group = dist.group.current()
    original = group.start_all_reduce

    def counting(array, op, device):  # noqa: ANN001, ANN202
        calls.append(op)
        return original(array, op, device)
    group.start_all_reduce = counting

    @tr.jit
    def step(x: Tensor) -> Tensor:
        y = x * 2.0
        dist.all_reduce(y, op="sum")
        return y + 1.0

    for k in range(3):
        assert step(Tensor([float(k)])).tolist() == [2.0 * k + 1.0]
    assert (step.records, step.replays, calls) == (1, 2, ["sum"] * 3)


def test_save_checkpoint_writes_once_and_loads_anywhere(single: None, tmp_path) -> None:  # noqa: ANN001
    model = tr.nn.Linear(3, 2)
    opt = tr.optim.Adam(model.parameters())
    dist.save_checkpoint(tmp_path / "run.npz", model, opt, step=4)
    other = tr.nn.Linear(3, 2)
    assert tr.load_checkpoint(tmp_path / "run.npz", other)["step"] == 4
    np.testing.assert_array_equal(other.weight.numpy(), model.weight.numpy())
