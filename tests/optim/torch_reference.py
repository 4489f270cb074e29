"""Shared by the optimizer tests: train the same Linear layer here and in PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_rnn import Tensor, nn


def train_both(torch: Any, make_ours: Callable, make_theirs: Callable, steps: int) -> tuple[nn.Linear, Any]:
    """``steps`` updates of a float64 Linear(3, 2) on the same data and loss, with our
    optimizer (``make_ours(params)``) and PyTorch's (``make_theirs(params)``), from the
    same starting weights. Returns (our layer, torch's layer)."""
    ref = torch.nn.Linear(3, 2).double()
    layer = nn.Linear(3, 2, dtype="float64")
    layer.load_state_dict(ref.state_dict())
    opt, opt_t = make_ours(layer.parameters()), make_theirs(ref.parameters())
    x = np.random.default_rng(0).normal(size=(5, 3))
    for _ in range(steps):
        opt.zero_grad()
        opt_t.zero_grad()
        ((layer(Tensor(x)) - 1.0) ** 2).sum().backward()
        ((ref(torch.tensor(x)) - 1.0) ** 2).sum().backward()
        opt.step()
        opt_t.step()
    return layer, ref
