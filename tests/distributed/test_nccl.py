"""The NCCL group's set-up and checks, with stand-ins for the MPI group and the GPU backend.

No GPU on the project's machines: this tests the order of the steps (the GPU is chosen
before the communicator, rank 0 alone makes the unique id, every rank gets the same
one) and the checks. The NCCL calls themselves (tinygrad_rnn/backend/nccl.py) run only
where CuPy and a GPU are present.
"""

from __future__ import annotations

from typing import Any

import pytest

from tinygrad_rnn.distributed.group import LocalGroup, ProcessGroup
from tinygrad_rnn.distributed.nccl import NcclGroup, local_rank


class FakeBootstrap(ProcessGroup):
    """Rank ``rank`` of ``size``; broadcast_object hands out what rank 0 put in ``board``."""

    backend = "mpi"

    def __init__(self, rank: int, size: int, board: dict) -> None:
        self.rank, self.size, self.board, self.log = rank, size, board, []

    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        self.log.append(("broadcast_object", obj, src))
        if self.rank == src:
            self.board["uid"] = obj
        return self.board["uid"]


class FakeGpu:
    name = "cuda"

    def __init__(self, devices: int = 2) -> None:
        self.devices, self.log = devices, []

    def device_count(self) -> int:
        return self.devices

    def use_device(self, index: int) -> None:
        self.log.append(("use_device", index))

    def nccl_unique_id(self) -> tuple[int, ...]:
        self.log.append(("unique_id",))
        return (7, 3, 1)

    def nccl_communicator(self, size: int, uid: tuple, rank: int) -> Any:
        self.log.append(("communicator", size, uid, rank))
        return FakeCommunicator()


class FakeCommunicator:
    def __init__(self) -> None:
        self.log: list = []

    def start_all_reduce(self, array: Any, op: str) -> str:
        self.log.append(("all_reduce", op))
        array[...] *= 2  # as if the other rank held the same values
        return "event"

    def done(self, event: str) -> bool:
        return True

    def finish(self, event: str) -> None:
        self.log.append(("finish", event))


def test_rank_zero_makes_the_unique_id_and_every_rank_gets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MPI_LOCALRANKID", raising=False)
    board: dict = {}
    gpus = [FakeGpu(), FakeGpu()]
    groups = [NcclGroup(FakeBootstrap(r, 2, board), gpus[r]) for r in (0, 1)]
    assert gpus[0].log == [("use_device", 0), ("unique_id",), ("communicator", 2, (7, 3, 1), 0)]
    assert gpus[1].log == [("use_device", 1), ("communicator", 2, (7, 3, 1), 1)]
    assert [g.rank for g in groups] == [0, 1] and groups[1].backend == "nccl"


def test_the_gpu_follows_the_local_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPI_LOCALRANKID", "3")
    assert local_rank(0) == 3
    gpu = FakeGpu(devices=2)
    NcclGroup(FakeBootstrap(0, 1, {}), gpu)
    assert gpu.log[0] == ("use_device", 1)  # local rank 3 on a machine with 2 GPUs


def test_mean_divides_after_the_sum_and_cpu_tensors_are_refused() -> None:
    import numpy as np

    from tinygrad_rnn.backend import get_backend

    gpu = FakeGpu()
    group = NcclGroup(FakeBootstrap(0, 2, {}), gpu)
    array = np.array([1.0, 3.0])
    assert group.start_all_reduce(array, "mean", gpu).wait().tolist() == [1.0, 3.0]
    assert group.comm.log == [("all_reduce", "mean"), ("finish", "event")]
    with pytest.raises(RuntimeError, match="tensor is on 'cpu'; expected 'cuda'"):
        group.start_all_reduce(array, "sum", get_backend("cpu"))


def test_nccl_needs_the_cuda_backend() -> None:
    from tinygrad_rnn.backend import get_backend

    with pytest.raises(RuntimeError, match="backend is 'cpu'; expected the 'cuda' backend"):
        NcclGroup(LocalGroup(), get_backend("cpu"))


def test_objects_and_barriers_go_over_the_bootstrap_group() -> None:
    board: dict = {}
    boot = FakeBootstrap(0, 2, board)
    group = NcclGroup(boot, FakeGpu())
    assert group.broadcast_object("hello") == "hello"
    assert boot.log[-1] == ("broadcast_object", "hello", 0)
