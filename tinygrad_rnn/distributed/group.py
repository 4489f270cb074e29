"""Process groups: who the processes are, and the collectives they run together.

A :class:`ProcessGroup` is the one interface the rest of the package talks to: its
``rank`` and ``size``, an all-reduce that is started now and waited for later
(:class:`Work`), a broadcast, a barrier, and the two object collectives that setting up
needs (a NCCL unique id, a check that every process built the same model). Three kinds:

* :class:`LocalGroup`: one process, no library needed; every collective is the identity.
  A script started without ``mpiexec`` gets this one, so the same code runs alone.
* ``MpiGroup`` (``mpi.py``): processes started by ``mpiexec``, through mpi4py.
* ``NcclGroup`` (``nccl.py``): one GPU per process, gradients through NCCL, set up over MPI.

Arrays handed to a group are the backend arrays of tensors, with the backend that owns
them; the group moves them wherever its library needs them (MPI reads host memory).
"""

from __future__ import annotations

import os
import time
from typing import Any

OPS = ("sum", "mean", "max")
# Environment variables that a launcher sets in each process it starts (MPICH/Intel MPI's
# hydra: PMI_*; Open MPI: OMPI_*; PMIx-based launchers, Slurm's srun among them: PMIX_*).
LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")
DEFAULT_TIMEOUT = 300.0  # seconds a collective may wait for the others before the job is aborted
TIMEOUT_VARIABLE = "TINYGRAD_RNN_DIST_TIMEOUT"


_current: list[ProcessGroup | None] = [None]  # the group of init_process_group, set by tr.distributed


def current() -> ProcessGroup:
    """The group of ``init_process_group``.

    Raises:
        RuntimeError: it has not been called.
    """
    if _current[0] is None:
        raise RuntimeError("tr.distributed: the process group is not initialized; expected a call to "
                           "tr.distributed.init_process_group('mpi') first (started alone it runs as one process)")
    return _current[0]


def launched_by_mpiexec() -> bool:
    """True when this process was started by an MPI launcher (``mpiexec``, ``srun``...)."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def check_op(op: Any, where: str) -> str:
    if op not in OPS:
        raise ValueError(f"{where}: op={op!r}; expected one of {', '.join(map(repr, OPS))}")
    return op


def default_timeout() -> float:
    """The collective timeout: ``$TINYGRAD_RNN_DIST_TIMEOUT`` seconds, else 300."""
    text = os.environ.get(TIMEOUT_VARIABLE)
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"${TIMEOUT_VARIABLE}={text!r}; expected a positive number of seconds")
    return value


class Work:
    """A collective that was started and may still be running; ``wait()`` gives its result.

    Attributes:
        started, finished: ``time.perf_counter()`` when it was started and when ``wait``
            returned (None before): the timeline that shows communication overlapping
            the backward pass.
        waited: seconds spent inside ``wait`` (the communication time not hidden).
    """

    def __init__(self, finish: Any, poll: Any = None) -> None:
        self._finish, self._poll = finish, poll
        self.started = time.perf_counter()
        self.finished: float | None = None
        self.waited = 0.0
        self._result: Any = None

    def test(self) -> bool:
        """Let the library make progress; True once the collective has completed."""
        return self.finished is not None or self._poll is None or bool(self._poll())

    def wait(self) -> Any:
        if self.finished is None:
            t0 = time.perf_counter()
            self._result = self._finish()
            self.finished = time.perf_counter()
            self.waited = self.finished - t0
        return self._result


class ProcessGroup:
    """The processes of one job. Subclasses fill in the collectives.

    Attributes:
        backend: ``"local"``, ``"mpi"`` or ``"nccl"``.
        rank: this process's number, 0 .. size - 1.
        size: how many processes there are (the world size).
    """

    backend = "?"
    rank = 0
    size = 1

    def start_all_reduce(self, array: Any, op: str, device: Any) -> Work:
        """Start reducing ``array`` (a contiguous array of ``device``, which the group may
        overwrite) over all processes; ``.wait()`` returns the result, an array of ``device``."""
        raise NotImplementedError

    def broadcast(self, array: Any, src: int, device: Any) -> Any:
        """Rank ``src``'s values of ``array`` (contiguous), returned on every rank."""
        raise NotImplementedError

    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        """Rank ``src``'s ``obj`` (picklable), returned on every rank."""
        raise NotImplementedError

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, as a list indexed by rank."""
        raise NotImplementedError

    def barrier(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the group holds (``destroy_process_group``)."""

    def check_src(self, src: Any, where: str) -> int:
        if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < self.size:
            raise ValueError(f"{where}: src={src!r}; expected a rank, an int in [0, {self.size - 1}]")
        return src


class LocalGroup(ProcessGroup):
    """A group of one process: every collective returns its input."""

    backend = "local"

    def start_all_reduce(self, array: Any, op: str, device: Any) -> Work:
        return Work(lambda: array)

    def broadcast(self, array: Any, src: int, device: Any) -> Any:
        self.check_src(src, "broadcast")
        return array

    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        self.check_src(src, "broadcast_object")
        return obj

    def all_gather_object(self, obj: Any) -> list[Any]:
        return [obj]

    def barrier(self) -> None:
        pass
