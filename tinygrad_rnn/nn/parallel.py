"""``DistributedDataParallel``: one model, N processes, each on its share of every batch.

Data parallelism: every process holds the whole model and computes the loss and the
gradients on its own samples; the gradients are then averaged over the processes, so
every process takes the same optimizer step and the models stay equal. The average of
the per-process gradients of per-process mean losses is the gradient of the mean loss
over all samples: N processes on B/N samples each take the step one process takes on B.

The wrapper does three things and is otherwise the module itself:

1. At construction it checks that every process built the same parameters (names,
   shapes, dtypes) and gives them all rank 0's values.
2. In ``backward()`` the gradients are averaged in buckets, started from gradient hooks
   as each bucket fills, so communication overlaps the rest of the backward pass (see
   ``tinygrad_rnn/distributed/reducer.py``); by the time ``backward()`` returns, every
   ``p.grad`` holds the average. ``tr.jit`` steps record and replay the collectives.
3. With ``broadcast_buffers`` (the default), each training forward first gives every
   process rank 0's buffers: the non-parameter tensors that modules keep as attributes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .. import distributed
from ..distributed.reducer import Reducer
from ..tensor import Tensor
from .module import Module, Parameter


class DistributedDataParallel(Module):
    """Wrap ``module`` so that ``backward()`` averages its gradients over all processes.

    Call ``tr.distributed.init_process_group`` first, and build the same model on every
    process. Parameter names have no ``"module."`` prefix, unlike PyTorch's wrapper:
    ``ddp.state_dict()`` is ``module.state_dict()``, so a checkpoint of a distributed
    run loads into the plain model of a single-process run and back. (A state dict with
    PyTorch's ``"module."`` prefix on every key also loads: the prefix is dropped.)

    Shapes:
        as ``module``: ``forward`` passes its arguments through.

    Args:
        module: the model (an ``nn.Module``).
        bucket_cap_mb: the most megabytes (2**20 bytes) of gradients per all-reduce.
            Smaller buckets start sooner and overlap more; each costs one latency.
        broadcast_buffers: give every process rank 0's buffers before each training forward.

    Attributes:
        module: the wrapped model.
        sample_count: this process's number of samples in the step (None: all equal). Set
            it when processes hold different numbers (the last batch of an epoch): the
            average is then weighted by it, which is the gradient of the mean over all samples.
        reducer: the bucketed all-reduce (its ``timeline`` and ``stats`` show the overlap).

    Raises:
        TypeError: ``module`` is not a Module.
        ValueError: ``bucket_cap_mb`` is not a positive number, or the processes built
            different parameters (the message names the rank and the first difference).
        RuntimeError: the process group is not initialized.

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.distributed.init_process_group("mpi")  # started alone: a job of one process
        >>> model = tr.nn.parallel.DistributedDataParallel(tr.nn.Linear(3, 2))
        >>> model(tr.Tensor.ones(4, 3)).sum().backward()  # .grad: the average over the processes
        >>> list(model.state_dict()), model.module.weight.grad.shape
        (['weight', 'bias'], (2, 3))
        >>> tr.distributed.destroy_process_group()
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25.0, broadcast_buffers: bool = True) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module is a {type(module).__name__}; expected an nn.Module")
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) or not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb={bucket_cap_mb!r}; expected a positive number")
        group = distributed.current()
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        named = list(module.named_parameters())
        _check_same_model(group, [(name, p.shape, str(p.dtype), p.device) for name, p in named])
        self.reducer = Reducer([p for _, p in named], group, bucket_cap_mb * 2**20)
        if group.size > 1:
            self.reducer.broadcast_parameters(src=0)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.broadcast_buffers and self.training and self.reducer.group.size > 1:
            for buffer in self.buffers():
                distributed.broadcast(buffer, src=0)
        return self.module(*args, **kwargs)

    @property
    def sample_count(self) -> float | None:
        return self.reducer.sample_count

    @sample_count.setter
    def sample_count(self, count: float | None) -> None:
        if count is not None and (isinstance(count, bool) or not isinstance(count, (int, float)) or not count > 0):
            raise ValueError(f"DistributedDataParallel.sample_count = {count!r}; expected a positive number or None")
        self.reducer.sample_count = count

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside keep their gradients local (they accumulate in ``.grad``);
        the first backward after the block averages the accumulated sum.

        Example: ``with ddp.no_sync(): loss1.backward()`` then ``loss2.backward()``."""
        previous, self.reducer.sync = self.reducer.sync, False
        try:
            yield
        finally:
            self.reducer.sync = previous

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """The wrapped module's parameters, under its own names (no ``"module."``)."""
        return self.module.named_parameters(prefix)

    def state_dict(self, **kwargs: Any) -> dict[str, Any]:
        """The wrapped module's state dict, under its own names (no ``"module."``)."""
        return self.module.state_dict(**kwargs)

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> tuple[list[str], list[str]]:
        if isinstance(state_dict, dict) and state_dict and all(str(k).startswith("module.") for k in state_dict):
            state_dict = {k[len("module."):]: v for k, v in state_dict.items()}  # PyTorch's DDP prefix
        return self.module.load_state_dict(state_dict, strict)

    def buffers(self) -> list[Tensor]:
        """The tensors the wrapped modules keep as attributes, other than parameters."""
        return [v for m in self.module.modules() for v in vars(m).values()
                if isinstance(v, Tensor) and not isinstance(v, Parameter)]

    def extra_repr(self) -> str:
        g = self.reducer.group
        return f"rank {g.rank} of {g.size} ({g.backend}), {len(self.reducer.buckets)} buckets"


def _check_same_model(group: Any, signature: list[tuple]) -> None:
    """Every process must have built the same parameters, or the averages would mix them up."""
    if group.size == 1:
        return
    everyone = group.all_gather_object(signature)
    for rank, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            first = next((a, b) for a, b in zip(everyone[0] + [None], theirs + [None], strict=False) if a != b)
            raise ValueError(f"DistributedDataParallel: rank {rank} built different parameters from rank 0: the first "
                             f"difference is {first[1]} on rank {rank} against {first[0]} on rank 0 (name, shape, dtype, "
                             "device); expected the same model on every process")
