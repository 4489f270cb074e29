"""optim.RMSprop: plain, centered, with momentum, against NumPy by hand and torch.optim.RMSprop."""

from __future__ import annotations

import numpy as np
import pytest
from torch_reference import assert_same_as_torch, step_both

from tinygrad_rnn import Tensor, optim

P0 = np.array([0.5, -1.0, 2.0])
GRADS = [np.array([1.0, -2.0, 0.0]), np.array([0.3, 0.1, -1.0]), np.array([-0.5, 0.4, 1e-3])]


def by_hand(lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
            centered: bool = False) -> np.ndarray:
    p, v, g_avg, buf = P0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in GRADS:
        d = g + weight_decay * p
        v = alpha * v + (1 - alpha) * d * d
        g_avg = alpha * g_avg + (1 - alpha) * d
        s = (np.sqrt(v - g_avg**2) if centered else np.sqrt(v)) + eps
        buf = momentum * buf + d / s
        p = p - lr * (buf if momentum > 0 else d / s)
    return p


@pytest.mark.parametrize(
    "hyper",
    [{}, {"lr": 0.1, "alpha": 0.5, "weight_decay": 0.1}, {"momentum": 0.9}, {"centered": True, "momentum": 0.5, "alpha": 0.8}],
)
def test_three_steps_match_numpy_by_hand(device: str, hyper: dict) -> None:
    p = Tensor(P0, device=device, requires_grad=True)
    opt = optim.RMSprop([p], **hyper)
    for g in GRADS:
        p.grad = Tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(p.numpy(), by_hand(**hyper), rtol=1e-12)
    assert opt.state[0]["step"] == 3


@pytest.mark.parametrize(
    "hyper",
    [
        {},
        {"lr": 0.001, "momentum": 0.9, "centered": True, "weight_decay": 0.01, "alpha": 0.4},  # alpha < 0.5: other lerp
        {"centered": True, "maximize": True, "eps": 1e-3},
        {"lr": 0.003, "momentum": 0.3},
    ],
)
def test_many_steps_match_torch_optim_rmsprop(hyper: dict) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, ours, theirs = step_both(torch, lambda p: optim.RMSprop(p, **hyper),
                                         lambda p: torch.optim.RMSprop(p, **hyper))
    assert_same_as_torch(opt, opt_t, ours, theirs)


def test_state_holds_only_what_the_options_use() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    for hyper, names in [({}, ["square_avg", "step"]), ({"momentum": 0.5, "centered": True},
                                                        ["grad_avg", "momentum_buffer", "square_avg", "step"])]:
        opt = optim.RMSprop([p], **hyper)
        p.grad = Tensor([1.0, 1.0])
        opt.step()
        assert sorted(opt.state[0]) == names


@pytest.mark.parametrize("kwargs, message", [({"alpha": -0.1}, "alpha=-0.1"), ({"momentum": -1}, "momentum=-1"),
                                             ({"centered": "yes"}, "centered='yes'; expected True or False")])
def test_bad_hyperparameters_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.RMSprop([Tensor([1.0], requires_grad=True)], **kwargs)
