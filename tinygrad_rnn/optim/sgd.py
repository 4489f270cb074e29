"""Stochastic gradient descent, with optional momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, check_hyper


class SGD(Optimizer):
    """Gradient descent W <- W - eta * dJ/dW on the tape's gradients (PyTorch's SGD).

    The notes train the RNN by gradient descent on J(W) (6.390 notes C.16, and C.5
    Back-propagation through time, which gives dJ/dW); one ``step()`` is one such update
    with step size eta = ``lr``. Per parameter p with gradient grad:

        d   = grad + weight_decay * p               (L2 penalty (weight_decay / 2) ||p||^2)
        buf = momentum * buf + d                    (buf = d at the first step)
        p   = p - lr * buf                          (p - lr * d when momentum == 0)

    With ``nesterov=True`` the last line uses d + momentum * buf instead of buf.

    Args:
        params: iterable of parameters, e.g. ``model.parameters()``.
        lr: step size eta (>= 0).
        momentum: momentum factor in [0, 1).
        weight_decay: L2 penalty coefficient (>= 0).
        nesterov: use Nesterov momentum (needs momentum > 0).

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

    hyper_names = ("lr", "momentum", "weight_decay", "nesterov")
    state_names = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params)
        self.lr, self.momentum, self.weight_decay, self.nesterov = lr, momentum, weight_decay, nesterov
        self.validate()

    def validate(self) -> None:
        self.lr = check_hyper("SGD", "lr", self.lr)
        self.momentum = check_hyper("SGD", "momentum", self.momentum, high=1.0)
        self.weight_decay = check_hyper("SGD", "weight_decay", self.weight_decay)
        self.nesterov = bool(self.nesterov)
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("SGD: nesterov=True with momentum=0.0; expected momentum > 0 for Nesterov momentum")

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        d = grad + p * self.weight_decay if self.weight_decay else grad
        if self.momentum:
            if "momentum_buffer" not in state:
                buf = state["momentum_buffer"] = d.clone()  # a copy: d may be the gradient itself
            else:
                buf = self.buffer(p, state, "momentum_buffer").mul_(self.momentum).add_(d)
            d = d + buf * self.momentum if self.nesterov else buf
        p.sub_(d * self.lr)
