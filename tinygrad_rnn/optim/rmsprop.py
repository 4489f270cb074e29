"""RMSprop: divide each gradient by a running root mean square of its recent values."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_flag, check_hyper, lerp_, square_average_


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012) with PyTorch's semantics.

    Each weight's step is its gradient divided by the root of a running mean of its
    squares, so weights whose gradients are consistently large (or tiny) move at a
    similar pace: one remedy for the exploding and vanishing gradients of a long
    unrolled RNN (6.390 notes C.6, Vanishing gradients and gating mechanisms). Per
    parameter p with gradient grad (PyTorch's algorithm):

        d   = grad   (-grad with maximize=True)
        d   = d + weight_decay * p
        v   = alpha * v + (1 - alpha) * d^2              (v_0 = 0)
        g   = alpha * g + (1 - alpha) * d                (g_0 = 0; only with centered=True)
        s   = sqrt(v - g^2) + eps  if centered  else  sqrt(v) + eps
        buf = momentum * buf + d / s                     (buf_0 = 0; when momentum > 0)
        p   = p - lr * buf   if momentum > 0   else   p - lr * d / s

    Args:
        params: iterable of parameters, e.g. ``model.parameters()``, or of parameter-group
            dicts.
        lr: step size (>= 0).
        alpha: smoothing constant of the running mean (>= 0).
        eps: added to the root (>= 0).
        weight_decay: L2 penalty coefficient (>= 0).
        momentum: momentum factor (>= 0).
        centered: divide by an estimate of the gradient's variance instead of its
            second moment.
        maximize: ascend the objective instead of descending.

    Raises:
        ValueError: a hyperparameter out of range (name, value and range are given).
    """

    option_names = ("lr", "momentum", "alpha", "eps", "centered", "weight_decay", "maximize")
    late_options = {"maximize": False}
    state_names = ("square_avg", "momentum_buffer", "grad_avg")
    counter_names = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, maximize=maximize))

    def check(self, group: dict[str, Any], where: str) -> None:
        super().check(group, where)
        who = self._who(where)
        for name in ("momentum", "alpha", "eps", "weight_decay"):
            group[name] = check_hyper(who, name, group[name])
        group["centered"] = check_flag(who, "centered", group["centered"])
        group["maximize"] = check_flag(who, "maximize", group["maximize"])

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return (("step", "square_avg") + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        alpha, momentum, weight_decay = group["alpha"], group["momentum"], group["weight_decay"]
        d = -grad if group["maximize"] else grad
        state["step"] = state.get("step", 0) + 1
        if weight_decay:
            d = d.clone().add_(p, alpha=weight_decay)
        v = square_average_(self.buffer(p, state, "square_avg"), d, alpha)
        if group["centered"]:
            g = lerp_(self.buffer(p, state, "grad_avg"), d, 1.0 - alpha)
            s = (v - g * g).sqrt().add_(group["eps"])
        else:
            s = v.sqrt().add_(group["eps"])
        if momentum > 0:
            buf = self.buffer(p, state, "momentum_buffer").mul_(momentum).add_(d / s)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.add_(d / s, alpha=-group["lr"])
