"""optim.lr_scheduler: each schedule's learning rates are PyTorch's, bit for bit."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest

from tinygrad_rnn import Tensor, optim
from tinygrad_rnn.optim import lr_scheduler

SCHEDULES = {  # name: (our kwargs, PyTorch's kwargs); lambdas are the same functions for both
    "StepLR": ({"step_size": 3, "gamma": 0.5},) * 2,
    "StepLR-1": ({"step_size": 1, "gamma": 0.9},) * 2,
    "MultiStepLR": ({"milestones": [2, 5, 5, 11], "gamma": 0.3},) * 2,
    "ExponentialLR": ({"gamma": 0.93},) * 2,
    "CosineAnnealingLR": ({"T_max": 7, "eta_min": 0.001},) * 2,  # 40 epochs: several periods, and the bottoms
    "CosineAnnealingLR-0": ({"T_max": 10},) * 2,
    "LambdaLR": ({"lr_lambda": lambda epoch: 1 / (1 + epoch) ** 0.5},) * 2,
    "LambdaLR-list": ({"lr_lambda": [lambda e: 0.9**e, lambda e: min(1.0, (e + 1) / 5)]},) * 2,
}


def make_both(torch: object, key: str, last_epoch: int = -1) -> tuple:
    name = key.split("-")[0]
    ours_kw, theirs_kw = SCHEDULES[key]
    w = [Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)]
    v = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]  # type: ignore[attr-defined]
    opt = optim.SGD([{"params": w[:1]}, {"params": w[1:], "lr": 0.3}], lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD([{"params": v[:1]}, {"params": v[1:], "lr": 0.3}], lr=0.1, momentum=0.9)  # type: ignore[attr-defined]
    sched = getattr(lr_scheduler, name)(opt, **ours_kw)
    sched_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **theirs_kw)  # type: ignore[attr-defined]
    return opt, opt_t, sched, sched_t


def advance(opt: object, opt_t: object, sched: object, sched_t: object, steps: int) -> list[list[float]]:
    seen = []
    for _ in range(steps):
        ours, theirs = sched.get_last_lr(), sched_t.get_last_lr()  # type: ignore[attr-defined]
        assert ours == theirs  # exactly: the same floating-point operations
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in opt_t.param_groups]  # type: ignore[attr-defined]
        seen.append(ours)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's "lr_scheduler.step() before optimizer.step()"
            sched.step()  # type: ignore[attr-defined]
            sched_t.step()  # type: ignore[attr-defined]
    return seen


@pytest.mark.parametrize("key", sorted(SCHEDULES))
def test_learning_rates_are_pytorchs_exactly(key: str) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, sched, sched_t = make_both(torch, key)
    seen = advance(opt, opt_t, sched, sched_t, 40)
    assert len({tuple(s) for s in seen}) > 1  # the schedule moved
    assert sched.last_epoch == sched_t.last_epoch == 40
    assert opt.param_groups[1]["initial_lr"] == 0.3 == opt_t.param_groups[1]["initial_lr"]


@pytest.mark.parametrize("key", sorted(SCHEDULES))
def test_state_dicts_are_pytorchs_and_resume_exactly(key: str) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, sched, sched_t = make_both(torch, key)
    advance(opt, opt_t, sched, sched_t, 13)
    theirs = {k: v for k, v in sched_t.state_dict().items() if k not in ("_is_initial", "_get_lr_called_within_step")}
    ours = sched.state_dict()
    assert list(ours) == list(theirs) and ours == theirs  # lambdas: None in both

    fresh_opt, fresh_opt_t, fresh, fresh_t = make_both(torch, key)  # a new run, resumed from the saved states
    fresh_opt.load_state_dict(opt.state_dict())
    fresh.load_state_dict(sched_t.state_dict())  # PyTorch's own state dict loads too
    fresh_opt_t.load_state_dict(opt_t.state_dict())
    fresh_t.load_state_dict(sched_t.state_dict())
    assert advance(fresh_opt, fresh_opt_t, fresh, fresh_t, 20) == advance(opt, opt_t, sched, sched_t, 20)


@pytest.mark.parametrize("key", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"])
def test_resuming_with_last_epoch_is_pytorchs(key: str) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, sched, sched_t = make_both(torch, key)
    advance(opt, opt_t, sched, sched_t, 9)
    name = key.split("-")[0]
    kwargs = SCHEDULES[key][0]
    again = getattr(lr_scheduler, name)(opt, **kwargs, last_epoch=8)  # the groups hold initial_lr already
    again_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kwargs, last_epoch=8)
    advance(opt, opt_t, again, again_t, 15)


@pytest.mark.parametrize("key", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"])
def test_step_with_an_epoch_uses_pytorchs_closed_form(key: str) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, sched, sched_t = make_both(torch, key)
    for epoch in (4, 17, 9):
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched_t.step(epoch)
        assert sched.get_last_lr() == sched_t.get_last_lr() and sched.last_epoch == epoch


def test_cosine_closed_form_and_recurrence_agree_closely() -> None:
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.1)
    for epoch in range(1, 60):
        sched.step()
        expected = 0.1 + 0.9 * (1 + math.cos(math.pi * epoch / 20)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_schedules_by_hand() -> None:
    def lrs(make: object, n: int = 7) -> list[float]:
        opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
        sched = make(opt)  # type: ignore[operator]
        out = []
        for _ in range(n):
            out.append(sched.get_last_lr()[0])
            sched.step()
        return out

    assert lrs(lambda o: lr_scheduler.StepLR(o, 3, gamma=0.5)) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert lrs(lambda o: lr_scheduler.MultiStepLR(o, [1, 4, 4], gamma=0.5)) == [1, 0.5, 0.5, 0.5, 0.125, 0.125, 0.125]
    assert lrs(lambda o: lr_scheduler.ExponentialLR(o, 0.5), 4) == [1, 0.5, 0.25, 0.125]
    assert lrs(lambda o: lr_scheduler.LambdaLR(o, lambda e: e + 1), 4) == [1, 2, 3, 4]
    cosine = lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=2), 5)
    np.testing.assert_allclose(cosine, [1, 0.5, 0, 0.5, 1], atol=1e-15)


class Warmup:
    """A callable object: LambdaLR saves its attributes (a plain function has none to save)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def __call__(self, epoch: int) -> float:
        return min(1.0, (epoch + 1) / self.epochs)


def test_lambda_lr_saves_the_attributes_of_callable_objects() -> None:
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    sched = lr_scheduler.LambdaLR(opt, Warmup(4))
    assert sched.state_dict()["lr_lambdas"] == [{"epochs": 4}]
    other = lr_scheduler.LambdaLR(optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0), Warmup(10))
    other.load_state_dict(sched.state_dict())
    assert other.lr_lambdas[0].epochs == 4
    with pytest.raises(ValueError, match="expected a list of 1 entries, each None or a dict"):
        other.load_state_dict({**sched.state_dict(), "lr_lambdas": [3]})


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.StepLR(o, 0), ValueError, "StepLR: step_size=0; expected an int >= 1"),
    (lambda o: lr_scheduler.StepLR(o, 2.5), ValueError, "step_size=2.5"),
    (lambda o: lr_scheduler.ExponentialLR(o, -0.5), ValueError, "ExponentialLR: gamma=-0.5"),
    (lambda o: lr_scheduler.MultiStepLR(o, [3, -1]), ValueError, r"milestones\[...\]=-1"),
    (lambda o: lr_scheduler.MultiStepLR(o, 5), ValueError, "milestones=5; expected a list of ints"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "T_max=0"),
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, r"lr_lambda\[0\] is a float"),
    (lambda o: lr_scheduler.LambdaLR(o, [abs, abs]), ValueError, "got 2 lr_lambdas; expected 1"),
    (lambda o: lr_scheduler.StepLR(o, 2, last_epoch=-2), ValueError, "last_epoch=-2"),
    (lambda o: lr_scheduler.StepLR(o, 2, last_epoch=3), KeyError, r"param_groups \[0\] have no 'initial_lr'"),
    (lambda o: lr_scheduler.StepLR([o], 2), TypeError, "optimizer is a list; expected an optimizer from tr.optim"),
])
def test_bad_arguments_are_named(make: object, error: type, message: str) -> None:
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    with pytest.raises(error, match=message):
        make(opt)  # type: ignore[operator]


def test_module_doctest() -> None:
    assert doctest.testmod(lr_scheduler).failed == 0
