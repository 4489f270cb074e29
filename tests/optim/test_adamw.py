"""optim.AdamW: decoupled weight decay, against NumPy by hand and torch.optim.AdamW."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from torch_reference import assert_same_as_torch, step_both

from tinygrad_rnn import Tensor, optim
from tinygrad_rnn.optim import adamw as adamw_module

P0 = np.array([0.5, -1.0, 2.0])
GRADS = [np.array([1.0, -2.0, 0.0]), np.array([0.3, 0.1, -1.0]), np.array([-0.5, 0.4, 1e-3])]


def by_hand(lr: float, weight_decay: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> np.ndarray:
    beta1, beta2 = betas
    p, m, v = P0.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        p = p * (1 - lr * weight_decay)  # the decay never enters the moments
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        p = p - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return p


@pytest.mark.parametrize("hyper", [{"lr": 0.1, "weight_decay": 0.01}, {"lr": 0.05, "weight_decay": 0.5, "betas": (0.5, 0.9)}])
def test_three_steps_match_numpy_by_hand(device: str, hyper: dict) -> None:
    p = Tensor(P0, device=device, requires_grad=True)
    opt = optim.AdamW([p], **hyper)
    for g in GRADS:
        p.grad = Tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(p.numpy(), by_hand(**hyper), rtol=1e-12)


@pytest.mark.parametrize("hyper", [{}, {"lr": 0.02, "weight_decay": 0.3, "amsgrad": True}, {"maximize": True, "betas": (0.2, 0.6)}])
def test_many_steps_match_torch_optim_adamw(hyper: dict) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, ours, theirs = step_both(torch, lambda p: optim.AdamW(p, **hyper), lambda p: torch.optim.AdamW(p, **hyper))
    assert_same_as_torch(opt, opt_t, ours, theirs)


def test_it_is_adam_with_decoupled_weight_decay_and_stays_so() -> None:
    a, b = Tensor(P0, requires_grad=True), Tensor(P0, requires_grad=True)
    adamw, adam = optim.AdamW([a], weight_decay=0.1), optim.Adam([b], weight_decay=0.1, decoupled_weight_decay=True)
    assert adamw.defaults["weight_decay"] == 0.1 and optim.AdamW([a]).defaults["weight_decay"] == 1e-2
    sd = adamw.state_dict()
    sd["param_groups"][0]["decoupled_weight_decay"] = False
    adamw.load_state_dict(sd)  # as PyTorch's AdamW: always decoupled
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    for g in GRADS:
        a.grad, b.grad = Tensor(g), Tensor(g)
        adamw.step()
        adam.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_docstring_example_runs() -> None:
    assert doctest.testmod(adamw_module).failed == 0
