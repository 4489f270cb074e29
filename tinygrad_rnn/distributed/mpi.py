"""The MPI process group: the processes ``mpiexec -n N`` started, through mpi4py.

The only module that imports mpi4py; ``init_process_group`` imports it only when the
process was started by an MPI launcher, so a plain install never needs MPI.

Every collective is started non-blocking (``Iallreduce``, ``Ibcast``, ``Ibarrier``) and
waited for by polling (:meth:`MpiGroup.wait`), never by a blocking MPI call: the poll is
where a collective's timeout and the notices of processes that left are checked (see
``faults.py``). MPI moves a large message in pieces, each inside some MPI call, so the
poll runs back to back for 2 ms (as MPI's own blocking wait spins), then yields the core
between polls; after half a second, when the wait is for a late process rather than for
data, it naps 1 ms between polls.

MPI reads host memory: arrays of another device (CuPy) are copied to the host and back.
The collectives run on a duplicate of ``COMM_WORLD``, so they never mix with MPI calls
of the user's own; the fault notices travel on a second duplicate.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from typing import Any

from mpi4py import MPI

from .group import TIMEOUT_VARIABLE, ProcessGroup, Work

FAULT_TAG = 7301
GRACE = 2.0  # seconds a collective still waits after a rank it needs said it left
SPIN, LONG_WAIT = 0.002, 0.5  # seconds of polling back to back, then yielding the core, then napping
# MPI_Abort makes mpiexec kill every process at once, and what a process had written to its
# stderr pipe but mpiexec had not yet forwarded is lost with it (seen: 1 abort in 5 printed
# nothing). Before aborting, a failing rank gives mpiexec this long to forward its message.
FORWARD_DELAY = 0.5


class MpiGroup(ProcessGroup):
    """All processes of ``MPI.COMM_WORLD``.

    Args:
        timeout: the most seconds a collective waits before the job is aborted.
    """

    backend = "mpi"

    def __init__(self, timeout: float) -> None:
        world = MPI.COMM_WORLD
        self.rank, self.size = world.Get_rank(), world.Get_size()
        self.timeout, self.notices = timeout, None
        self._sent: list[Any] = []
        notices, request = world.Idup()  # collectives themselves: waited for with the timeout
        self.wait(request, "init_process_group (duplicating COMM_WORLD)")
        self.comm, request = world.Idup()
        self.wait(request, "init_process_group (duplicating COMM_WORLD)")
        self.notices = notices
        self._ops = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX}

    # ------------------------------------------------------------------ arrays
    def start_all_reduce(self, array: Any, op: str, device: Any) -> Work:
        host = device.to_numpy(array)  # the array itself on the CPU
        request = self.comm.Iallreduce(MPI.IN_PLACE, host, op=self._ops[op])

        def finish() -> Any:
            self.wait(request, f"all_reduce of {host.size} {host.dtype} values")
            if op == "mean":
                host[...] /= self.size
            return device.from_numpy(host)
        return Work(finish, request.Test)

    def broadcast(self, array: Any, src: int, device: Any) -> Any:
        self.check_src(src, "broadcast")
        host = device.to_numpy(array)
        self.wait(self.comm.Ibcast(host, root=src), f"broadcast of {host.size} {host.dtype} values from rank {src}")
        return device.from_numpy(host)

    # ----------------------------------------------------------------- objects
    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        self.check_src(src, "broadcast_object")
        data = bytearray(pickle.dumps(obj) if self.rank == src else b"")
        size = bytearray(len(data).to_bytes(8, "little"))
        self.wait(self.comm.Ibcast(size, root=src), "broadcast_object (size)")
        if self.rank != src:
            data = bytearray(int.from_bytes(size, "little"))
        self.wait(self.comm.Ibcast(data, root=src), "broadcast_object")
        return pickle.loads(bytes(data))  # noqa: S301 (bytes from our own processes)

    def all_gather_object(self, obj: Any) -> list[Any]:
        mine = pickle.dumps(obj)
        sizes = bytearray(8 * self.size)
        self.wait(self.comm.Iallgather(bytearray(len(mine).to_bytes(8, "little")), sizes), "all_gather_object (sizes)")
        counts = [int.from_bytes(sizes[8 * k:8 * k + 8], "little") for k in range(self.size)]
        offsets = [sum(counts[:k]) for k in range(self.size)]
        data = bytearray(sum(counts))
        self.wait(self.comm.Iallgatherv(bytearray(mine), [data, counts, offsets, MPI.BYTE]), "all_gather_object")
        return [pickle.loads(bytes(data[o:o + c])) for o, c in zip(offsets, counts, strict=True)]  # noqa: S301

    def barrier(self) -> None:
        self.wait(self.comm.Ibarrier(), "barrier")

    # ------------------------------------------------------------------ faults
    def wait(self, request: Any, what: str) -> None:
        """Wait for ``request``; abort the job after ``timeout`` s, or soon after a rank left."""
        if request.Test():
            return
        start = time.monotonic()
        gone, give_up, check_at = None, start + self.timeout, start
        status = MPI.Status()
        while not request.Test():  # each Test moves the data along: poll fast, yielding the core
            now = time.monotonic()
            if now >= check_at:  # the notices and the clock, every few milliseconds
                check_at = now + 0.005
                if gone is None and self.notices is not None and self.notices.Iprobe(MPI.ANY_SOURCE, FAULT_TAG,
                                                                                      status):
                    source = status.Get_source()
                    gone = f"rank {source} {self.notices.recv(source=source, tag=FAULT_TAG)}"
                    give_up = min(give_up, now + GRACE)
                if now > give_up:
                    why = (f"{gone}, so it can never complete" if gone is not None else
                           f"it waited {self.timeout:g} s for the other processes (one may have hung or died; "
                           f"the limit is init_process_group(timeout=) or ${TIMEOUT_VARIABLE})")
                    self.fail(f"{what}: {why}")
            waited = now - start
            if waited > SPIN:  # past SPIN s, let others run between polls; past LONG_WAIT s (the
                time.sleep(0 if waited < LONG_WAIT else 1e-3)  # others are late, not the data) nap

    def notify_others(self, reason: str) -> None:
        """Tell every other rank that this one is leaving (they read it while they wait)."""
        if self.notices is None:
            return
        for k in range(self.size):
            if k != self.rank:
                self._sent.append(self.notices.isend(reason, dest=k, tag=FAULT_TAG))
        for request in self._sent:  # small messages: sent at once, nothing to wait for
            request.Test()

    def fail(self, message: str) -> None:
        """Print which rank failed and why, tell the others, and abort the whole job."""
        print(f"tinygrad_rnn.distributed: rank {self.rank} of {self.size} (pid {os.getpid()}) {message}; "
              f"aborting all {self.size} processes", file=sys.stderr, flush=True)
        self.notify_others(message)
        time.sleep(FORWARD_DELAY)  # let mpiexec forward the message (and a traceback) first
        MPI.COMM_WORLD.Abort(1)
