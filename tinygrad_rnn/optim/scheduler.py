"""``LRScheduler``: the base of the learning-rate schedules in :mod:`.lr_scheduler`."""

from __future__ import annotations

import copy
import numbers
import warnings
from typing import Any

from .checks import check_hyper
from .optimizer import Optimizer

# PyTorch's schedulers save these private flags too; loading one of their state dicts ignores them.
TORCH_FLAGS = ("_is_initial", "_get_lr_called_within_step")


def check_number(owner: Any, name: str, value: Any, low: float = 0.0) -> float:
    """A finite real number >= low, as a float (the optimizers' hyperparameter check, named by the schedule)."""
    return check_hyper(type(owner).__name__, name, value, low)


def check_int(owner: Any, name: str, value: Any, low: int) -> int:
    """An int >= low (bools refused)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{type(owner).__name__}: {name}={value!r}; expected an int >= {low}")
    return int(value)


def check_optimizer(owner: Any, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        hint = " (a PyTorch optimizer? build it with tr.optim)" if "torch" in type(optimizer).__module__ else ""
        raise TypeError(f"{type(owner).__name__}: optimizer is a {type(optimizer).__name__}; expected an optimizer "
                        f"from tr.optim{hint}")
    return optimizer


class LRScheduler:
    """Base class: subclasses define ``get_lr`` (and ``check`` for their arguments).

    Each ``step()`` advances ``last_epoch`` by one and writes ``get_lr()`` into the
    groups' ``"lr"``. The constructor records each group's starting lr as
    ``group["initial_lr"]`` (the ``base_lrs``) and makes the step of epoch 0.

    Args:
        optimizer: the optimizer whose groups' ``"lr"`` the schedule sets.
        last_epoch: the last epoch done (-1: start afresh). To resume, load the
            optimizer's state (which holds ``initial_lr``) and pass the epoch, or
            better, build the scheduler afresh and ``load_state_dict`` its state.

    Attributes:
        optimizer: the optimizer.
        base_lrs: the groups' starting learning rates.
        last_epoch: the number of ``step()`` calls after the first (epoch 0).

    Raises:
        TypeError: ``optimizer`` is not a ``tr.optim`` optimizer.
        KeyError: ``last_epoch >= 0`` but a group has no ``"initial_lr"``.
        ValueError: an argument out of range.
    """

    _initial = False  # True while the constructor makes the step of epoch 0
    not_state: tuple[str, ...] = ()  # attributes that state_dict() leaves out (besides the optimizer)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = check_optimizer(self, optimizer)
        self.check()
        last_epoch = check_int(self, "last_epoch", last_epoch, low=-1)
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            missing = [k for k, group in enumerate(groups) if "initial_lr" not in group]
            if missing:
                raise KeyError(f"{type(self).__name__}: last_epoch={last_epoch} but param_groups {missing} have no "
                               "'initial_lr'; expected the optimizer's state loaded from the checkpoint first, or "
                               "last_epoch=-1 for a fresh run")
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial = True
        try:
            self.step()
        finally:
            del self._initial

    # ------------------------------------------------------------ subclass hooks
    def check(self) -> None:
        """Check (and normalize) the subclass's arguments; called again by ``load_state_dict``."""

    def get_lr(self) -> list[float]:
        """The learning rates of epoch ``last_epoch``, one per group."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_lr()")

    def current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # ------------------------------------------------------------------ stepping
    def step(self, epoch: int | None = None) -> None:
        """Advance to the next epoch and set its learning rates (call after ``optimizer.step()``).

        Args:
            epoch: deprecated in PyTorch (a warning says so): jump to this epoch, by the
                closed form where the schedule has one.

        Raises:
            RuntimeError: the optimizer gained or lost groups since the scheduler was made.
        """
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn("scheduler.step(epoch) is deprecated in PyTorch; call scheduler.step() once per epoch",
                          UserWarning, stacklevel=2)
            self.last_epoch = check_int(self, "epoch", epoch, low=0)
            closed = getattr(self, "closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise RuntimeError(f"{type(self).__name__}.step: the optimizer has {len(groups)} parameter groups but the "
                               f"scheduler was made for {len(values)}; expected a new scheduler after add_param_group")
        for group, lr in zip(groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per group."""
        return list(self._last_lr)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer (PyTorch's keys, less its private flags), copied."""
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if k != "optimizer" and k not in self.not_state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (or a PyTorch scheduler's), all or nothing.

        Raises:
            TypeError: ``state_dict`` is not a dict.
            KeyError: keys are missing or unexpected (all are named).
            ValueError: a value is out of range (the scheduler is left as it was).
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = [k for k in vars(self) if k != "optimizer" and k not in self.not_state]
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own and k not in TORCH_FLAGS]
        if missing or unexpected:
            raise KeyError(f"{name}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}; "
                           f"expected the keys {own} (a state dict of another scheduler class?)")
        backup = dict(vars(self))
        try:
            for key in own:
                setattr(self, key, copy.deepcopy(state_dict[key]))
            self.check()
            self.check_state()
        except (TypeError, ValueError):
            vars(self).clear()
            vars(self).update(backup)
            raise

    def check_state(self) -> None:
        """The counters and learning-rate lists of a loaded state are well formed."""
        groups = len(self.optimizer.param_groups)
        self.last_epoch = check_int(self, "last_epoch", self.last_epoch, low=-1)
        self._step_count = check_int(self, "_step_count", self._step_count, low=0)
        for key in ("base_lrs", "_last_lr"):
            values = getattr(self, key)
            if not isinstance(values, (list, tuple)) or len(values) != groups:
                raise ValueError(f"{type(self).__name__}: {key}={values!r}; expected a list of {groups} learning "
                                 "rates, one per parameter group")
            setattr(self, key, [check_number(self, f"{key}[{k}]", v) for k, v in enumerate(values)])
