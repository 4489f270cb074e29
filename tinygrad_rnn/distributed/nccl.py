"""The NCCL process group: one GPU per process, arrays reduced by NCCL, set up over MPI.

NCCL moves GPU arrays between GPUs directly (NVLink, PCIe, InfiniBand) but cannot start
a job by itself: every process needs the same *unique id*, made by one of them. So the
processes are started by ``mpiexec`` as for the ``"mpi"`` backend; rank 0 asks the GPU
backend for a unique id, the MPI group broadcasts it, and each process opens its end of
the communicator on its own GPU (local rank modulo the GPUs it sees). Arrays go through
NCCL; objects, barriers and the fault handling stay on the MPI group.

Everything that touches CuPy and NCCL is behind the CUDA backend
(``tinygrad_rnn/backend/nccl.py``); this module only orders the steps, and is tested
with stand-ins for the MPI group and the GPU backend (no GPU on the project's machines).
"""

from __future__ import annotations

import os
from typing import Any

from .group import ProcessGroup, Work

# Set by launchers: the rank of this process among those on its machine.
LOCAL_RANK_VARIABLES = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "LOCAL_RANK")


def local_rank(default: int) -> int:
    for name in LOCAL_RANK_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return default


class NcclGroup(ProcessGroup):
    """NCCL for arrays, ``bootstrap`` (an MPI group) for the rest.

    Args:
        bootstrap: the MPI group of the job (rank, size, objects, barrier, faults).
        gpu: the ``"cuda"`` backend (it holds the NCCL calls).

    Raises:
        RuntimeError: ``gpu`` is not a CUDA backend with NCCL.
    """

    backend = "nccl"

    def __init__(self, bootstrap: ProcessGroup, gpu: Any) -> None:
        if getattr(gpu, "name", None) != "cuda" or not hasattr(gpu, "nccl_communicator"):
            raise RuntimeError(f"init_process_group('nccl'): the arrays' backend is {getattr(gpu, 'name', gpu)!r}; "
                               "expected the 'cuda' backend (CuPy with NCCL). Use backend='mpi' on CPUs.")
        self.bootstrap, self.gpu = bootstrap, gpu
        self.rank, self.size = bootstrap.rank, bootstrap.size
        count = gpu.device_count()
        self.device_index = local_rank(self.rank) % count
        gpu.use_device(self.device_index)  # before the communicator: it lives on this GPU
        uid = gpu.nccl_unique_id() if self.rank == 0 else None
        uid = bootstrap.broadcast_object(uid, src=0)
        self.comm = gpu.nccl_communicator(self.size, uid, self.rank)

    def _check(self, device: Any, what: str) -> None:
        if device is not self.gpu:
            raise RuntimeError(f"{what} with the 'nccl' backend: the tensor is on {getattr(device, 'name', device)!r}; "
                               "expected 'cuda' (NCCL reduces GPU arrays; use backend='mpi' for CPU tensors)")

    def start_all_reduce(self, array: Any, op: str, device: Any) -> Work:
        self._check(device, "all_reduce")
        event = self.comm.start_all_reduce(array, op)

        def finish() -> Any:
            self.comm.finish(event)
            if op == "mean":
                array[...] /= self.size  # queued after the reduction on the compute stream
            return array
        return Work(finish, lambda: self.comm.done(event))

    def broadcast(self, array: Any, src: int, device: Any) -> Any:
        self._check(device, "broadcast")
        self.check_src(src, "broadcast")
        self.comm.finish(self.comm.broadcast(array, src))
        return array

    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        return self.bootstrap.broadcast_object(obj, src)

    def all_gather_object(self, obj: Any) -> list[Any]:
        return self.bootstrap.all_gather_object(obj)

    def barrier(self) -> None:
        self.bootstrap.barrier()

    def notify_others(self, reason: str) -> None:
        self.bootstrap.notify_others(reason)

    def fail(self, message: str) -> None:
        self.bootstrap.fail(message)
