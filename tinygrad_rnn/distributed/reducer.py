"""Averaging gradients over processes in buckets, while the backward pass still runs.

The engine behind ``nn.parallel.DistributedDataParallel`` (PyTorch's "reducer"). The
parameters are cut into *buckets* of about ``bucket_cap_mb`` each. Each parameter gets
a gradient-ready hook (``ready_hooks.py``): when the walk has finished a parameter's
gradient, the hook counts it; when a bucket is full (and every bucket before it has
gone, so that all processes start the same collectives in the same order) its gradients
are packed into one flat array and a non-blocking all-reduce is started, while the walk
goes on to the layers below. So buckets should fill in the order the gradients become
ready. The first backward pass uses reverse registration order (the output layer,
registered last, is ready first) and notes the order in which the gradients really
became ready; then the buckets are rebuilt in rank 0's order (broadcast, so that all
processes agree), as PyTorch's DDP does. That matters for RNNs: a recurrent layer's
bias is complete only once BPTT has gone back to the first step, and in registration
order it would share, and hold back, the output layer's bucket. At the end of the walk
(``queue_callback``) the remaining buckets are started, every all-reduce is waited for,
and each ``p.grad`` becomes the average.

The average is weighted by sample counts. Each process appends its weight w_r (its
``sample_count``, 1 when not set) to a bucket and multiplies its gradients by w_r, so
one summing all-reduce yields both sum_r w_r g_r and sum_r w_r; their quotient is the
weighted mean. With w_r the number of samples whose mean loss process r computed, that
is exactly the gradient of the mean loss over all the samples of the step, also when the
last batch of an epoch does not split evenly. One more entry per parameter says whether
the process had a gradient at all: a parameter no process used keeps ``grad = None``.

Inside ``tr.jit`` the collectives are recorded (``jit_trace.call``) at the points of the
backward walk where they were started, so a replay starts and waits for them there too.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from typing import Any

from ..autograd import queue_callback
from ..config import config, no_grad
from ..jit_trace import call as recorded_call
from ..tensor import Tensor
from .group import ProcessGroup, Work


class Bucket:
    """Parameters whose gradients travel together: one flat array, one collective."""

    def __init__(self, index: int, params: Sequence[Tensor]) -> None:
        self.index, self.params = index, tuple(params)
        self.sizes = [p.numel() for p in self.params]
        self.offsets = [sum(self.sizes[:k]) for k in range(len(self.sizes))]
        self.length = sum(self.sizes)  # then: the weight, then one presence flag per parameter

    def __repr__(self) -> str:
        return f"Bucket({self.index}, {len(self.params)} parameters, {self.length} values)"


def make_buckets(params: Sequence[Tensor], cap_bytes: float) -> list[Bucket]:
    """``params`` in order, a new bucket past ``cap_bytes`` or at a change of dtype or device."""
    groups: list[list[Tensor]] = []
    size = 0.0
    for p in params:
        nbytes = p.numel() * p.dtype.itemsize
        last = groups[-1][-1] if groups else None
        if last is None or size + nbytes > cap_bytes or last.dtype != p.dtype or last.backend is not p.backend:
            groups.append([])
            size = 0.0
        groups[-1].append(p)
        size += nbytes
    return [Bucket(k, g) for k, g in enumerate(groups)]


class Reducer:
    """Averages the gradients of ``params`` over ``group`` in every backward pass.

    Attributes:
        sync: False inside ``no_sync()``: gradients stay local and accumulate.
        sample_count: this process's weight in the average (None: 1, equal weights).
        timeline: the last backward pass's events, ``(what, bucket, time.perf_counter())``
            with what in "start" (an all-reduce began), "walk_end" (the backward walk
            finished), "done" (all averaged gradients are in place).
        stats: totals over all passes: "passes", "bytes" sent, "waited" seconds (the
            communication the backward pass did not hide).
    """

    def __init__(self, params: Sequence[Tensor], group: ProcessGroup, bucket_cap_bytes: float) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.group, self.cap = group, bucket_cap_bytes
        self._use_buckets(self.params[::-1])
        self.rebuilt = False  # buckets in the order gradients became ready (after the first pass)
        self._ready_order: list[Tensor] = []
        self.sync = True
        self.sample_count: float | None = None
        self.timeline: list[tuple[str, int | None, float]] = []
        self.stats = {"passes": 0, "bytes": 0, "waited": 0.0}
        self._pass: Any = None  # the running backward pass (its callback list), None between passes
        self._missing: list[int] = []
        self._next = 0
        self._works: list[tuple[Bucket, Work]] = []
        ref = weakref.ref(self)  # the hooks must not keep a dropped wrapper alive

        def hook(p: Tensor) -> None:
            reducer = ref()
            if reducer is not None:
                reducer._ready(p)
        self._handles = [p.register_post_accumulate_grad_hook(hook) for p in self.params]

    def _use_buckets(self, ordered: Sequence[Tensor]) -> None:
        self.buckets = make_buckets(ordered, self.cap)
        self.bucket_of = {id(p): b.index for b in self.buckets for p in b.params}

    def _rebuild(self) -> None:
        """Buckets in rank 0's order of the first pass (parameters it never reached at the end)."""
        position = {id(p): k for k, p in enumerate(self.params)}
        order = self.group.broadcast_object([position[id(p)] for p in self._ready_order], src=0)
        rest = [k for k in reversed(range(len(self.params))) if k not in set(order)]
        self._use_buckets([self.params[k] for k in order + rest])
        self.rebuilt, self._ready_order = True, []

    def remove(self) -> None:
        """Unregister the hooks (the parameters go back to plain local gradients)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __del__(self) -> None:
        self.remove()

    # ------------------------------------------------------------------ a backward pass
    def _ready(self, p: Tensor) -> None:
        if not self.sync:
            return
        if self._pass is not config.callbacks:  # the first gradient of a new backward pass
            self._pass = config.callbacks
            self._missing = [len(b.params) for b in self.buckets]
            self._next, self._works, self.timeline = 0, [], []
            queue_callback(self._finish)
        self._missing[self.bucket_of[id(p)]] -= 1
        if not self.rebuilt:
            self._ready_order.append(p)
        while self._next < len(self.buckets) and self._missing[self._next] == 0:  # in order: the same on every rank
            self._launch(self.buckets[self._next])
            self._next += 1

    def _launch(self, bucket: Bucket) -> None:
        grads = tuple(None if p.grad is None else p.grad._data for p in bucket.params)
        recorded_call(self._start, bucket, grads)

    def _start(self, bucket: Bucket, grads: tuple) -> None:
        """Pack, weight and start one bucket's all-reduce (run again at every jit replay)."""
        device, dtype = bucket.params[0].backend, bucket.params[0].dtype
        weight = 1.0 if self.sample_count is None else float(self.sample_count)
        parts = [device.zeros((n,), dtype) if g is None else g.reshape(-1) for g, n in zip(grads, bucket.sizes, strict=True)]
        flat = device.concatenate(parts + [device.asarray([weight] + [float(g is not None) for g in grads], dtype=dtype)])
        if weight != 1.0:
            flat[: bucket.length] *= weight
        for _, work in self._works:
            work.test()  # MPI moves data only inside its calls: give the earlier buckets a push
        work = self.group.start_all_reduce(flat, "sum", device)
        self._works.append((bucket, work))
        self.timeline.append(("start", bucket.index, work.started))
        self.stats["bytes"] += flat.nbytes

    def _finish(self) -> None:
        """End of the walk: start what is left, wait for everything, set the averaged ``.grad``."""
        self.timeline.append(("walk_end", None, time.perf_counter()))
        for bucket in self.buckets[self._next:]:  # parameters this pass never reached
            self._launch(bucket)
        arrays = recorded_call(self._collect, tuple(self.buckets))
        for p, array in zip((p for b in self.buckets for p in b.params), arrays, strict=True):
            p.grad = None if array is None else Tensor._make(array, p.backend)
        self._pass = None
        self.stats["passes"] += 1
        self.timeline.append(("done", None, time.perf_counter()))
        if not self.rebuilt:
            self._rebuild()

    def _collect(self, buckets: tuple[Bucket, ...]) -> tuple:
        """Wait for every bucket; the weighted means, one array (or None) per parameter."""
        if tuple(b for b, _ in self._works) != buckets:
            raise RuntimeError(f"DistributedDataParallel: started all-reduces for buckets "
                               f"{[b.index for b, _ in self._works]}; expected each of the {len(buckets)} buckets once")
        out: list[Any] = []
        for bucket, work in self._works:
            device = bucket.params[0].backend
            flat = work.wait()
            self.stats["waited"] += work.waited
            tail = device.to_numpy(flat[bucket.length:]).tolist()  # total weight, then presence counts
            total, present = tail[0], tail[1:]
            for offset, size, p, count in zip(bucket.offsets, bucket.sizes, bucket.params, present, strict=True):
                out.append(None if count == 0 else (flat[offset:offset + size] / total).reshape(p.shape))
        self._works = []
        return tuple(out)

    # ------------------------------------------------------------------ set-up
    def broadcast_parameters(self, src: int = 0) -> None:
        """Give every process rank ``src``'s parameter values (one broadcast per bucket)."""
        for bucket in self.buckets:
            device = bucket.params[0].backend
            flat = device.concatenate([p._data.reshape(-1) for p in bucket.params])
            flat = self.group.broadcast(flat, src, device)
            with no_grad():
                for offset, size, p in zip(bucket.offsets, bucket.sizes, bucket.params, strict=True):
                    p.copy_(Tensor._make(flat[offset:offset + size].reshape(p.shape), device))
