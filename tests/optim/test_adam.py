"""optim.Adam: bias-corrected moments, against NumPy by hand and torch.optim.Adam."""

from __future__ import annotations

import numpy as np
import pytest
from torch_reference import assert_same_as_torch, step_both, train_both

from tinygrad_rnn import Tensor, optim

P0 = np.array([0.5, -1.0, 2.0])
GRADS = [np.array([1.0, -2.0, 0.0]), np.array([0.3, 0.1, -1.0]), np.array([-0.5, 0.4, 1e-3]), np.array([2.0, 0.0, 0.1])]


def by_hand(lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0) -> np.ndarray:
    beta1, beta2 = betas
    p, m, v = P0.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        d = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * d
        v = beta2 * v + (1 - beta2) * d * d
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize(
    "hyper",
    [{"lr": 0.1}, {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-3}, {"lr": 0.1, "weight_decay": 0.1}],
)
def test_four_steps_match_numpy_by_hand(device: str, hyper: dict) -> None:
    p = Tensor(P0, device=device, requires_grad=True)
    opt = optim.Adam([p], **hyper)
    for g in GRADS:
        p.grad = Tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(p.numpy(), by_hand(**hyper), rtol=1e-12)
    assert opt.state[0]["step"] == 4


def test_first_step_moves_each_weight_by_about_lr() -> None:
    # m_hat = g and v_hat = g^2 after one step: the update is lr * sign(g), whatever |g| is.
    p = Tensor([0.0, 0.0, 0.0], dtype="float64", requires_grad=True)
    p.grad = Tensor([1e-3, -50.0, 7.0], dtype="float64")
    optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.numpy(), [-0.01, 0.01, -0.01], rtol=1e-4)


@pytest.mark.parametrize("hyper", [{}, {"betas": (0.8, 0.99), "eps": 1e-6}, {"weight_decay": 0.05}])
def test_training_a_linear_layer_matches_torch_optim(hyper: dict) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = train_both(
        torch,
        lambda params: optim.Adam(params, lr=0.05, **hyper),
        lambda params: torch.optim.Adam(params, lr=0.05, **hyper),
        steps=5,
    )
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(layer.state_dict()[name], value.numpy(), rtol=1e-10, err_msg=name)


def test_float32_parameters_keep_float32_state(device: str) -> None:
    p = Tensor([1.0, 2.0], device=device, requires_grad=True)
    opt = optim.Adam([p])
    p.grad = Tensor([0.5, -0.5], device=device)
    opt.step()
    assert p.dtype == np.float32 and p.device == device
    assert opt.state[0]["exp_avg"].dtype == np.float32


def test_gradient_arrays_are_not_written_to(device: str) -> None:
    p = Tensor(P0, device=device, requires_grad=True)
    opt = optim.Adam([p], weight_decay=0.1)
    grad = Tensor(GRADS[0], device=device)
    p.grad = grad
    opt.step()
    opt.step()
    np.testing.assert_array_equal(grad.numpy(), GRADS[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1e-3}, "lr=-0.001"),
        ({"betas": (1.0, 0.999)}, r"betas\[0\]=1.0; expected a finite number \[0.0, 1.0\)"),
        ({"betas": (0.9, -0.1)}, r"betas\[1\]=-0.1"),
        ({"betas": 0.9}, r"betas=0.9; expected a pair"),
        ({"eps": -1.0}, "eps=-1.0"),
        ({"weight_decay": -0.1}, "weight_decay=-0.1"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.Adam([Tensor([1.0], requires_grad=True)], **kwargs)


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 0.01},
        {"lr": 0.01, "betas": (0.3, 0.5), "weight_decay": 0.1, "amsgrad": True},  # beta1 < 0.5: PyTorch's other lerp
        {"lr": 0.02, "maximize": True, "eps": 1e-4},
        {"lr": 0.01, "weight_decay": 0.2, "decoupled_weight_decay": True},
    ],
)
def test_many_steps_match_torch_optim_adam(hyper: dict) -> None:
    torch = pytest.importorskip("torch")
    opt, opt_t, ours, theirs = step_both(torch, lambda p: optim.Adam(p, **hyper), lambda p: torch.optim.Adam(p, **hyper))
    assert_same_as_torch(opt, opt_t, ours, theirs)


def test_amsgrad_divides_by_the_largest_second_moment(device: str) -> None:
    p = Tensor([0.0], device=device, dtype="float64", requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.0, 0.5), eps=0.0, amsgrad=True)
    for g in (4.0, 0.0):
        p.grad = Tensor([g], device=device, dtype="float64")
        opt.step()
    # v: 8 then 4; v_max stays 8, and m = 0 at the second step: the update is 0
    assert opt.state[0]["max_exp_avg_sq"].item() == 8.0 and opt.state[0]["exp_avg_sq"].item() == 4.0
    np.testing.assert_allclose(p.item(), -0.1, rtol=1e-12)
