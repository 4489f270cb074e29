"""nn.Module: registration, dotted names, strict state dicts, modes, devices and dtypes."""

from __future__ import annotations

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
    assert len(model.parameters()) == len(NAMES)
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
    params = model.parameters()
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
