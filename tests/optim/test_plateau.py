"""optim.lr_scheduler.ReduceLROnPlateau: the same reductions as PyTorch on the same metrics."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, optim
from tinygrad_rnn.optim import lr_scheduler, plateau


def metrics(n: int, seed: int) -> list[float]:
    """A falling loss with noise and long plateaus (and an exact tie or two)."""
    rng = np.random.default_rng(seed)
    values, level = [], 10.0
    for t in range(n):
        if t % 20 < 3:
            level *= 0.9
        values.append(round(level + rng.normal(scale=0.05), 2))
    return values


SETTINGS = [
    {},
    {"patience": 2, "factor": 0.5},
    {"mode": "max", "patience": 1, "threshold": 0.01},
    {"threshold_mode": "abs", "threshold": 0.05, "patience": 1, "cooldown": 2, "factor": 0.3},
    {"patience": 0, "min_lr": [0.01, 0.2], "factor": 0.5},
    {"patience": 0, "min_lr": 0.05, "eps": 0.02, "factor": 0.7},
]


@pytest.mark.parametrize("kwargs", SETTINGS)
def test_learning_rates_are_pytorchs_exactly(kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    opt = optim.SGD([{"params": [Tensor([1.0], requires_grad=True)]},
                     {"params": [Tensor([1.0], requires_grad=True)], "lr": 0.5}], lr=1.0)
    opt_t = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                             {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    sched_t = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, **kwargs)
    sign = -1.0 if kwargs.get("mode") == "max" else 1.0
    for t, value in enumerate(metrics(100, seed=len(kwargs))):
        metric = Tensor(sign * value, dtype="float64") if t % 2 else sign * value  # a 0-d loss tensor works too
        sched.step(metric)
        sched_t.step(sign * value)
        assert sched.get_last_lr() == sched_t.get_last_lr() == [g["lr"] for g in opt_t.param_groups]
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
    assert sched.get_last_lr() != [1.0, 0.5]  # it did reduce
    assert sched.state_dict() == sched_t.state_dict()


def test_state_dict_round_trips_through_a_file(tmp_path: object) -> None:
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    for value in [3.0, 3.0, 3.0, 2.0]:
        sched.step(value)
    tr.save(sched.state_dict(), tmp_path / "sched.npz")  # type: ignore[operator]
    state = tr.load(tmp_path / "sched.npz")  # type: ignore[operator]
    assert state == sched.state_dict() and state["mode_worse"] == math.inf and state["default_min_lr"] == 0.0
    other = lr_scheduler.ReduceLROnPlateau(optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0), patience=7)
    other.load_state_dict(state)
    assert other.patience == 1 and other.best == 2.0 and other.get_last_lr() == [0.1]


@pytest.mark.parametrize("kwargs, message", [
    ({"factor": 1.0}, r"factor=1.0; expected a number in \[0, 1\)"),
    ({"mode": "up"}, r"mode='up'; expected one of \['min', 'max'\]"),
    ({"threshold_mode": "pct"}, "threshold_mode='pct'"),
    ({"patience": -1}, "patience=-1"),
    ({"cooldown": 1.5}, "cooldown=1.5"),
    ({"min_lr": [0.1, 0.2]}, "got 2 min_lrs; expected 1"),
    ({"eps": -1.0}, "eps=-1.0"),
])
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lr_scheduler.ReduceLROnPlateau(optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0), **kwargs)


def test_module_doctest() -> None:
    assert doctest.testmod(plateau).failed == 0
