"""Loading optimizer state dicts of other origins: PyTorch's own, and the flat dicts that
earlier versions saved (``{"lr": ..., "state.0.exp_avg": ...}``)."""

from __future__ import annotations

import numpy as np
import pytest
from torch_reference import SHAPES, assert_same_as_torch, gradients

from tinygrad_rnn import Tensor, optim

CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize("name, hyper", CASES)
def test_a_pytorch_state_dict_loads_and_training_continues_as_in_pytorch(name: str, hyper: dict) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    theirs = [torch.tensor(rng.normal(size=shape), requires_grad=True) for shape in SHAPES]
    opt_t = getattr(torch.optim, name)([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.02}], **hyper)
    steps = gradients(20, seed=5)

    def step(opt: object, params: list, grads: list, make: object) -> None:
        for p, g in zip(params, grads, strict=True):
            p.grad = None if g is None else make(g.copy())  # type: ignore[operator]
        opt.step()  # type: ignore[attr-defined]

    for grads in steps[:10]:
        step(opt_t, theirs, grads, torch.tensor)
    ours = [Tensor(q.detach().numpy().copy(), requires_grad=True) for q in theirs]  # float64, as theirs
    opt = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2:]}], lr=0.5)  # options come from the state
    opt.load_state_dict(opt_t.state_dict())  # torch.Tensor values, float steps, foreach/fused switches
    assert opt.param_groups[1]["lr"] == 0.02 and "foreach" not in opt.param_groups[0]
    for grads in steps[10:]:
        step(opt_t, theirs, grads, torch.tensor)
        step(opt, ours, grads, lambda g: Tensor(g, dtype="float64"))
    assert_same_as_torch(opt, opt_t, ours, theirs)


def test_pytorch_switches_that_change_a_step_are_refused() -> None:
    torch = pytest.importorskip("torch")
    q = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    sd = torch.optim.Adam([q], differentiable=True).state_dict()
    opt = optim.Adam([Tensor([0.0, 0.0], dtype="float64", requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match="PyTorch's differentiable=True, which has no counterpart here"):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.5


@pytest.mark.parametrize("name, hyper, legacy", [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "nesterov": False}),
    ("Adam", {"lr": 0.01}, {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}),
])
def test_flat_state_dicts_of_earlier_versions_still_load(name: str, hyper: dict, legacy: dict) -> None:
    """The flat layout earlier versions saved, options without the later ones (dampening,
    amsgrad...): those take their defaults, as PyTorch's own older state dicts do."""
    a = Tensor([1.0, -1.0], dtype="float64", requires_grad=True)
    b = Tensor([2.0], dtype="float64", requires_grad=True)
    opt = getattr(optim, name)([a, b], **hyper)
    for g in ([0.5, -0.25], [1.0, 2.0]):
        a.grad = Tensor(g, dtype="float64")
        opt.step()
    old = {key: np.array(value) for key, value in legacy.items()}
    for n, value in opt.state[0].items():
        old[f"state.0.{n}"] = np.array(value) if isinstance(value, int) else value.numpy()

    c, d = Tensor(a.numpy(), requires_grad=True), Tensor([2.0], dtype="float64", requires_grad=True)
    resumed = getattr(optim, name)([c, d], lr=0.5)
    resumed.load_state_dict(old)
    assert resumed.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for p, o in ((a, opt), (c, resumed)):
        p.grad = Tensor([0.3, 0.7], dtype="float64")
        o.step()
    np.testing.assert_array_equal(c.numpy(), a.numpy())


def test_flat_state_dict_errors() -> None:
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match=r"unexpected keys \['state.x.momentum_buffer', 'a.b'\]"):
        opt.load_state_dict({"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0, "nesterov": False,
                             "state.x.momentum_buffer": np.zeros(1), "a.b": 1})
    with pytest.raises(KeyError, match=r"param_groups\[0\] has missing keys \['momentum', 'weight_decay', 'nesterov'\]"):
        opt.load_state_dict({"lr": 0.1})
    two = optim.SGD([{"params": [Tensor([1.0], requires_grad=True)]}, {"params": [Tensor([1.0], requires_grad=True)]}])
    with pytest.raises(ValueError, match="holds one parameter group; expected 2"):
        two.load_state_dict({"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0, "nesterov": False})
