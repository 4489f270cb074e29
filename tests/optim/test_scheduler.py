"""optim.scheduler.LRScheduler: what every schedule shares (epoch 0, state dicts, errors)."""

from __future__ import annotations

import pytest

from tinygrad_rnn import Tensor, optim
from tinygrad_rnn.optim import lr_scheduler


def make(lr: float = 1.0) -> optim.SGD:
    return optim.SGD([Tensor([1.0], requires_grad=True)], lr=lr)


def test_construction_is_epoch_zero_and_records_initial_lr() -> None:
    opt = make(0.5)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert sched.last_epoch == 0 and sched.base_lrs == [0.5] and opt.param_groups[0]["initial_lr"] == 0.5
    lrs = sched.get_last_lr()
    lrs.append(99.0)  # a copy: the scheduler keeps its own
    assert sched.get_last_lr() == [0.5]
    assert isinstance(sched, lr_scheduler.LRScheduler)


def test_a_failed_load_changes_nothing() -> None:
    sched = lr_scheduler.StepLR(make(), step_size=2)
    for _ in range(3):
        sched.step()
    before = sched.state_dict()
    cosine = lr_scheduler.CosineAnnealingLR(make(), T_max=5).state_dict()
    with pytest.raises(KeyError, match=r"missing keys \['step_size', 'gamma'\], unexpected keys \['T_max', 'eta_min'\]"):
        sched.load_state_dict(cosine)
    for bad, message in [({"step_size": -1}, "step_size=-1"), ({"base_lrs": [1.0, 2.0]}, "expected a list of 1"),
                         ({"last_epoch": "3"}, "last_epoch='3'"), ({"_last_lr": [float("nan")]}, "_last_lr")]:
        with pytest.raises(ValueError, match=message):
            sched.load_state_dict({**before, **bad})
        assert sched.state_dict() == before
    with pytest.raises(TypeError, match="expected a dict, got list"):
        sched.load_state_dict([before])  # type: ignore[arg-type]


def test_a_group_added_after_the_scheduler_is_refused_at_its_step() -> None:
    opt = make()
    sched = lr_scheduler.LambdaLR(opt, lambda epoch: 0.5**epoch)  # StepLR would scale every group, as PyTorch's
    opt.add_param_group({"params": [Tensor([2.0], requires_grad=True)]})
    with pytest.raises(RuntimeError, match="the optimizer has 2 parameter groups but the scheduler was made for 1"):
        sched.step()


def test_a_schedule_reaches_the_step_of_the_optimizer() -> None:
    w = Tensor([0.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        w.grad = Tensor([1.0], dtype="float64")
        opt.step()
        sched.step()
    assert w.item() == -(1.0 + 0.5 + 0.25)
