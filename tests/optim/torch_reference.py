"""Shared by the optimizer tests: run our optimizers and PyTorch's on the same numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_rnn import Tensor, nn

SHAPES = [(3, 2), (4,), ()]  # a matrix, a vector, a 0-d parameter


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


def gradients(steps: int, seed: int = 0) -> list[list[np.ndarray | None]]:
    """Per step, one float64 gradient per parameter of ``SHAPES``: mixed scales, some exact
    zeros, and now and then no gradient at all (a parameter the loss did not reach)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(steps):
        grads: list[np.ndarray | None] = []
        for k, shape in enumerate(SHAPES):
            if k == 2 and t % 7 == 3:
                grads.append(None)
                continue
            g = rng.normal(size=shape) * 10.0 ** rng.integers(-3, 2, size=shape)
            grads.append(np.where(rng.random(shape) < 0.1, 0.0, g))
        out.append(grads)
    return out


def step_both(torch: Any, make_ours: Callable, make_theirs: Callable, steps: int = 60, groups: Callable | None = None,
              between: Callable | None = None, seed: int = 0) -> tuple[Any, Any, list[Tensor], list[Any]]:
    """``steps`` updates of float64 parameters of ``SHAPES`` with the same starting values and
    the same gradients, by our optimizer and PyTorch's. ``groups(params)`` turns the
    parameter list into what the constructors take (default: the list); ``between(opt,
    opt_t, t)`` runs after each step (a scheduler, say). Returns (opt, opt_t, ours, theirs)."""
    rng = np.random.default_rng(seed + 1)
    start = [rng.normal(size=shape) for shape in SHAPES]
    ours = [Tensor(v.copy(), dtype="float64", requires_grad=True) for v in start]
    theirs = [torch.tensor(v.copy(), dtype=torch.float64, requires_grad=True) for v in start]
    wrap = groups or (lambda params: params)
    opt, opt_t = make_ours(wrap(ours)), make_theirs(wrap(theirs))
    for t, grads in enumerate(gradients(steps, seed)):
        for p, q, g in zip(ours, theirs, grads, strict=True):
            p.grad = None if g is None else Tensor(g.copy(), dtype="float64")
            q.grad = None if g is None else torch.tensor(g.copy(), dtype=torch.float64)
        opt.step()
        opt_t.step()
        if between is not None:
            between(opt, opt_t, t)
    return opt, opt_t, ours, theirs


def assert_same_as_torch(opt: Any, opt_t: Any, ours: list[Tensor], theirs: list[Any], rtol: float = 1e-12) -> None:
    """Parameters, every state tensor and counter, and every group option agree with PyTorch's."""
    for k, (p, q) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=rtol, atol=1e-300, err_msg=f"param {k}")
    mine, torch_sd = opt.state_dict(), opt_t.state_dict()
    assert set(mine["state"]) == set(torch_sd["state"])
    for i, state in torch_sd["state"].items():
        assert set(mine["state"][i]) == set(state), i
        for name, value in state.items():
            if name == "step":
                assert mine["state"][i]["step"] == int(value.item()), i
            else:
                np.testing.assert_allclose(mine["state"][i][name], value.numpy(), rtol=rtol, atol=1e-300,
                                           err_msg=f"state {i} {name}")
    for group, group_t in zip(mine["param_groups"], torch_sd["param_groups"], strict=True):
        for key, value in group.items():
            assert group_t[key] == value, (key, value, group_t[key])
