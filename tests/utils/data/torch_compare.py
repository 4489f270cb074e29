"""Batches of tinygrad_rnn and of PyTorch as one comparable plain structure."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_rnn import Tensor


def plain(batch: Any) -> Any:
    """Tensors -> ("tensor", dtype name, shape, values); containers recursively, keeping their kind."""
    if isinstance(batch, Tensor):
        return ("tensor", str(batch.dtype), tuple(batch.shape), batch.tolist())
    if type(batch).__module__.startswith("torch"):  # a torch.Tensor
        return ("tensor", str(batch.dtype).removeprefix("torch."), tuple(batch.shape), batch.tolist())
    if isinstance(batch, np.ndarray):
        return ("array", str(batch.dtype), batch.shape, batch.tolist())
    if isinstance(batch, dict):
        return {key: plain(value) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return ("namedtuple", type(batch).__name__, [plain(x) for x in batch])
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [plain(x) for x in batch])
    return batch
