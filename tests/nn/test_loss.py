"""nn.loss: the loss modules against PyTorch's in float64 (values and input gradients)
over PyTorch's layouts (C,), (N, C), (N, C, d1, d2), every reduction, ignore_index
(PyTorch's default -100 included), class weights, label smoothing, probability targets,
pos_weight; weights as buffers; refused legacy arguments; errors in PyTorch's layout."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

REDUCTIONS = ["mean", "sum", "none"]
C = 4
rng = np.random.default_rng(0)
CLASS_WEIGHT = rng.random(C) + 0.5


def compare(ours: Any, theirs: Any, x: np.ndarray, target: np.ndarray, torch: Any) -> None:
    """Value and input gradient of ``ours`` and ``theirs`` on the same data, float64."""
    a = Tensor(x, dtype="float64", requires_grad=True)
    a_t = torch.tensor(x, requires_grad=True)
    out, out_t = ours(a, Tensor(target)), theirs(a_t, torch.tensor(target))
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-11, atol=1e-14)
    assert out.shape == tuple(out_t.shape) and out.dtype == np.float64
    upstream = rng.normal(size=out.shape)
    out.backward(Tensor(upstream))
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(a.grad.numpy(), a_t.grad.numpy(), rtol=1e-10, atol=1e-14)


def class_data(shape: tuple[int, ...], with_ignored: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Logits of ``shape`` (classes on axis 1, or axis 0 for 1-D) and matching class indices."""
    x = rng.normal(size=shape) * 2.0
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    target = rng.integers(0, C, size=target_shape)
    if with_ignored is not None and target.ndim:
        target.reshape(-1)[::3] = with_ignored
    return x, np.asarray(target)


LAYOUTS = [(C,), (5, C), (3, C, 2), (2, C, 3, 2)]
CLASS_CASES = list(itertools.product(LAYOUTS, REDUCTIONS))


@pytest.mark.parametrize(("shape", "reduction"), CLASS_CASES)
@pytest.mark.parametrize("ignored", [None, -100, 2])
def test_cross_entropy_and_nll_modules_match_torch(shape: tuple, reduction: str, ignored: int | None) -> None:
    torch = pytest.importorskip("torch")
    x, target = class_data(shape, ignored)
    kwargs = {} if ignored in (None, -100) else {"ignore_index": ignored}  # -100 is the default of both
    compare(nn.CrossEntropyLoss(reduction=reduction, **kwargs),
            torch.nn.CrossEntropyLoss(reduction=reduction, **kwargs), x, target, torch)
    log_p = x - np.log(np.exp(x).sum(axis=0 if len(shape) == 1 else 1, keepdims=True))
    compare(nn.NLLLoss(reduction=reduction, **kwargs), torch.nn.NLLLoss(reduction=reduction, **kwargs),
            log_p, target, torch)


@pytest.mark.parametrize(("shape", "reduction"), CLASS_CASES)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_class_weights_and_label_smoothing_match_torch(shape: tuple, reduction: str, smoothing: float) -> None:
    torch = pytest.importorskip("torch")
    x, target = class_data(shape, -100)
    weight = Tensor(CLASS_WEIGHT, dtype="float64")
    compare(nn.CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=smoothing),
            torch.nn.CrossEntropyLoss(weight=torch.tensor(CLASS_WEIGHT), reduction=reduction,
                                      label_smoothing=smoothing), x, target, torch)
    compare(nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing),
            torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing), x, target, torch)
    compare(nn.NLLLoss(weight=weight, reduction=reduction),
            torch.nn.NLLLoss(weight=torch.tensor(CLASS_WEIGHT), reduction=reduction), x, target, torch)


@pytest.mark.parametrize(("shape", "reduction"), CLASS_CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_probability_targets_match_torch(shape: tuple, reduction: str, weighted: bool) -> None:
    torch = pytest.importorskip("torch")
    x = rng.normal(size=shape)
    p = rng.random(size=shape)
    p /= p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    weight = CLASS_WEIGHT if weighted else None
    ours = nn.CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=0.1)
    theirs = torch.nn.CrossEntropyLoss(weight=None if weight is None else torch.tensor(weight), reduction=reduction,
                                       label_smoothing=0.1)
    compare(ours, theirs, x, p, torch)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_bce_with_logits_modules_match_torch(reduction: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.concatenate([rng.normal(size=(5, 3)), [[0.0, 30.0, -30.0]]])
    y = rng.random(size=x.shape)
    compare(nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), x, y, torch)
    compare(nn.BCEWithLogitsLoss(reduction=reduction), torch.nn.BCEWithLogitsLoss(reduction=reduction), x, y, torch)
    pos_weight, weight = rng.random(3) * 3.0, rng.random((6, 3))
    compare(nn.BCEWithLogitsLoss(weight=weight, pos_weight=pos_weight, reduction=reduction),
            torch.nn.BCEWithLogitsLoss(weight=torch.tensor(weight), pos_weight=torch.tensor(pos_weight),
                                       reduction=reduction), x, y, torch)
    compare(nn.BCEWithLogitsLoss(pos_weight=Tensor(pos_weight), reduction=reduction),
            torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight), reduction=reduction), x, y, torch)


def test_defaults_match_torch_and_losses_have_no_parameters() -> None:
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()), (nn.NLLLoss(), torch.nn.NLLLoss())]:
        assert (ours.ignore_index, ours.reduction) == (theirs.ignore_index, theirs.reduction) == (-100, "mean")
        assert ours.weight is None and list(ours.parameters()) == []
        assert repr(ours) == repr(theirs)
    assert nn.CrossEntropyLoss().label_smoothing == torch.nn.CrossEntropyLoss().label_smoothing == 0.0
    assert repr(nn.MSELoss()) == "MSELoss()" and repr(nn.BCEWithLogitsLoss()) == "BCEWithLogitsLoss()"


def test_weights_are_buffers_in_the_state_dict_as_in_torch() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.BCEWithLogitsLoss(weight=Tensor.ones(3), pos_weight=Tensor.ones(3))
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "pos_weight"]
    criterion = nn.CrossEntropyLoss(weight=[1.0, 2.0])
    criterion.load_state_dict({"weight": torch.tensor([3.0, 4.0])})
    assert criterion.weight.tolist() == [3.0, 4.0]
    criterion.to("float64")
    assert criterion.weight.dtype == np.float64


def test_a_float32_model_with_float64_weights_keeps_float32() -> None:
    loss = nn.CrossEntropyLoss(weight=Tensor(CLASS_WEIGHT, dtype="float64"))(Tensor.randn(3, C), Tensor([0, 1, 2]))
    assert loss.dtype == np.float32


def test_gradcheck_through_every_module(device: str) -> None:
    x = Tensor(rng.normal(size=(2, C, 3)), device=device, dtype="float64", requires_grad=True)
    y = Tensor(rng.integers(0, C, size=(2, 3)), device=device)
    weight = Tensor(CLASS_WEIGHT, device=device)
    assert tr.gradcheck(lambda a: nn.CrossEntropyLoss(weight=weight, label_smoothing=0.3)(a, y), x)
    assert tr.gradcheck(lambda a: nn.NLLLoss(reduction="none")(a, y), x)
    soft = Tensor(rng.random(size=(2, 3)), device=device, dtype="float64")
    logits = Tensor(rng.normal(size=(2, 3)), device=device, dtype="float64", requires_grad=True)
    pos = Tensor([0.5, 2.0, 1.0], device=device)
    assert tr.gradcheck(lambda a: nn.BCEWithLogitsLoss(pos_weight=pos)(a, soft), logits)
    assert tr.gradcheck(lambda a: nn.MSELoss(reduction="sum")(a, soft), logits)


def test_legacy_arguments_and_bad_settings_are_refused() -> None:
    with pytest.raises(TypeError, match=r"size_average and reduce are PyTorch's deprecated arguments.*reduction="):
        nn.CrossEntropyLoss(size_average=False)
    with pytest.raises(TypeError, match="deprecated"):
        nn.MSELoss(reduce=False)
    with pytest.raises(ValueError, match=r"reduction='avg'; expected one of"):
        nn.NLLLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing=1.5; expected a number in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


def test_errors_speak_pytorchs_layout() -> None:
    criterion = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"input has shape \(2, 4, 3\) \(N, C, d1, ...\) and target has shape "
                                         r"\(2, 4\); expected target shape \(2, 3\)"):
        criterion(Tensor.randn(2, 4, 3), Tensor(np.zeros((2, 4), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"input is \(\); expected a Tensor \(C,\), \(N, C\) or \(N, C, d1, ...\)"):
        criterion(Tensor(1.0), Tensor(0))
    with pytest.raises(IndexError, match=r"class index 4, but the input has n_classes=4.*or ignore_index=-100"):
        criterion(Tensor.randn(3, 4), Tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\); expected \(4,\)"):
        nn.CrossEntropyLoss(weight=[1.0, 1.0, 1.0])(Tensor.randn(2, 4), Tensor([0, 1]))


def test_all_ignored_mean_is_nan_as_in_torch() -> None:
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(2, C))
    with np.errstate(invalid="ignore", divide="ignore"):
        ours = nn.CrossEntropyLoss()(Tensor(x), Tensor([-100, -100])).item()
    assert np.isnan(ours) and np.isnan(torch.nn.CrossEntropyLoss()(torch.tensor(x), torch.tensor([-100, -100])).item())


def test_docstring_examples_run() -> None:
    import doctest

    from tinygrad_rnn.nn import loss

    result = doctest.testmod(loss)
    assert result.failed == 0 and result.attempted > 0
