"""``ReduceLROnPlateau``: lower the learning rate when a metric stops improving."""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer
from .scheduler import LRScheduler, check_int, check_number, check_optimizer


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` once a metric has not improved for
    ``patience`` epochs (PyTorch's semantics).

    Each ``step(metric)`` compares the metric with the best so far. In ``"min"`` mode a
    value is better when (``threshold_mode`` ``"rel"``) metric < best * (1 - threshold)
    or (``"abs"``) metric < best - threshold; in ``"max"`` mode when metric >
    best * (1 + threshold) or metric > best + threshold. After more than ``patience``
    epochs in a row without a better value,

        lr = max(lr * factor, min_lr)     (unless that changes lr by eps or less)

    and the next ``cooldown`` epochs count no bad epochs.

    Args:
        optimizer: the optimizer whose groups' ``"lr"`` is set.
        mode: ``"min"`` (a loss) or ``"max"`` (an accuracy).
        factor: the factor, in [0, 1).
        patience: bad epochs tolerated before a reduction (an int >= 0).
        threshold: the least change that counts as better (>= 0).
        threshold_mode: ``"rel"`` or ``"abs"`` (see above).
        cooldown: epochs after a reduction that count no bad epochs (an int >= 0).
        min_lr: the lowest learning rate, one number or a list of one per group.
        eps: smallest change of the lr that is made (>= 0).

    Raises:
        TypeError: ``optimizer`` is not a ``tr.optim`` optimizer.
        ValueError: an argument out of range, or ``min_lr`` a list of the wrong length.

    Example:
        >>> import tinygrad_rnn as tr
        >>> opt = tr.optim.SGD([tr.Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> sched = tr.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
        >>> lrs = []
        >>> for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 1.0]:  # one epoch each
        ...     sched.step(loss)
        ...     lrs.append(sched.get_last_lr()[0])
        >>> lrs  # 2.0 did not improve twice in a row (more than patience=1): halved
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        self.factor = factor
        self.optimizer = check_optimizer(self, optimizer)
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"ReduceLROnPlateau: got {len(min_lr)} min_lrs; expected {groups}, one per group")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * groups
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = self.current_lrs()
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.check()
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best, self.cooldown_counter, self.num_bad_epochs = self.mode_worse, 0, 0

    def check(self) -> None:
        if not 0.0 <= check_number(self, "factor", self.factor) < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor={self.factor!r}; expected a number in [0, 1)")
        self.factor = float(self.factor)
        for name, allowed in (("mode", ("min", "max")), ("threshold_mode", ("rel", "abs"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"ReduceLROnPlateau: {name}={getattr(self, name)!r}; expected one of {list(allowed)}")
        self.patience = check_int(self, "patience", self.patience, low=0)
        self.cooldown = check_int(self, "cooldown", self.cooldown, low=0)
        self.threshold = check_number(self, "threshold", self.threshold)
        self.eps = check_number(self, "eps", self.eps)
        if self.default_min_lr is not None:
            self.default_min_lr = check_number(self, "min_lr", self.default_min_lr)
        self.min_lrs = [check_number(self, f"min_lr[{k}]", v) for k, v in enumerate(self.min_lrs)]

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Take this epoch's metric (a number or a one-element Tensor) and maybe lower the lr."""
        current = float(metrics.item() if isinstance(metrics, Tensor) else metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else check_int(self, "epoch", epoch, low=0)
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self.current_lrs()

    def is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but min_lr "
                                   f"lists {len(self.min_lrs)}; expected min_lrs to be extended after add_param_group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, low in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, low)
            if old - new > self.eps:
                group["lr"] = new

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def check_state(self) -> None:
        self.last_epoch = check_int(self, "last_epoch", self.last_epoch, low=0)
        self.cooldown_counter = check_int(self, "cooldown_counter", self.cooldown_counter, low=0)
        self.num_bad_epochs = check_int(self, "num_bad_epochs", self.num_bad_epochs, low=0)
        self.mode_worse = math.inf if self.mode == "min" else -math.inf
        if not isinstance(self.best, (int, float)) or isinstance(self.best, bool):
            raise ValueError(f"ReduceLROnPlateau: best={self.best!r}; expected a number")
        self.best = float(self.best)
        if not isinstance(self._last_lr, (list, tuple)):
            raise ValueError(f"ReduceLROnPlateau: _last_lr={self._last_lr!r}; expected a list of learning rates")
        self._last_lr = [check_number(self, f"_last_lr[{k}]", v) for k, v in enumerate(self._last_lr)]
