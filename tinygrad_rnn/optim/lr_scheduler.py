"""Learning-rate schedules with PyTorch's semantics (``torch.optim.lr_scheduler``).

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups at each
``step()``; call it after ``optimizer.step()``, once per epoch (or per batch, as the
schedule is meant). Constructing one already sets the learning rate of epoch 0. The
values follow PyTorch's own recurrences (not only its closed forms), so the sequence of
learning rates is PyTorch's to the last bit.

Example:
    >>> import tinygrad_rnn as tr
    >>> w = tr.Tensor([1.0], requires_grad=True)
    >>> opt = tr.optim.SGD([w], lr=1.0)
    >>> sched = tr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(sched.get_last_lr()[0])  # training with this lr, then opt.step()
    ...     sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from .optimizer import Optimizer
from .plateau import ReduceLROnPlateau
from .scheduler import LRScheduler, check_int, check_number


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

        lr_epoch = base_lr * gamma ** floor(epoch / step_size)

    Args:
        optimizer: the optimizer whose groups' ``"lr"`` is set.
        step_size: epochs between decays (an int >= 1).
        gamma: the factor (>= 0).
        last_epoch: the last epoch done, to resume (-1: start afresh).

    Raises:
        TypeError: ``optimizer`` is not a ``tr.optim`` optimizer.
        ValueError: an argument out of range.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def check(self) -> None:
        self.step_size = check_int(self, "step_size", self.step_size, low=1)
        self.gamma = check_number(self, "gamma", self.gamma)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.current_lrs()
        return [lr * self.gamma for lr in self.current_lrs()]

    def closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

        lr_epoch = base_lr * gamma ** (number of milestones <= epoch)

    Args:
        optimizer: the optimizer whose groups' ``"lr"`` is set.
        milestones: epochs (ints >= 0); one listed twice decays twice.
        gamma: the factor (>= 0).
        last_epoch: the last epoch done, to resume (-1: start afresh).

    Raises:
        TypeError: ``optimizer`` is not a ``tr.optim`` optimizer.
        ValueError: an argument out of range.
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.milestones = milestones
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def check(self) -> None:
        counts = self.milestones
        if isinstance(counts, dict):  # a state dict's {epoch: count}; JSON may have made the epochs text
            counts = Counter({int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in counts.items()})
        else:
            try:
                counts = Counter(counts)
            except TypeError:
                raise ValueError(f"MultiStepLR: milestones={self.milestones!r}; expected a list of ints") from None
        for epoch, count in counts.items():
            check_int(self, "milestones[...]", epoch, low=0)
            check_int(self, f"the count of milestone {epoch}", count, low=1)
        self.milestones = counts
        self.gamma = check_number(self, "gamma", self.gamma)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self.current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self.current_lrs()]

    def closed_form_lr(self) -> list[float]:
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["milestones"] = dict(self.milestones)
        return state


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

        lr_epoch = base_lr * gamma ** epoch

    Args:
        optimizer: the optimizer whose groups' ``"lr"`` is set.
        gamma: the factor (>= 0).
        last_epoch: the last epoch done, to resume (-1: start afresh).

    Raises:
        TypeError: ``optimizer`` is not a ``tr.optim`` optimizer.
        ValueError: an argument out of range.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def check(self) -> None:
        self.gamma = check_number(self, "gamma", self.gamma)

    def get_lr(self) -> list[float]:
        if self._initial:
            return self.current_lrs()
        return [lr * self.gamma for lr in self.current_lrs()]

    def closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from ``base_lr`` to ``eta_min`` along half a cosine.

        lr_epoch = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    PyTorch computes it by a recurrence from the current ``group["lr"]`` (so it composes
    with other changes of the lr), and so does this class:

        lr_epoch = eta_min + (lr_{epoch-1} - eta_min) * (1 + cos(pi * epoch / T_max))
                                                       / (1 + cos(pi * (epoch - 1) / T_max))

    past ``T_max`` the lr climbs back up (a full cosine period is 2 T_max), with
    ``lr_{epoch-1} + (base_lr - eta_min) * (1 - cos(pi / T_max)) / 2`` at the bottom.

    Args:
        optimizer: the optimizer whose groups' ``"lr"`` is set.
        T_max: epochs of the half period (an int >= 1).
        eta_min: the lowest learning rate (>= 0).
        last_epoch: the last epoch done, to resume (-1: start afresh).

    Raises:
        TypeError: ``optimizer`` is not a ``tr.optim`` optimizer.
        ValueError: an argument out of range.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def check(self) -> None:
        self.T_max = check_int(self, "T_max", self.T_max, low=1)
        self.eta_min = check_number(self, "eta_min", self.eta_min)

    def get_lr(self) -> list[float]:
        epoch, T, low = self.last_epoch, self.T_max, self.eta_min  # noqa: N806 (the notes' T)
        if self._initial:
            return self.current_lrs()
        if self._step_count == 1 and epoch > 0:  # resumed with last_epoch: the closed form
            return [low + (base - low) * (1 + math.cos(epoch * math.pi / T)) / 2 for base in self.base_lrs]
        if (epoch - 1 - T) % (2 * T) == 0:  # the bottom of the cosine
            return [lr + (base - low) * (1 - math.cos(math.pi / T)) / 2
                    for base, lr in zip(self.base_lrs, self.current_lrs(), strict=True)]
        return [(1 + math.cos(math.pi * epoch / T)) / (1 + math.cos(math.pi * (epoch - 1) / T)) * (lr - low) + low
                for lr in self.current_lrs()]

    def closed_form_lr(self) -> list[float]:
        T, low = self.T_max, self.eta_min  # noqa: N806
        return [low + (base - low) * (1 + math.cos(math.pi * self.last_epoch / T)) / 2 for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """Set the learning rate to the base lr times a function of the epoch.

        lr_epoch = base_lr * lr_lambda(epoch)

    ``state_dict()`` saves no plain functions (``None`` in their place, as PyTorch does),
    but does save the attributes of callable objects.

    Args:
        optimizer: the optimizer whose groups' ``"lr"`` is set.
        lr_lambda: a function of the epoch (an int), or a list of them, one per group.
        last_epoch: the last epoch done, to resume (-1: start afresh).

    Raises:
        TypeError: ``optimizer`` is not a ``tr.optim`` optimizer, or ``lr_lambda`` is not
            callable.
        ValueError: the number of functions differs from the number of groups.
    """

    not_state = ("lr_lambdas",)

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        groups = len(getattr(optimizer, "param_groups", ()))
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: got {len(lr_lambda)} lr_lambdas; expected {groups}, one per group")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        for k, fn in enumerate(self.lr_lambdas):
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda[{k}] is a {type(fn).__name__}; expected a function of the epoch")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [None if _is_function(fn) else dict(vars(fn)) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = state_dict.get("lr_lambdas", [None] * len(self.lr_lambdas)) if isinstance(state_dict, dict) else None
        if not isinstance(saved, (list, tuple)) or len(saved) != len(self.lr_lambdas) or \
                not all(s is None or isinstance(s, dict) for s in saved):
            raise ValueError(f"LambdaLR.load_state_dict: lr_lambdas is {saved!r}; expected a list of "
                             f"{len(self.lr_lambdas)} entries, each None or a dict of attributes")
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "lr_lambdas"})
        for fn, attributes in zip(self.lr_lambdas, saved, strict=True):
            if attributes is not None:
                vars(fn).update(attributes)


def _is_function(fn: Any) -> bool:
    """Plain functions and lambdas (their code is not state); callable objects keep attributes."""
    return type(fn).__name__ in ("function", "builtin_function_or_method", "method") or not hasattr(fn, "__dict__")


__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
           "ReduceLROnPlateau"]
