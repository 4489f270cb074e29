"""optim.Optimizer: parameter lists, zero_grad, no tape, checkpointable state."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim

OPTIMIZERS = [
    pytest.param(lambda params: optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01), id="sgd"),
    pytest.param(lambda params: optim.Adam(params, lr=0.05, betas=(0.8, 0.99)), id="adam"),
]


class TwoLayer(nn.Module):
    def __init__(self, device: str = "cpu") -> None:
        super().__init__()
        self.first = nn.Linear(3, 4, device=device)
        self.second = nn.Linear(4, 1, device=device)

    def forward(self, x: Tensor) -> Tensor:
        return self.second(self.first(x).tanh())


def train(model: nn.Module, opt: optim.Optimizer, steps: int, device: str = "cpu") -> Tensor:
    x = Tensor(np.linspace(-1, 1, 15).reshape(5, 3), device=device)
    loss = None
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - 0.5) ** 2).mean()
        loss.backward()
        opt.step()
    return loss


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_training_reduces_the_loss_on_every_device(device: str, make: object) -> None:
    model = TwoLayer(device)
    opt = make(model.parameters())  # type: ignore[operator]
    first = train(model, opt, 1, device).item()
    last = train(model, opt, 30, device).item()
    assert last < 0.5 * first
    assert all(p.device == device for p in model.parameters())


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_step_records_no_tape_and_parameters_stay_leaves(make: object) -> None:
    model = TwoLayer()
    opt = make(model.parameters())  # type: ignore[operator]
    loss = ((model(Tensor.randn(2, 3))) ** 2).sum()
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    with tr.enable_grad():
        opt.step()
    for p, grad in zip(model.parameters(), grads, strict=True):
        assert p.is_leaf and p._ctx is None and p.requires_grad
        assert p.grad is grad  # step reads gradients, it does not replace them
        assert p.grad._ctx is None


def test_zero_grad_sets_grads_to_none() -> None:
    model = TwoLayer()
    opt = optim.SGD(model.parameters(), lr=0.1)
    train(model, opt, 1)
    assert all(p.grad is not None for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_a_parameter_listed_twice_is_updated_once() -> None:
    p = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([p, p], lr=1.0)
    assert len(opt.params) == 1
    p.grad = Tensor([0.25])
    opt.step()
    assert p.item() == 0.75


@pytest.mark.parametrize(
    "params, error, message",
    [
        ([], ValueError, "empty parameter list"),
        (Tensor([1.0], requires_grad=True), TypeError, r"params is a Tensor.*model.parameters\(\)"),
        (TwoLayer(), TypeError, "params is a TwoLayer"),
        (3, TypeError, "params is a int"),
        ([Tensor([1.0]), "w"], TypeError, r"params\[1\] is a str"),
        ([Tensor([1.0], requires_grad=True) * 2.0], ValueError, "expected a leaf tensor"),
        ([Tensor([1, 2])], ValueError, "expected a floating-point tensor"),
    ],
)
def test_bad_parameter_lists(params: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        optim.SGD(params, lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        optim.Adam(params)  # type: ignore[arg-type]


# -------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("make", OPTIMIZERS)
def test_state_dict_round_trip_through_a_file_resumes_exactly(tmp_path: object, make: object) -> None:
    model = TwoLayer()
    opt = make(model.parameters())  # type: ignore[operator]
    train(model, opt, 3)
    tr.save(model.state_dict(), tmp_path / "model.npz")  # type: ignore[operator]
    tr.save(opt.state_dict(), tmp_path / "optim.npz")  # type: ignore[operator]

    resumed = TwoLayer()
    resumed.load_state_dict(tr.load(tmp_path / "model.npz"))  # type: ignore[operator]
    resumed_opt = make(resumed.parameters())  # type: ignore[operator]
    resumed_opt.load_state_dict(tr.load(tmp_path / "optim.npz"))  # type: ignore[operator]

    train(model, opt, 3)
    train(resumed, resumed_opt, 3)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value, err_msg=name)


def test_state_dict_keys_and_hyperparameters() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p, Tensor([0.0], requires_grad=True)], lr=0.02, betas=(0.5, 0.6))
    p.grad = Tensor([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["betas", "eps", "lr", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step", "weight_decay"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert sd["betas"].tolist() == [0.5, 0.6] and sd["state.0.step"] == 1

    other = optim.Adam([Tensor([5.0, 5.0], requires_grad=True), Tensor([0.0], requires_grad=True)])
    other.load_state_dict(sd)
    assert other.lr == 0.02 and other.betas == (0.5, 0.6) and other.state[0]["step"] == 1
    assert other.state[1] == {}


def test_load_state_dict_errors_name_the_problem() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = Tensor([1.0, 1.0])
    opt.step()
    good = opt.state_dict()
    with pytest.raises(KeyError, match=r"missing keys \['lr'\], unexpected keys \['state.3.momentum_buffer'\]"):
        opt.load_state_dict({**{k: v for k, v in good.items() if k != "lr"}, "state.3.momentum_buffer": np.zeros(2)})
    with pytest.raises(ValueError, match=r"'state.0.momentum_buffer' has shape \(3,\) but parameter 0 has shape \(2,\)"):
        opt.load_state_dict({**good, "state.0.momentum_buffer": np.zeros(3)})
    with pytest.raises(ValueError, match=r"lr=-1.0"):
        opt.load_state_dict({**good, "lr": np.array(-1.0)})
    assert opt.lr == 0.1  # a failed load changes nothing
    adam = optim.Adam([p])
    with pytest.raises(ValueError, match=r"parameter 0 has state \['exp_avg'\]; expected all of"):
        adam.load_state_dict({**adam.state_dict(), "state.0.exp_avg": np.zeros(2)})


def test_state_follows_the_model_to_another_dtype_and_device() -> None:
    model = TwoLayer()
    opt = optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, 2)
    model.to(device="strict", dtype="float64")
    train(model, opt, 2, device="strict")
    for p, state in zip(opt.params, opt.state, strict=True):
        assert p.device == "strict" and p.dtype == np.float64
        assert state["exp_avg"].device == "strict" and state["exp_avg"].dtype == np.float64


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_step_never_writes_into_the_callers_array(make: object) -> None:
    w = np.array([1.0, 2.0])
    p = Tensor(w, requires_grad=True)  # on the CPU this shares w's memory
    opt = make([p])  # type: ignore[operator]
    p.grad = Tensor([1.0, -1.0], dtype="float64")
    opt.step()
    np.testing.assert_array_equal(w, [1.0, 2.0])
    assert not np.array_equal(p.numpy(), w)
