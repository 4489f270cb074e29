"""``tr.distributed``: several processes training one model, over MPI (or NCCL on GPUs).

Start N copies of a script with ``mpiexec -n N python train.py``; in each one,

    import tinygrad_rnn as tr
    tr.distributed.init_process_group("mpi")       # or "nccl": one GPU per process
    rank, world = tr.distributed.get_rank(), tr.distributed.get_world_size()
    model = tr.nn.parallel.DistributedDataParallel(model)   # same start, averaged gradients

A script started without ``mpiexec`` runs as a job of one process (world size 1, every
collective the identity) and says so in one line, so the same script runs alone. The
only code that imports mpi4py is ``mpi.py``, imported only under ``mpiexec``: a plain
install never needs MPI (``pip install 'tinygrad_rnn[distributed]'`` adds mpi4py and
mpich, whose ``mpiexec`` starts the processes).

Collectives (PyTorch's names and meaning): ``all_reduce(tensor, op)`` and
``broadcast(tensor, src)`` change ``tensor`` in place on every rank; ``barrier()``
waits until every rank has reached it. Every rank must call the same collectives in the
same order. Faults (see ``faults.py``): a rank that raises aborts the whole job with a
line naming it; a collective never waits more than ``timeout`` seconds.
"""

from __future__ import annotations

import faulthandler
import sys
from typing import Any

from ..checkpoint import save_checkpoint as _save_checkpoint
from ..config import no_grad
from ..jit_trace import call as _recorded_call
from ..tensor import Tensor
from . import faults
from . import group as _state
from .group import OPS, LocalGroup, ProcessGroup, check_op, current, default_timeout, launched_by_mpiexec
from .sampler import DistributedSampler

__all__ = [
    "init_process_group", "is_initialized", "is_available", "get_rank", "get_world_size", "barrier", "all_reduce",
    "broadcast", "destroy_process_group", "DistributedSampler", "save_checkpoint", "OPS",
]

BACKENDS = ("mpi", "nccl")


def is_available() -> bool:
    """True when mpi4py can be imported (``pip install 'tinygrad_rnn[distributed]'``)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def init_process_group(backend: str = "mpi", timeout: float | None = None) -> None:
    """Join the job this process was started in.

    Under ``mpiexec -n N`` this is one of N processes (ranks 0..N-1); started alone, a job
    of one, with a one-line notice on stderr.

    Args:
        backend: ``"mpi"`` (any device; arrays of a GPU pass through the host) or
            ``"nccl"`` (CUDA tensors, one GPU per process, set up over MPI).
        timeout: the most seconds any collective waits for the other processes before
            the job is aborted (default ``$TINYGRAD_RNN_DIST_TIMEOUT`` or 300).

    Raises:
        ValueError: an unknown backend or a timeout that is not a positive number.
        RuntimeError: already initialized, or started by ``mpiexec`` without mpi4py.
    """
    if backend not in BACKENDS:
        raise ValueError(f"init_process_group: backend={backend!r}; expected one of {', '.join(map(repr, BACKENDS))}")
    if timeout is None:
        timeout = default_timeout()
    elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"init_process_group: timeout={timeout!r}; expected a positive number of seconds")
    if _state._current[0] is not None:
        old = _state._current[0]
        raise RuntimeError(f"init_process_group: already initialized (backend {old.backend!r}, rank {old.rank} "
                           f"of {old.size}); expected one call per process (destroy_process_group() ends it)")
    if not launched_by_mpiexec():
        print("tinygrad_rnn.distributed: not started by mpiexec, so running as a single process (world size 1); "
              "launch with: mpiexec -n 2 python <script>", file=sys.stderr, flush=True)
        _state._current[0] = LocalGroup()
        return
    if not is_available():
        raise RuntimeError("init_process_group: started by mpiexec, but mpi4py is not installed; expected it: "
                           "pip install 'tinygrad_rnn[distributed]' (mpi4py and mpich)")
    group: ProcessGroup = _start_mpi_waiting_for_every_process(float(timeout))
    if backend == "nccl":
        from ..backend import get_backend
        from .nccl import NcclGroup

        group = NcclGroup(group, get_backend("cuda"))
    if group.size > 1:
        faults.install(group)
    _state._current[0] = group


def _start_mpi_waiting_for_every_process(timeout: float) -> ProcessGroup:
    """Import mpi4py (which starts MPI) and make the MPI group.

    Starting MPI waits inside C code until every process of the job has started it, so if
    one failed before ``init_process_group`` the others would wait forever, holding the
    interpreter. A C-level timer (``faulthandler``) ends such a process after ``timeout``
    seconds, printing where it waited: in this function.
    """
    faulthandler.dump_traceback_later(timeout, exit=True)
    try:
        from .mpi import MpiGroup
    finally:
        faulthandler.cancel_dump_traceback_later()
    return MpiGroup(timeout)


def is_initialized() -> bool:
    return _state._current[0] is not None


def get_rank() -> int:
    """This process's rank, 0 .. world size - 1."""
    return current().rank


def get_world_size() -> int:
    """The number of processes in the job."""
    return current().size


def barrier() -> None:
    """Wait until every process has called ``barrier()``."""
    current().barrier()


def _check_tensor(tensor: Any, where: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{where}: got a {type(tensor).__name__}; expected a Tensor")


def all_reduce(tensor: Tensor, op: str = "sum") -> None:
    """Replace ``tensor`` by the sum (mean, max) of its values over all processes, in place.

    Inside a ``tr.jit`` step the collective is recorded and runs again at every replay.

    Raises:
        ValueError: ``op`` is not ``"sum"``, ``"mean"`` or ``"max"``.
        TypeError: ``tensor`` is not a Tensor, or ``op="mean"`` on an integer tensor.
    """
    where = "all_reduce"
    _check_tensor(tensor, where)
    check_op(op, where)
    if op == "mean" and not tensor.backend.is_floating(tensor.dtype):
        raise TypeError(f"all_reduce(op='mean') on a tensor of dtype {tensor.dtype}; expected a floating-point tensor "
                        "(or op='sum')")
    g, device = current(), tensor.backend

    def reduce(array: Any) -> Any:
        return g.start_all_reduce(array.copy(), op, device).wait()
    _write(tensor, _recorded_call(reduce, tensor._data))


def broadcast(tensor: Tensor, src: int = 0) -> None:
    """Replace ``tensor``'s values on every process by those of rank ``src``, in place."""
    _check_tensor(tensor, "broadcast")
    g, device = current(), tensor.backend
    g.check_src(src, "broadcast")
    _write(tensor, _recorded_call(lambda array: g.broadcast(array.copy(), src, device), tensor._data))


def _write(tensor: Tensor, array: Any) -> None:
    with no_grad():  # a collective is not on the tape (as in PyTorch)
        tensor.copy_(Tensor._make(array, tensor.backend))


def save_checkpoint(path: Any, model: Any = None, optimizer: Any = None, step: int | None = None,
                    extra: dict[str, Any] | None = None) -> None:
    """``tr.save_checkpoint`` on rank 0 only (every rank holds the same state), then a barrier:
    when it returns on any rank, the file is complete (the save is atomic) and readable by
    any number of processes with ``tr.load_checkpoint``."""
    if current().rank == 0:
        _save_checkpoint(path, model, optimizer, step=step, extra=extra)
    barrier()


def destroy_process_group() -> None:
    """Leave the job: the group is released and the fault guards are removed."""
    g = _state._current[0]
    if g is None:
        return
    faults.uninstall()
    g.close()
    _state._current[0] = None
