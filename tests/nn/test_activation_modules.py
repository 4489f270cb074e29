"""nn.activation (Tanh, Sigmoid, ReLU, GELU, Softmax, LogSoftmax) and the activation
functions of nn.functional: values and gradients against PyTorch in float64, gradchecks,
PyTorch's repr, the implicit-dim rule of softmax."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import functional as F

rng = np.random.default_rng(0)
X = rng.normal(size=(3, 4, 5)) * 2.0
X[0, 0, :3] = [0.5, -0.25, 3.0]  # no entry sits on relu's kink at 0


# (repr, ours, PyTorch's)
MODULES = [
    ("Tanh()", lambda: nn.Tanh(), lambda t: t.nn.Tanh()),
    ("Sigmoid()", lambda: nn.Sigmoid(), lambda t: t.nn.Sigmoid()),
    ("ReLU()", lambda: nn.ReLU(), lambda t: t.nn.ReLU()),
    ("ReLU(inplace=True)", lambda: nn.ReLU(inplace=True), lambda t: t.nn.ReLU(inplace=False)),
    ("Softmax(dim=1)", lambda: nn.Softmax(dim=1), lambda t: t.nn.Softmax(dim=1)),
    ("Softmax(dim=-1)", lambda: nn.Softmax(dim=-1), lambda t: t.nn.Softmax(dim=-1)),
    ("LogSoftmax(dim=0)", lambda: nn.LogSoftmax(dim=0), lambda t: t.nn.LogSoftmax(dim=0)),
    ("LogSoftmax(dim=2)", lambda: nn.LogSoftmax(dim=2), lambda t: t.nn.LogSoftmax(dim=2)),
    ("GELU(approximate='none')", lambda: nn.GELU(), lambda t: t.nn.GELU()),
    ("GELU(approximate='tanh')", lambda: nn.GELU("tanh"), lambda t: t.nn.GELU("tanh")),
]
IDS = [m[0] for m in MODULES]


@pytest.mark.parametrize(("text", "ours", "theirs"), MODULES, ids=IDS)
def test_module_matches_torch_values_and_gradients(text: str, ours, theirs) -> None:
    torch = pytest.importorskip("torch")
    x = Tensor(X, dtype="float64", requires_grad=True)
    x_t = torch.tensor(X, requires_grad=True)
    y, y_t = ours()(x), theirs(torch)(x_t)
    np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-12, atol=1e-15)
    upstream = rng.normal(size=X.shape)
    y.backward(Tensor(upstream))
    y_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert y.dtype == np.float64


@pytest.mark.parametrize(("text", "ours", "theirs"), MODULES, ids=IDS)
def test_repr_is_pytorchs(text: str, ours, theirs) -> None:
    assert repr(ours()) == text
    torch = pytest.importorskip("torch")
    if "inplace" not in text:
        assert repr(theirs(torch)) == text


@pytest.mark.parametrize(("text", "ours", "theirs"), MODULES, ids=IDS)
def test_gradcheck(text: str, ours, theirs, device: str) -> None:
    module = ours()
    assert tr.gradcheck(module, Tensor(X[:2, :2], device=device, dtype="float64", requires_grad=True))
    assert list(module.parameters()) == [] and module.state_dict() == {}


def test_activations_work_in_a_sequential_and_keep_float32(device: str) -> None:
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 3),
                          nn.Sigmoid(), nn.LogSoftmax(dim=-1)).to(device)
    out = model(Tensor(X[0], device=device, dtype="float32"))
    assert out.dtype == np.float32 and out.shape == (4, 3) and out.device == device
    np.testing.assert_allclose(np.exp(out.numpy()).sum(-1), 1.0, rtol=1e-5)


def test_gelu_rejects_an_unknown_approximation() -> None:
    with pytest.raises(ValueError, match=r"approximate='erf'; expected 'none' or 'tanh'"):
        nn.GELU(approximate="erf")


# ------------------------------------------------------------ nn.functional, PyTorch's names
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_functional_elementwise_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    x = Tensor(X, dtype="float64")
    np.testing.assert_allclose(getattr(F, name)(x).numpy(), getattr(torch, name)(torch.tensor(X)).numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_functional_softmax_dim_and_axis_match_torch(name: str, dim: int) -> None:
    torch = pytest.importorskip("torch")
    expected = getattr(torch.nn.functional, name)(torch.tensor(X), dim=dim).numpy()
    ours = getattr(F, name)
    np.testing.assert_allclose(ours(Tensor(X, dtype="float64"), dim=dim).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(ours(Tensor(X, dtype="float64"), axis=dim).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(ours(Tensor(X, dtype="float64"), dim).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_implicit_dim_follows_pytorchs_deprecated_rule_with_its_warning(name: str, shape: tuple) -> None:
    torch = pytest.importorskip("torch")
    x = rng.normal(size=shape)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = getattr(torch.nn.functional, name)(torch.tensor(x)).numpy()
    with pytest.warns(UserWarning, match=str(caught[0].message).split(".")[0]):
        got = getattr(F, name)(Tensor(x, dtype="float64"))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        module = nn.Softmax() if name == "softmax" else nn.LogSoftmax()
        np.testing.assert_allclose(module(Tensor(x, dtype="float64")).numpy(), expected, rtol=1e-12)


def test_softmax_dtype_casts_first_and_dim_axis_conflict_is_refused() -> None:
    x = Tensor(X, dtype="float32")
    assert F.softmax(x, dim=-1, dtype="float64").dtype == np.float64
    assert F.log_softmax(x, dim=-1, dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match=r"got dim=0 and axis=1; expected one of them"):
        F.softmax(x, dim=0, axis=1)


def test_functional_relu_accepts_inplace_and_leaves_x_alone() -> None:
    x = Tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True).tolist() == [0.0, 2.0]
    assert x.tolist() == [-1.0, 2.0]


def test_docstring_examples_run() -> None:
    import doctest

    from tinygrad_rnn.nn import activation

    result = doctest.testmod(activation)
    assert result.failed == 0 and result.attempted > 0
