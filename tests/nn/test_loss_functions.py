"""nn.loss_functions, what the PyTorch idioms added to the losses (the original behaviour
is tested in test_functional.py): PyTorch's default ignore_index=-100 at no cost when
nothing is ignored (also under tr.jit), class weights, label smoothing, probability
targets and pos_weight with the classes on the last axis, and the hints for PyTorch's
positional weight and class axis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(3, 2, 5))  # (T, B, n_classes): classes last
CLASSES = rng.integers(0, 5, size=(3, 2))
WEIGHT = rng.random(5) + 0.5


def f64(x: np.ndarray, device: str = "cpu") -> Tensor:
    return Tensor(x, device=device, dtype="float64", requires_grad=True)


def op_names(t: Tensor) -> list[str]:
    """The classes of every op on the tape behind t, in a fixed order."""
    names, stack, seen = [], [t], set()
    while stack:
        node = stack.pop()
        if node._ctx is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(type(node._ctx).__name__)
        stack.extend(node._ctx.inputs)
    return sorted(names)


# ------------------------------------------------------------ ignore_index=-100 by default
def test_default_ignore_index_is_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    target = CLASSES.copy()
    target[1, 0] = -100
    flat_x, flat_y = LOGITS.reshape(-1, 5), target.reshape(-1)
    for ours, theirs in [(F.cross_entropy, torch.nn.functional.cross_entropy),
                         (F.nll_loss, torch.nn.functional.nll_loss)]:
        expected = theirs(torch.tensor(flat_x), torch.tensor(flat_y)).item()
        assert ours(f64(LOGITS), Tensor(target)).item() == pytest.approx(expected, rel=1e-12)


def test_default_costs_nothing_when_no_position_is_ignored() -> None:
    plain = F.cross_entropy(f64(LOGITS), Tensor(CLASSES), ignore_index=None)
    default = F.cross_entropy(f64(LOGITS), Tensor(CLASSES))
    assert default.item() == plain.item()
    assert op_names(default) == op_names(plain)  # no mask, no count: the same ops
    padded = CLASSES.copy()
    padded[0, 0] = -100
    assert "Where" in "".join(op_names(F.cross_entropy(f64(LOGITS), Tensor(padded))))


def test_ignore_index_none_ignores_nothing_so_minus_100_is_out_of_range() -> None:
    padded = CLASSES.copy()
    padded[2, 1] = -100
    with pytest.raises(IndexError, match=r"class index -100, but the input has n_classes=5 on its last axis; "
                                         r"expected indices in \[0, 4\]$"):
        F.cross_entropy(Tensor(LOGITS), Tensor(padded), ignore_index=None)


def test_ignored_and_invalid_indices_together_name_the_invalid_one() -> None:
    for bad in ([-100, 7], [7, -100], [-100, -3]):
        target = np.array([0, *bad, 1])
        with pytest.raises(IndexError, match=rf"class index {[b for b in bad if b != -100][0]},"):
            F.cross_entropy(Tensor(rng.normal(size=(4, 5))), Tensor(target))


def test_jit_replays_a_step_whose_batches_start_or_stop_holding_ignored_positions() -> None:
    def run(jit: bool) -> list[float]:
        tr.manual_seed(0)
        model = nn.Linear(3, 5)
        opt = tr.optim.SGD(model.parameters(), lr=0.5)

        def step(x: Tensor, y: Tensor) -> Tensor:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        fn = tr.jit(step) if jit else step
        data = np.random.default_rng(1)
        losses = []
        for k in range(6):
            y = data.integers(0, 5, size=4)
            if k in (2, 3, 5):
                y[k % 4] = -100
            losses.append(fn(Tensor(data.normal(size=(4, 3)).astype(np.float32)), Tensor(y)).item())
        if jit:  # recorded without ignored positions, again at the first batch with some, then replayed
            assert (fn.records, fn.replays) == (2, 4)
        return losses
    assert run(True) == run(False)


# ---------------------------------------------- weights, smoothing, probabilities: classes last
def torch_classes_last(torch: Any, fn: Any, x: Any, target: Any, **kwargs: Any) -> Any:
    """PyTorch's function on (T, B, C) logits: classes moved to axis 1 and back."""
    x_t = x.permute(0, 2, 1)
    if target.dtype.is_floating_point:
        target = target.permute(0, 2, 1)
    out = fn(x_t, target, **kwargs)
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("probabilities", [False, True])
def test_weight_smoothing_and_probabilities_match_torch_with_classes_last(
        reduction: str, smoothing: float, probabilities: bool) -> None:
    torch = pytest.importorskip("torch")
    if probabilities:
        target = rng.random(size=LOGITS.shape)
    else:
        target = CLASSES.copy()
        target[0, 1] = -100
    x, x_t = f64(LOGITS), torch.tensor(LOGITS, requires_grad=True)
    out = F.cross_entropy(x, Tensor(target), reduction, weight=Tensor(WEIGHT), label_smoothing=smoothing)
    out_t = torch_classes_last(torch, torch.nn.functional.cross_entropy, x_t, torch.tensor(target),
                               weight=torch.tensor(WEIGHT), reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-12)
    upstream = rng.normal(size=out.shape)
    out.backward(Tensor(upstream))
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_nll_matches_torch(reduction: str) -> None:
    torch = pytest.importorskip("torch")
    target = CLASSES.copy()
    target[2, 0] = 1
    out = F.nll_loss(f64(LOGITS), Tensor(target), reduction, ignore_index=1, weight=WEIGHT)
    out_t = torch_classes_last(torch, torch.nn.functional.nll_loss, torch.tensor(LOGITS), torch.tensor(target),
                               weight=torch.tensor(WEIGHT), reduction=reduction, ignore_index=1)
    np.testing.assert_allclose(out.numpy(), out_t.numpy(), rtol=1e-12)


def test_gradchecks_of_the_new_options(device: str) -> None:
    target = Tensor(CLASSES, device=device)
    weight = Tensor(WEIGHT, device=device)
    probabilities = Tensor(rng.random(size=LOGITS.shape), device=device, dtype="float64")
    assert tr.gradcheck(lambda x: F.cross_entropy(x, target, weight=weight, label_smoothing=0.1), f64(LOGITS, device))
    assert tr.gradcheck(lambda x: F.cross_entropy(x, probabilities, "sum", label_smoothing=0.2), f64(LOGITS, device))
    assert tr.gradcheck(lambda x: F.nll_loss(x, target, "none", weight=weight), f64(LOGITS, device))
    y = Tensor(rng.random(size=(3, 2)), device=device, dtype="float64")
    pos = Tensor([3.0, 0.5], device=device)
    assert tr.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, y, weight=y, pos_weight=pos),
                        f64(rng.normal(size=(3, 2)), device))
    assert tr.gradgradcheck(lambda x: F.cross_entropy(x, target, weight=weight, label_smoothing=0.1),
                            f64(LOGITS, device))


def test_bce_gradient_with_pos_weight_is_exact_at_zero() -> None:
    x = f64(np.zeros(3))
    y = Tensor([0.0, 0.5, 1.0], dtype="float64")
    F.binary_cross_entropy_with_logits(x, y, "sum", pos_weight=Tensor([2.0, 2.0, 2.0])).backward()
    # d/dx [(1 + (p - 1) y) softplus(x) - p y x] at 0 = (1 + (p - 1) y) / 2 - p y
    np.testing.assert_allclose(x.grad.numpy(), [0.5, -0.25, -1.0], rtol=1e-15)


def test_bce_with_pos_weight_stays_finite_for_huge_logits() -> None:
    x = Tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, Tensor([1.0, 0.0, 0.0, 1.0]), "none", pos_weight=Tensor([3.0]))
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 1e4, 3e4])


# ----------------------------------------------------------------------- PyTorch hints
def test_a_weight_passed_where_pytorch_puts_it_gets_a_hint() -> None:
    with pytest.raises(ValueError, match=r"PyTorch's third positional argument is weight; here it is reduction: "
                                         r"pass weight=\.\.\."):
        F.cross_entropy(Tensor(LOGITS), Tensor(CLASSES), Tensor(WEIGHT))  # type: ignore[arg-type]


def test_pytorchs_class_axis_gets_a_hint() -> None:
    with pytest.raises(ValueError, match=r"PyTorch's functions take the classes on axis 1: move them to the last axis, or use "
                                         r"nn.CrossEntropyLoss / nn.NLLLoss"):
        F.cross_entropy(Tensor(rng.normal(size=(2, 5, 7))), Tensor(rng.integers(0, 5, size=(2, 7))))


def test_float_targets_of_another_shape_and_soft_nll_targets_are_refused() -> None:
    with pytest.raises(TypeError, match=r"expected integer class indices or class probabilities of the input's shape"):
        F.cross_entropy(Tensor(LOGITS), Tensor(CLASSES.astype(np.float64)))
    with pytest.raises(TypeError, match=r"nll_loss: target has dtype float64 and shape \(3, 2, 5\); expected integer"):
        F.nll_loss(Tensor(LOGITS), Tensor(rng.random(size=LOGITS.shape)))
    with pytest.raises(ValueError, match=r"label_smoothing=-0.1; expected a number in \[0, 1\]"):
        F.cross_entropy(Tensor(LOGITS), Tensor(CLASSES), label_smoothing=-0.1)
    with pytest.raises(RuntimeError, match=r"weight is on 'strict' but the input is on 'cpu'"):
        F.cross_entropy(Tensor(LOGITS), Tensor(CLASSES), weight=Tensor(WEIGHT, device="strict"))
