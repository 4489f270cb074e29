"""optim.Optimizer: parameter lists, zero_grad, no tape, checkpointable state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_reference import assert_same_as_torch, step_both

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


def test_state_dict_has_pytorch_layout_and_holds_copies() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p, Tensor([0.0], requires_grad=True)], lr=0.02, betas=(0.5, 0.6))
    p.grad = Tensor([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert list(sd["state"]) == [0]  # parameter 1 has not stepped
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"] and sd["state"][0]["step"] == 1
    assert all(isinstance(sd["state"][0][n], np.ndarray) for n in ("exp_avg", "exp_avg_sq"))
    assert sd["param_groups"] == [{"lr": 0.02, "betas": (0.5, 0.6), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                                   "maximize": False, "decoupled_weight_decay": False, "params": [0, 1]}]
    before = sd["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], before)  # a copy, not the live buffer
    sd["param_groups"][0]["lr"] = 5.0
    assert opt.param_groups[0]["lr"] == 0.02

    other = optim.Adam([Tensor([5.0, 5.0], requires_grad=True), Tensor([0.0], requires_grad=True)])
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 5.0 and other.param_groups[0]["betas"] == (0.5, 0.6)
    assert other.state[0]["step"] == 1 and other.state[1] == {}


def test_state_dict_numbers_parameters_group_after_group() -> None:
    a, b, c = (Tensor([float(k)], requires_grad=True) for k in range(3))
    opt = optim.SGD([{"params": [a, b]}, {"params": c, "lr": 0.5}], lr=0.1, momentum=0.9)
    for p in (a, b, c):
        p.grad = Tensor([1.0])
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5] and sorted(sd["state"]) == [0, 1, 2]


def test_load_state_dict_errors_name_the_problem_and_change_nothing() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = Tensor([1.0, 1.0])
    opt.step()
    good = opt.state_dict()
    buffer = opt.state[0]["momentum_buffer"].numpy().copy()

    def with_group(**changes: object) -> dict:
        return {"state": good["state"], "param_groups": [{**good["param_groups"][0], **changes}]}

    cases = [
        (KeyError, r"param_groups\[0\] has missing keys \['lr'\]",
         {"state": good["state"], "param_groups": [{k: v for k, v in good["param_groups"][0].items() if k != "lr"}]}),
        (KeyError, r"unexpected keys: state for parameter 3",
         {**good, "state": {**good["state"], 3: {"momentum_buffer": np.zeros(2)}}}),
        (KeyError, r"unexpected keys \['exp_avg'\] in the state of parameter 0",
         {**good, "state": {0: {"momentum_buffer": np.zeros(2), "exp_avg": np.zeros(2)}}}),
        (ValueError, r"state 'momentum_buffer' of parameter 0 has shape \(3,\) but the parameter has shape \(2,\)",
         {**good, "state": {0: {"momentum_buffer": np.zeros(3)}}}),
        (ValueError, r"param_groups\[0\]: lr=-1.0", with_group(lr=-1.0)),
        (ValueError, r"param_groups\[0\] holds 2 parameters in the state dict but 1", with_group(params=[0, 1])),
        (ValueError, r"has 2 parameter groups; expected 1", {**good, "param_groups": good["param_groups"] * 2}),
        (TypeError, r"expected a dict, got list", [good]),
    ]
    for error, message, bad in cases:
        with pytest.raises(error, match=message):
            opt.load_state_dict(bad)  # type: ignore[arg-type]
        assert opt.param_groups[0]["lr"] == 0.1  # a failed load changes nothing
        np.testing.assert_array_equal(opt.state[0]["momentum_buffer"].numpy(), buffer)
    adam = optim.Adam([p])
    p.grad = Tensor([1.0, 1.0])
    adam.step()
    sd = adam.state_dict()
    with pytest.raises(ValueError, match=r"parameter 0 has state \['exp_avg'\]; expected all of"):
        adam.load_state_dict({**sd, "state": {0: {"exp_avg": np.zeros(2)}}})
    with pytest.raises(ValueError, match=r"state 'step' of parameter 0 is .*; expected one non-negative int"):
        adam.load_state_dict({**sd, "state": {0: {**sd["state"][0], "step": 1.5}}})
    amsgrad = {**sd, "param_groups": [{**sd["param_groups"][0], "amsgrad": True}]}
    with pytest.raises(ValueError, match=r"expected all of \['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'\]"):
        adam.load_state_dict(amsgrad)  # amsgrad needs its buffer: refused now, not at the next step


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


# ------------------------------------------------------------------ parameter groups
ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
GROUP_OPTIONS = {  # per class: the constructor's defaults here, and the second group's own options
    "SGD": ({"lr": 0.05, "momentum": 0.9}, {"lr": 0.01, "weight_decay": 0.1, "dampening": 0.2}),
    "Adam": ({"lr": 0.01}, {"lr": 0.003, "betas": (0.5, 0.9), "amsgrad": True}),
    "AdamW": ({"lr": 0.01}, {"weight_decay": 0.3}),
    "RMSprop": ({"lr": 0.001, "momentum": 0.5}, {"centered": True, "alpha": 0.7}),
    "Adagrad": ({"lr": 0.1}, {"lr_decay": 0.05, "eps": 1e-3}),
}


@pytest.mark.parametrize("name", ALL)
def test_param_groups_with_their_own_options_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    defaults, own = GROUP_OPTIONS[name]
    opt, opt_t, ours, theirs = step_both(
        torch, lambda g: getattr(optim, name)(g, **defaults), lambda g: getattr(torch.optim, name)(g, **defaults),
        groups=lambda p: [{"params": p[:2]}, {"params": p[2], **own}], steps=40)
    assert_same_as_torch(opt, opt_t, ours, theirs)
    assert opt.param_groups[1]["params"] == [ours[2]] and list(opt.param_groups[0]) == list(opt_t.param_groups[0])[:1] \
        + [k for k in opt_t.param_groups[0] if k in opt.option_names]


@pytest.mark.parametrize("name", ALL)
def test_writing_group_options_and_adding_a_group_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    defaults, own = GROUP_OPTIONS[name]

    def between(opt: optim.Optimizer, opt_t: object, t: int) -> None:
        for o in (opt, opt_t):
            for group in o.param_groups:  # type: ignore[attr-defined]
                group["lr"] *= 0.97  # a schedule by hand
            if t == 9:
                o.add_param_group({"params": late[o is opt_t], **own})  # type: ignore[attr-defined]

    late = [Tensor([0.5, -0.5], dtype="float64", requires_grad=True),
            torch.tensor([0.5, -0.5], dtype=torch.float64, requires_grad=True)]
    opt, opt_t, ours, theirs = step_both(
        torch, lambda p: getattr(optim, name)(p, **defaults), lambda p: getattr(torch.optim, name)(p, **defaults),
        between=between, steps=30, groups=lambda p: p[:2])  # parameter 2 gets gradients but is in no group
    assert len(opt.param_groups) == 2 and opt.params[-1] is late[0]
    assert_same_as_torch(opt, opt_t, ours[:2], theirs[:2])


def test_group_errors_name_the_group() -> None:
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)
    with pytest.raises(TypeError, match="mixes tensors and dicts"):
        optim.SGD([a, {"params": [b]}], lr=0.1)
    with pytest.raises(TypeError, match="expected a dict with 'params'"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(TypeError, match="is a set; expected an ordered iterable"):
        optim.SGD({a, b}, lr=0.1)
    with pytest.raises(TypeError, match=r"param_groups\[1\]\['params'\]\[0\] is a str"):
        optim.SGD([{"params": [a]}, {"params": ["w"]}], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD param_groups\[1\]: lr=-2"):
        optim.SGD([{"params": [a]}, {"params": [b], "lr": -2}], lr=0.1)
    opt = optim.Adam([{"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam param_groups\[1\]: betas\[0\]=1.5"):
        opt.add_param_group({"params": [b], "betas": (1.5, 0.9)})
    assert len(opt.param_groups) == 1 and opt.params == [a]  # the refused group was not added
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": a})
    opt.param_groups[0]["lr"] = "fast"  # written by hand: checked at the next step
    a.grad = Tensor([1.0])
    with pytest.raises(ValueError, match=r"Adam param_groups\[0\]: lr='fast'"):
        opt.step()
    opt.param_groups[0]["lr"] = 0.1
    opt.param_groups[0]["params"].append(b)  # bypassing add_param_group
    with pytest.raises(RuntimeError, match="add new parameters with add_param_group"):
        opt.step()


def test_the_lr_attribute_is_a_shorthand_for_every_group() -> None:
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.5)
    assert opt.lr == 0.1 and opt.momentum == 0.5 and opt.defaults["lr"] == 0.1
    opt.lr = 0.2
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.2]
    with pytest.raises(ValueError, match=r"param_groups\[0\]: lr=-1"):
        opt.lr = -1
    assert opt.lr == 0.2
    opt.param_groups[1]["lr"] = 0.3
    with pytest.raises(AttributeError, match=r"the parameter groups differ \(\[0.2, 0.3\]\)"):
        opt.lr  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'betas'"):
        opt.betas  # noqa: B018


def test_step_with_a_closure_returns_its_loss() -> None:
    w = Tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tr.no_grad():  # the closure runs with grad mode on whatever the caller's mode
        loss = opt.step(closure)
    assert loss.item() == 9.0 and w.item() == 1.5


def test_zero_grad_can_keep_zeroed_tensors() -> None:
    model = TwoLayer()
    opt = optim.SGD(model.parameters(), lr=0.1)
    train(model, opt, 1)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    train(model, opt, 1)  # a backward adds into the zeros
    assert all(p.grad.numpy().any() for p in model.parameters())


# ------------------------------------------------------------ the option space
unit = st.floats(0.0, 0.99)
STRATEGIES = {
    "SGD": st.fixed_dictionaries({"lr": st.floats(0.0, 0.5), "momentum": unit, "dampening": st.floats(0.0, 1.0),
                                  "weight_decay": st.floats(0.0, 0.5), "maximize": st.booleans()}),
    "Adam": st.fixed_dictionaries({"lr": st.floats(0.0, 0.1), "betas": st.tuples(unit, unit),
                                   "eps": st.floats(1e-10, 1e-2), "weight_decay": st.floats(0.0, 0.5),
                                   "amsgrad": st.booleans(), "maximize": st.booleans(),
                                   "decoupled_weight_decay": st.booleans()}),
    "AdamW": st.fixed_dictionaries({"lr": st.floats(0.0, 0.1), "betas": st.tuples(unit, unit),
                                    "weight_decay": st.floats(0.0, 0.5), "amsgrad": st.booleans()}),
    # alpha >= 0.1: with alpha = 0 a centered RMSprop takes the root of d^2 - d^2, whose sign
    # is PyTorch's fused multiply-add rounding (it gets NaN; we get 0)
    "RMSprop": st.fixed_dictionaries({"lr": st.floats(0.0, 0.1), "alpha": st.floats(0.1, 0.99), "eps": st.floats(1e-8, 1e-2),
                                      "weight_decay": st.floats(0.0, 0.5), "momentum": unit,
                                      "centered": st.booleans(), "maximize": st.booleans()}),
    "Adagrad": st.fixed_dictionaries({"lr": st.floats(0.0, 0.5), "lr_decay": st.floats(0.0, 0.5),
                                      "weight_decay": st.floats(0.0, 0.5),
                                      "initial_accumulator_value": st.floats(0.0, 2.0), "eps": st.floats(1e-10, 1e-2)}),
}


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_any_options_match_torch(name: str, data: st.DataObject) -> None:
    torch = pytest.importorskip("torch")
    hyper = data.draw(STRATEGIES[name])
    if name == "SGD" and data.draw(st.booleans()) and hyper["momentum"] > 0:
        hyper.update(nesterov=True, dampening=0.0)
    opt, opt_t, ours, theirs = step_both(torch, lambda p: getattr(optim, name)(p, **hyper),
                                         lambda p: getattr(torch.optim, name)(p, **hyper), steps=12)
    assert_same_as_torch(opt, opt_t, ours, theirs, rtol=1e-10)


def test_keys_beside_state_and_param_groups_are_refused() -> None:
    w = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(KeyError, match=r"unexpected keys \['state.0.momentum_buffer'\]"):
        opt.load_state_dict({**opt.state_dict(), "state.0.momentum_buffer": np.zeros(1)})
