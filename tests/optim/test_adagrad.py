"""optim.Adagrad: the accumulated squared gradients, against NumPy by hand and torch.optim.Adagrad."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from torch_reference import assert_same_as_torch, step_both

from tinygrad_rnn import Tensor, optim
from tinygrad_rnn.optim import adagrad as adagrad_module

P0 = np.array([0.5, -1.0, 2.0])
GRADS = [np.array([1.0, -2.0, 0.0]), np.array([0.3, 0.1, -1.0]), np.array([-0.5, 0.4, 1e-3])]


def by_hand(lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
            eps: float = 1e-10) -> np.ndarray:
    p, total = P0.copy(), np.full(3, initial_accumulator_value)
    for t, g in enumerate(GRADS, start=1):
        d = g + weight_decay * p
        total = total + d * d
        p = p - lr / (1 + (t - 1) * lr_decay) * d / (np.sqrt(total) + eps)
    return p


@pytest.mark.parametrize("hyper", [{}, {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1},
                                   {"initial_accumulator_value": 2.0, "eps": 1e-3}])
def test_three_steps_match_numpy_by_hand(device: str, hyper: dict) -> None:
    p = Tensor(P0, device=device, requires_grad=True)
    opt = optim.Adagrad([p], **hyper)
    for g in GRADS:
        p.grad = Tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(p.numpy(), by_hand(**hyper), rtol=1e-12)


@pytest.mark.parametrize("hyper", [{}, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5,
                                        "eps": 1e-6}, {"lr": 0.05, "maximize": True}])
def test_many_steps_match_torch_optim_adagrad(hyper: dict) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, ours, theirs = step_both(torch, lambda p: optim.Adagrad(p, **hyper),
                                         lambda p: torch.optim.Adagrad(p, **hyper))
    assert_same_as_torch(opt, opt_t, ours, theirs)


def test_state_exists_from_construction_as_in_pytorch() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    assert opt.state[0]["step"] == 0 and opt.state[0]["sum"].tolist() == [0.25, 0.25]
    assert opt.state_dict()["state"][0]["step"] == 0


def test_min_char_rnn_update() -> None:
    """min-char-rnn's loop: mem += dparam * dparam; param += -lr * dparam / sqrt(mem + 1e-8).
    Adagrad puts eps outside the root; with eps = 0 the two agree."""
    p = Tensor(P0, dtype="float64", requires_grad=True)
    opt = optim.Adagrad([p], lr=0.1, eps=0.0)
    param, mem = P0.copy(), np.zeros(3)
    for g in GRADS[1:]:  # no zero gradient: 0 / sqrt(0) is undefined
        p.grad = Tensor(g, dtype="float64")
        opt.step()
        mem += g * g
        param += -0.1 * g / np.sqrt(mem)
    np.testing.assert_allclose(p.numpy(), param, rtol=1e-12)


@pytest.mark.parametrize("kwargs, message", [({"lr_decay": -1}, "lr_decay=-1"), ({"initial_accumulator_value": -0.1},
                                             "initial_accumulator_value=-0.1"), ({"eps": float("inf")}, "eps=inf")])
def test_bad_hyperparameters_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.Adagrad([Tensor([1.0], requires_grad=True)], **kwargs)


def test_docstring_example_runs() -> None:
    assert doctest.testmod(adagrad_module).failed == 0
