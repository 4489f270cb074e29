"""Stochastic gradient descent, with optional momentum and weight decay."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_flag, check_hyper


class SGD(Optimizer):
    """Gradient descent W <- W - eta * dJ/dW on the tape's gradients (PyTorch's SGD).

    The notes train the RNN by gradient descent on J(W) (6.390 notes C.16, and C.5
    Back-propagation through time, which gives dJ/dW); one ``step()`` is one such update
    with step size eta = ``lr``. Per parameter p with gradient grad (PyTorch's algorithm):

        d   = grad   (-grad with maximize=True)
        d   = d + weight_decay * p                  (L2 penalty (weight_decay / 2) ||p||^2)
        buf = momentum * buf + (1 - dampening) * d  (buf = d at the first step)
        d   = d + momentum * buf  if nesterov  else  buf      (when momentum > 0)
        p   = p - lr * d

    Args:
        params: iterable of parameters, e.g. ``model.parameters()``, or of parameter-group
            dicts (``[{"params": a}, {"params": b, "lr": 0.1}]``).
        lr: step size eta (>= 0).
        momentum: momentum factor in [0, 1).
        dampening: damping of the gradient's share in the momentum buffer (>= 0).
        weight_decay: L2 penalty coefficient (>= 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead of descending.

    Raises:
        ValueError: a hyperparameter out of range (name, value and range are given).

    Example:
        >>> import tinygrad_rnn as tr
        >>> w = tr.Tensor([1.0, -2.0], requires_grad=True)
        >>> opt = tr.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w.tolist()
        [0.800000011920929, -1.600000023841858]
    """

    option_names = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    late_options = {"dampening": 0.0, "maximize": False}  # earlier versions saved neither
    state_names = ("momentum_buffer",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def check(self, group: dict[str, Any], where: str) -> None:
        super().check(group, where)
        who = self._who(where)
        group["momentum"] = check_hyper(who, "momentum", group["momentum"], high=1.0)
        group["dampening"] = check_hyper(who, "dampening", group["dampening"])
        group["weight_decay"] = check_hyper(who, "weight_decay", group["weight_decay"])
        group["nesterov"] = check_flag(who, "nesterov", group["nesterov"])
        group["maximize"] = check_flag(who, "maximize", group["maximize"])
        if group["nesterov"] and (group["momentum"] == 0.0 or group["dampening"] != 0.0):
            raise ValueError(f"{who}: nesterov=True with momentum={group['momentum']} and dampening="
                             f"{group['dampening']}; expected momentum > 0 and dampening 0 for Nesterov momentum")

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] else ()

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        d = -grad if group["maximize"] else grad
        if weight_decay:
            d = d.clone().add_(p, alpha=weight_decay)
        if momentum:
            if "momentum_buffer" not in state:
                buf = state["momentum_buffer"] = d.clone()  # a copy: d may be the gradient itself
            else:
                buf = self.buffer(p, state, "momentum_buffer").mul_(momentum).add_(d, alpha=1.0 - group["dampening"])
            d = d.clone().add_(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(d, alpha=-group["lr"])
