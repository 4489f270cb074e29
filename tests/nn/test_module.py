"""nn.Module: registration, dotted names, strict state dicts, modes, devices and dtypes."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn


class Inner(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(Tensor.ones(2, 2))
        self.proj = nn.Linear(2, 3)
        self.buffer = Tensor.zeros(4)  # a plain Tensor: not a parameter


class Outer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(Tensor([1.5]))
        self.inner = Inner()
        self.layers = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 1, bias=False)])

    def forward(self, x: Tensor) -> Tensor:
        h = self.inner.proj(x @ self.inner.w) * self.scale
        for layer in self.layers:
            h = layer(h).tanh()
        return h


NAMES = [
    "scale", "inner.w", "inner.proj.weight", "inner.proj.bias",
    "layers.0.weight", "layers.0.bias", "layers.1.weight",
]


def test_named_parameters_gives_dotted_names_in_assignment_order() -> None:
    model = Outer()
    assert [name for name, _ in model.named_parameters()] == NAMES
    assert len(list(model.parameters())) == len(NAMES)
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert list(model.state_dict()) == NAMES


def test_shared_parameter_is_listed_once_and_plain_tensors_are_not_parameters() -> None:
    model = Outer()
    model.layers.append(model.layers[0])  # the same layer twice: its weights once
    assert [name for name, _ in model.named_parameters()] == NAMES
    assert "inner.buffer" not in dict(model.named_parameters())


def test_reassigning_an_attribute_unregisters_the_parameter() -> None:
    layer = nn.Linear(2, 2)
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_assigning_before_init_is_a_clear_error() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(Tensor.ones(1))

    with pytest.raises(RuntimeError, match="super\\(\\).__init__"):
        Broken()


def test_call_runs_forward() -> None:
    model = Outer()
    x = Tensor.randn(4, 2)
    np.testing.assert_array_equal(model(x).numpy(), model.forward(x).numpy())
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(x)


def test_state_dict_is_a_host_copy() -> None:
    model = Outer()
    sd = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["scale"][0] = 99.0
    assert model.scale.item() == 1.5


def test_load_state_dict_round_trip_into_another_model() -> None:
    a, b = Outer(), Outer()
    b.load_state_dict(a.state_dict())
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=name)
    x = Tensor.randn(5, 2)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_state_dict_strict_names_missing_and_unexpected_keys() -> None:
    model = Outer()
    sd = model.state_dict()
    del sd["inner.proj.bias"]
    sd["inner.extra"] = np.zeros(2, dtype=np.float32)
    with pytest.raises(KeyError) as info:
        model.load_state_dict(sd)
    message = str(info.value)
    assert "missing keys ['inner.proj.bias']" in message
    assert "unexpected keys ['inner.extra']" in message


def test_load_state_dict_non_strict_loads_what_matches() -> None:
    model = Outer()
    sd = {"scale": np.array([3.0]), "nope": np.zeros(1)}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert model.scale.item() == 3.0
    assert unexpected == ["nope"]
    assert missing == NAMES[1:]


def test_load_state_dict_names_the_mis_shaped_key_and_changes_nothing() -> None:
    model = Outer()
    before = model.state_dict()
    sd = {k: v + 1.0 for k, v in before.items()}
    sd["layers.0.weight"] = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"'layers.0.weight' has shape \(2, 3\).*\(3, 3\)"):
        model.load_state_dict(sd)
    for name, value in model.state_dict().items():  # all or nothing
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_load_state_dict_casts_to_the_parameter_dtype() -> None:
    model = Outer()
    sd = {k: v.astype(np.float64) + 0.25 for k, v in model.state_dict().items()}
    model.load_state_dict(sd)
    for name, p in model.named_parameters():
        assert p.dtype == np.float32, name
        np.testing.assert_allclose(p.numpy(), sd[name], rtol=1e-6, err_msg=name)


def test_load_state_dict_copies_so_later_changes_do_not_leak() -> None:
    model = Outer()
    sd = model.state_dict()
    model.load_state_dict(sd)
    sd["scale"][0] = -7.0
    assert model.scale.item() == 1.5


def test_train_and_eval_propagate_to_every_submodule() -> None:
    model = Outer()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_sets_every_grad_to_none() -> None:
    model = Outer()
    model(Tensor.randn(3, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_float64_casts_every_parameter_in_place() -> None:
    model = Outer()
    before = model.state_dict()
    params = list(model.parameters())
    assert model.to(dtype="float64") is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]  # same objects, new data
    for name, p in model.named_parameters():
        assert p.dtype == np.float64, name
        np.testing.assert_array_equal(p.numpy(), before[name].astype(np.float64))
    x = Tensor.randn(2, 2, dtype="float64")
    assert model(x).dtype == np.float64


def test_to_an_integer_dtype_is_refused() -> None:
    with pytest.raises(TypeError, match="not floating"):
        Outer().to(dtype="int64")


def test_to_strict_device_moves_parameters_and_forward_runs_there() -> None:
    model = Outer()
    x = Tensor.randn(3, 2)
    expected = model(x).numpy()
    model.zero_grad()
    model.to(device="strict")
    assert model.device == "strict"
    assert all(p.device == "strict" for p in model.parameters())
    out = model(x.to("strict"))
    assert out.device == "strict"
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    out.sum().backward()
    assert all(p.grad.device == "strict" for p in model.parameters())
    # state_dict comes back to the host from any device
    assert all(isinstance(v, np.ndarray) for v in model.state_dict().values())


def test_load_state_dict_keeps_parameters_on_their_device() -> None:
    model = Outer().to(device="strict")
    model.load_state_dict(Outer().state_dict())
    assert all(p.device == "strict" for p in model.parameters())


def test_module_repr_lists_children() -> None:
    text = repr(Outer())
    assert "(inner): Inner(" in text and "Linear(in_features=2, out_features=3, bias=True)" in text


def test_manual_seed_makes_a_whole_model_reproducible() -> None:
    tr.manual_seed(7)
    a = Outer().state_dict()
    tr.manual_seed(7)
    b = Outer().state_dict()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


# ------------------------------------------------------- PyTorch's traversals and helpers
def torch_outer(torch: object) -> object:
    """Outer, written with PyTorch (same structure, same names)."""
    tnn = torch.nn  # type: ignore[attr-defined]

    class TorchInner(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tnn.Parameter(torch.ones(2, 2))  # type: ignore[attr-defined]
            self.proj = tnn.Linear(2, 3)

    class TorchOuter(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = tnn.Parameter(torch.tensor([1.5]))  # type: ignore[attr-defined]
            self.inner = TorchInner()
            self.layers = tnn.ModuleList([tnn.Linear(3, 3), tnn.Linear(3, 1, bias=False)])

    return TorchOuter()


def test_traversals_are_generators_as_in_pytorch() -> None:
    model = Outer()
    for method in ("parameters", "named_parameters", "buffers", "named_buffers", "modules", "named_modules",
                   "children", "named_children"):
        it = getattr(model, method)()
        assert inspect.isgenerator(it), method
    assert next(model.parameters()) is model.scale
    assert next(model.named_parameters()) == ("scale", model.scale)


def test_traversal_names_match_torch_with_a_shared_module() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = Outer(), torch_outer(torch)
    ours.layers.append(ours.layers[0])
    theirs.layers.append(theirs.layers[0])  # type: ignore[attr-defined]
    for method, kwargs in [("named_parameters", {}), ("named_modules", {}), ("named_children", {}),
                           ("named_parameters", {"remove_duplicate": False}),
                           ("named_modules", {"remove_duplicate": False}),
                           ("named_parameters", {"recurse": False}), ("named_parameters", {"prefix": "m"})]:
        names = [n for n, _ in getattr(ours, method)(**kwargs)]
        assert names == [n for n, _ in getattr(theirs, method)(**kwargs)], (method, kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # the shared layer under both keys
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == len(NAMES)
    assert [type(m).__name__ for m in ours.children()] == ["Inner", "ModuleList"]


def test_apply_visits_children_first_like_torch() -> None:
    torch = pytest.importorskip("torch")
    seen: list[str] = []
    theirs: list[str] = []
    assert Outer().apply(lambda m: seen.append(type(m).__name__)) is not None
    torch_outer(torch).apply(lambda m: theirs.append(type(m).__name__))  # type: ignore[attr-defined]
    assert [s.replace("Torch", "") for s in theirs] == seen
    assert seen[-1] == "Outer"


def test_apply_initialises_every_linear() -> None:
    model = Outer()

    def init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
    model.apply(init)
    assert all(not m.weight.numpy().any() for m in model.modules() if isinstance(m, nn.Linear))
    assert model.inner.w.numpy().all()


def test_requires_grad_freezes_and_unfreezes_every_parameter() -> None:
    model = Outer()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.layers.requires_grad_()
    x = Tensor.randn(4, 2, requires_grad=True)
    model(x).sum().backward()
    assert [n for n, p in model.named_parameters() if p.grad is not None] == ["layers.0.weight", "layers.0.bias",
                                                                              "layers.1.weight"]
    assert x.grad is not None
    frozen = nn.Parameter(Tensor.ones(2), requires_grad=False)
    assert not frozen.requires_grad and isinstance(frozen, nn.Parameter)


def test_zero_grad_set_to_none_false_zeros_in_place() -> None:
    model = Outer()
    model(Tensor.randn(3, 2)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    for p, g in zip(model.parameters(), grads, strict=True):
        assert p.grad is g and not p.grad.numpy().any()
    model(Tensor.ones(3, 2)).sum().backward()  # accumulates onto the zeros
    expected = Outer()
    expected.load_state_dict(model.state_dict())
    expected(Tensor.ones(3, 2)).sum().backward()
    for p, q in zip(model.parameters(), expected.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)


def test_zero_grad_set_to_none_false_replaces_a_gradient_on_the_tape() -> None:
    layer = nn.Linear(2, 1, dtype="float64")
    (layer(Tensor.ones(1, 2, dtype="float64")) ** 2).sum().backward(create_graph=True)
    assert layer.weight.grad.requires_grad
    layer.zero_grad(set_to_none=False)
    assert not layer.weight.grad.requires_grad and not layer.weight.grad.numpy().any()


def test_zero_grad_set_to_none_false_inside_jit_matches_eager() -> None:
    def run(jit: bool) -> list[np.ndarray]:
        tr.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = tr.optim.SGD(model.parameters(), lr=0.1)

        def step(x: Tensor) -> Tensor:
            model.zero_grad(set_to_none=False)
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        step_fn = tr.jit(step) if jit else step
        for k in range(4):
            step_fn(Tensor(np.full((5, 3), 0.1 * k, dtype=np.float32)))
        if jit:
            assert step_fn.replays >= 2
        return [p.numpy().copy() for p in model.parameters()]
    for a, b in zip(run(False), run(True), strict=True):
        np.testing.assert_array_equal(a, b)


def test_train_goes_through_each_childs_train() -> None:
    calls: list[bool] = []

    class Noted(nn.Module):
        def train(self, mode: bool = True) -> nn.Module:
            calls.append(mode)
            return super().train(mode)
    model = nn.Sequential(nn.Linear(1, 1), Noted())
    model.eval()
    model.train()
    assert calls == [False, True]
    with pytest.raises(ValueError, match=r"train\(mode='no'\): expected a bool"):
        model.train("no")  # type: ignore[arg-type]


def test_to_takes_pytorchs_positional_forms() -> None:
    model = Outer()
    assert model.to("float64") is model and model.scale.dtype == np.float64
    model.float()
    assert model.scale.dtype == np.float32
    model.double()
    assert model.inner.proj.weight.dtype == np.float64
    model.to("strict", "float32")
    assert model.device == "strict" and model.scale.dtype == np.float32
    model.to(Tensor.zeros(1, dtype="float64"))
    assert model.device == "cpu" and model.scale.dtype == np.float64
    assert model.cpu() is model


# ---------------------------------------------------------------- registering by hand
def test_register_parameter_and_add_module() -> None:
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(Tensor.ones(2)))
    m.register_parameter("b", None)
    m.add_module("child", nn.Linear(2, 2))
    m.register_module("other", None)
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert m.b is None and m.other is None and [n for n, _ in m.named_children()] == ["child"]
    m.b = nn.Parameter(Tensor.zeros(2))  # fills the registered slot
    assert [n for n, _ in m.named_parameters()][:2] == ["w", "b"]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.register_parameter("w", Tensor.ones(1)), TypeError, r"got a Tensor; expected an nn.Parameter"),
        (lambda m: m.add_module("c", 3), TypeError, r"got a int; expected an nn.Module"),
        (lambda m: m.register_buffer("b", [1.0]), TypeError, r"got a list; expected a Tensor or None"),
        (lambda m: m.register_buffer("a.b", None), KeyError, r"contains '.'"),
        (lambda m: m.register_buffer("", None), KeyError, r"is empty"),
        (lambda m: m.add_module(1, nn.Tanh()), TypeError, r"name should be a str, got int"),
        (lambda m: m.register_buffer("forward", None), KeyError, r"attribute 'forward' already exists"),
    ],
)
def test_register_errors(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call(nn.Module())  # type: ignore[operator]


def test_assigning_a_plain_tensor_to_a_parameter_is_refused_as_in_pytorch() -> None:
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign a Tensor to 'weight'; expected an nn.Parameter or None "
                                        r"\(wrap it: nn.Parameter\(t\)"):
        layer.weight = layer.weight * 2.0
    with pytest.raises(TypeError, match=r"cannot assign a int to 'inner'; expected an nn.Module or None"):
        Outer().inner = 3
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]  # still registered


def test_repr_matches_torch_with_a_multiline_extra_repr() -> None:
    torch = pytest.importorskip("torch")

    def build(lib: object) -> object:
        class Box(lib.Module):  # type: ignore[attr-defined, name-defined, misc]
            def __init__(self) -> None:
                super().__init__()
                self.proj = lib.Linear(2, 2)  # type: ignore[attr-defined]

            def extra_repr(self) -> str:
                return "size=2\nmode='x'"
        return lib.Sequential(Box(), lib.Tanh())  # type: ignore[attr-defined]
    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.Module()) == repr(torch.nn.Module()) == "Module()"
