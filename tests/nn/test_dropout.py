"""nn.Dropout: train and eval modes, p = 0 and p = 1, the kept entries' scale and
gradient, the rate, seeding, errors and repr, with PyTorch as the oracle where the
random masks do not matter."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn


def test_train_mode_zeros_about_p_and_scales_the_rest(device: str) -> None:
    drop = nn.Dropout(p=0.3)
    assert drop.training
    y = drop(Tensor.ones(300, 100, device=device)).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.01  # 30000 draws: the standard error is 0.003


def test_gradient_is_the_mask_over_keep(device: str) -> None:
    x = Tensor(np.random.default_rng(0).normal(size=(50, 20)), device=device, dtype="float64", requires_grad=True)
    y = nn.Dropout(0.4)(x)
    y.sum().backward()
    kept = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.6, rtol=1e-15)
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / 0.6, rtol=1e-15)


def test_eval_mode_and_p_zero_are_the_identity(device: str) -> None:
    x = Tensor.randn(4, 5, device=device)
    model = nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.9)).to(device)
    model.eval()
    assert not model[1].training
    assert model[1](x) is x
    assert nn.Dropout(0.0)(x) is x


def test_p_one_gives_zeros_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    values = [1.0, -2.0, float("inf")]
    x = Tensor(values, requires_grad=True)
    x_t = torch.tensor(values, requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = nn.Dropout(1.0)(x)
    y_t = torch.nn.Dropout(1.0)(x_t)
    np.testing.assert_array_equal(y.numpy(), y_t.detach().numpy())  # inf * 0 is NaN in both
    y.sum().backward()
    y_t.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), x_t.grad.numpy())


def test_masks_are_seeded_and_fresh_at_each_call() -> None:
    drop, x = nn.Dropout(0.5), Tensor.ones(10, 10)
    tr.manual_seed(3)
    first, second = drop(x).numpy(), drop(x).numpy()
    assert (first != second).any()
    tr.manual_seed(3)
    np.testing.assert_array_equal(drop(x).numpy(), first)


def test_train_and_eval_switch_the_mode_in_nested_models() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.Dropout(0.5), nn.Tanh()))
    model.eval()
    assert not model[1][0].training
    x = Tensor.ones(2, 3)
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert model[1][0].training


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True, None])
def test_bad_p_is_refused_as_pytorch(p: object) -> None:
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(p)  # type: ignore[arg-type]


def test_repr_and_inplace_flag_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    assert repr(nn.Dropout()) == repr(torch.nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.2, inplace=True)) == repr(torch.nn.Dropout(0.2, inplace=True))
    x = Tensor.ones(3)
    nn.Dropout(0.5, inplace=True)(x)
    assert x.tolist() == [1.0, 1.0, 1.0]  # accepted, but x is never overwritten


def test_docstring_examples_run() -> None:
    import doctest

    from tinygrad_rnn.nn import dropout

    result = doctest.testmod(dropout)
    assert result.failed == 0 and result.attempted > 0
