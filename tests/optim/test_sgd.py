"""optim.SGD: plain, momentum, weight decay, Nesterov, against NumPy by hand and torch.optim."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from torch_reference import assert_same_as_torch, step_both, train_both

from tinygrad_rnn import Tensor, optim
from tinygrad_rnn.optim import sgd as sgd_module

P0 = np.array([[0.5, -1.0], [2.0, 0.25]])
GRADS = [np.array([[1.0, -2.0], [0.5, 0.0]]), np.array([[0.3, 0.1], [-1.0, 2.0]]), np.array([[-0.5, 0.4], [0.2, 1.0]])]


def run_ours(device: str, **hyper: float) -> np.ndarray:
    p = Tensor(P0, device=device, requires_grad=True)
    opt = optim.SGD([p], **hyper)
    for g in GRADS:
        p.grad = Tensor(g, device=device)
        opt.step()
    assert p.device == device
    return p.numpy()


def by_hand(lr: float, momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> np.ndarray:
    p, buf = P0.copy(), None
    for g in GRADS:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 0.1},
        {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.05, "weight_decay": 0.1},
        {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01},
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    ],
)
def test_three_steps_match_numpy_by_hand(device: str, hyper: dict) -> None:
    np.testing.assert_allclose(run_ours(device, **hyper), by_hand(**hyper), rtol=1e-14)


def test_one_plain_step_is_p_minus_lr_grad() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()  # grad = 2 p
    optim.SGD([p], lr=0.25).step()
    np.testing.assert_allclose(p.numpy(), [0.5, 1.0])


@pytest.mark.parametrize("hyper", [{"momentum": 0.0}, {"momentum": 0.9, "weight_decay": 0.01}, {"momentum": 0.8, "nesterov": True}])
def test_training_a_linear_layer_matches_torch_optim(hyper: dict) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = train_both(
        torch,
        lambda params: optim.SGD(params, lr=0.1, **hyper),
        lambda params: torch.optim.SGD(params, lr=0.1, **hyper),
        steps=4,
    )
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(layer.state_dict()[name], value.numpy(), rtol=1e-12, err_msg=name)


def test_gradient_arrays_are_not_written_to(device: str) -> None:
    p = Tensor(P0, device=device, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)  # the first buffer must be a copy of the gradient
    grad = Tensor(GRADS[0], device=device)
    p.grad = grad
    opt.step()
    opt.step()
    np.testing.assert_array_equal(grad.numpy(), GRADS[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -0.1}, "lr=-0.1; expected a finite number >= 0"),
        ({"lr": "0.1"}, "lr='0.1'"),
        ({"lr": float("nan")}, "lr=nan"),
        ({"lr": 0.1, "momentum": 1.0}, r"momentum=1.0; expected a finite number \[0.0, 1.0\)"),
        ({"lr": 0.1, "weight_decay": -1}, "weight_decay=-1"),
        ({"lr": 0.1, "nesterov": True}, "nesterov=True with momentum=0.0"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.SGD([Tensor([1.0], requires_grad=True)], **kwargs)


def test_step_skips_parameters_without_gradients() -> None:
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    a.grad = Tensor([1.0])
    optim.SGD([a, b], lr=0.5, weight_decay=1.0).step()
    assert a.item() == 0.0 and b.item() == 2.0


def test_docstring_example_runs() -> None:
    assert doctest.testmod(sgd_module).failed == 0


def test_lr_can_be_changed_between_steps() -> None:
    p = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    p.grad = Tensor([1.0])
    opt.lr = 0.5
    opt.step()
    assert p.item() == 0.5
    assert "lr=0.5" in repr(opt)


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.6, "nesterov": True, "weight_decay": 0.1},
        {"lr": 0.02, "momentum": 0.9, "maximize": True},
    ],
)
def test_many_steps_match_torch_optim_sgd(hyper: dict) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, ours, theirs = step_both(torch, lambda p: optim.SGD(p, **hyper), lambda p: torch.optim.SGD(p, **hyper))
    assert_same_as_torch(opt, opt_t, ours, theirs)


def test_dampening_scales_the_gradient_in_the_buffer() -> None:
    p = Tensor([0.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([p], lr=1.0, momentum=0.5, dampening=0.75)
    for _ in range(2):
        p.grad = Tensor([1.0], dtype="float64")
        opt.step()
    # buf_1 = 1 (the first step takes d as it is); buf_2 = 0.5 * 1 + (1 - 0.75) * 1 = 0.75
    assert opt.state[0]["momentum_buffer"].item() == 0.75 and p.item() == -1.75


def test_nesterov_needs_zero_dampening() -> None:
    with pytest.raises(ValueError, match="nesterov=True with momentum=0.9 and dampening=0.1"):
        optim.SGD([Tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


def test_default_lr_is_pytorchs() -> None:
    assert optim.SGD([Tensor([1.0], requires_grad=True)]).param_groups[0]["lr"] == 1e-3
