"""Adagrad: step sizes that shrink with the sum of each weight's squared gradients."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_flag, check_hyper


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011) with PyTorch's semantics.

    Every weight keeps the sum of its squared gradients and divides its step by the
    root of that sum: weights that rarely get a gradient (a rare character's embedding
    or output row) keep large steps, frequent ones slow down. It is the optimizer of
    the classic min-char-rnn, a character-level RNN in a hundred lines of NumPy. Per
    parameter p with gradient grad, at its step t = 1, 2, ...:

        d   = grad   (-grad with maximize=True)
        d   = d + weight_decay * p
        lr_t = lr / (1 + (t - 1) * lr_decay)
        sum = sum + d^2                                  (sum_0 = initial_accumulator_value)
        p   = p - lr_t * d / (sqrt(sum) + eps)

    The state (``step`` 0 and ``sum``) exists from construction on, as in PyTorch (for
    groups added later, from their first step). Unlike PyTorch, which reads it from the
    constructor for every group, a group's own ``initial_accumulator_value`` counts.

    Args:
        params: iterable of parameters, e.g. ``model.parameters()``, or of parameter-group
            dicts.
        lr: step size (>= 0).
        lr_decay: the step size decays as lr / (1 + (t - 1) * lr_decay) (>= 0).
        weight_decay: L2 penalty coefficient (>= 0).
        initial_accumulator_value: the sum's starting value (>= 0).
        eps: added to the root (>= 0).
        maximize: ascend the objective instead of descending.

    Raises:
        ValueError: a hyperparameter out of range (name, value and range are given).

    Example:
        >>> import tinygrad_rnn as tr
        >>> w = tr.Tensor([1.0, 1.0], dtype="float64", requires_grad=True)
        >>> opt = tr.optim.Adagrad([w], lr=0.5)
        >>> w.grad = tr.Tensor([4.0, -0.01], dtype="float64")
        >>> opt.step()  # first step: d / sqrt(d^2) = sign(d), whatever its size
        >>> [round(x, 6) for x in w.tolist()]
        [0.5, 1.5]
    """

    option_names = ("lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value", "maximize")
    late_options = {"maximize": False}
    state_names = ("sum",)
    counter_names = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        states = iter(self.state)  # as PyTorch: made here, or at the first step for groups added later
        for group in self.param_groups:
            for p in group["params"]:
                next(states).update(step=0, sum=p.zeros_like().fill_(group["initial_accumulator_value"]))

    def check(self, group: dict[str, Any], where: str) -> None:
        super().check(group, where)
        who = self._who(where)
        for name in ("lr_decay", "eps", "weight_decay", "initial_accumulator_value"):
            group[name] = check_hyper(who, name, group[name])
        group["maximize"] = check_flag(who, "maximize", group["maximize"])

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        d = -grad if group["maximize"] else grad
        step = state["step"] = state.get("step", 0) + 1
        if group["weight_decay"]:
            d = d.clone().add_(p, alpha=group["weight_decay"])
        lr_t = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total = self.buffer(p, state, "sum", fill=group["initial_accumulator_value"]).add_(d * d)
        p.add_(d / total.sqrt().add_(group["eps"]), alpha=-lr_t)
