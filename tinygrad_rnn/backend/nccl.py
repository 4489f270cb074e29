"""NCCL through CuPy: the GPU side of ``tr.distributed``'s ``"nccl"`` backend.

Reached only through :class:`~tinygrad_rnn.backend.cupy_backend.CupyBackend`
(``nccl_unique_id``, ``nccl_communicator``; ``use_device`` picks the GPU), so that CuPy and NCCL stay
behind the backend like every other GPU call. Setting up a communicator takes a unique id
made by one process and known to all; ``tinygrad_rnn.distributed.nccl`` broadcasts it
over MPI.

A collective is queued on a stream of its own, after an event that marks the point of the
compute stream where its array is ready, and signals an event when it is done: the host
does not wait, so communication overlaps the rest of the backward pass. ``finish`` makes
the compute stream wait for that event; later kernels then read the reduced values.

Not run on the project's machines (no GPU); the logic above it is tested with stand-ins.
"""

from __future__ import annotations

from typing import Any

import cupy as cp
from cupy.cuda import nccl

_DTYPES = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
           "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64}
_OPS = {"sum": nccl.NCCL_SUM, "mean": nccl.NCCL_SUM, "max": nccl.NCCL_MAX}


def unique_id() -> tuple[int, ...]:
    """A new NCCL unique id (made by rank 0, then sent to the others)."""
    return tuple(nccl.get_unique_id())


class Communicator:
    """One process's end of an NCCL communicator of ``size`` ranks."""

    def __init__(self, size: int, uid: tuple[int, ...], rank: int) -> None:
        self.comm = nccl.NcclCommunicator(size, uid, rank)
        self.size = size
        self.stream = cp.cuda.Stream(non_blocking=True)

    def _queue(self, array: Any) -> tuple[int, int]:
        if array.dtype.name not in _DTYPES:
            raise TypeError(f"NCCL: arrays of dtype {array.dtype} are not supported; expected one of {sorted(_DTYPES)}")
        if not array.flags.c_contiguous:
            raise ValueError("NCCL: expected a contiguous array")
        ready = cp.cuda.Event()
        ready.record()  # on the compute stream: the array's values are final here
        self.stream.wait_event(ready)
        return array.data.ptr, _DTYPES[array.dtype.name]

    def start_all_reduce(self, array: Any, op: str) -> Any:
        """Queue an in-place all-reduce of ``array``; returns the event that marks its end."""
        pointer, dtype = self._queue(array)
        self.comm.allReduce(pointer, pointer, array.size, dtype, _OPS[op], self.stream.ptr)
        done = cp.cuda.Event()
        done.record(self.stream)
        return done

    def broadcast(self, array: Any, src: int) -> Any:
        pointer, dtype = self._queue(array)
        self.comm.bcast(pointer, array.size, dtype, src, self.stream.ptr)
        done = cp.cuda.Event()
        done.record(self.stream)
        return done

    @staticmethod
    def done(event: Any) -> bool:
        return bool(event.done)

    @staticmethod
    def finish(event: Any) -> None:
        """The compute stream waits for ``event`` (the host does not)."""
        cp.cuda.get_current_stream().wait_event(event)
