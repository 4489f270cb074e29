"""nn.functional: losses (values, reductions, gradients, stability, errors), dropout, activations."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(3, 2, 4))  # (T, B, n_classes)
CLASSES = np.array([[0, 3], [2, 2], [1, 0]])
PRED = rng.normal(size=(3, 2, 4))
TARGET = rng.normal(size=(3, 2, 4))
BINARY = (rng.random(size=(3, 2, 4)) < 0.5).astype(np.float64)
PAD = -1


def f64(x: np.ndarray, device: str = "cpu", requires_grad: bool = True) -> Tensor:
    return Tensor(x, device=device, dtype="float64", requires_grad=requires_grad)


# ------------------------------------------------------------------ values by hand
def test_cross_entropy_is_minus_log_softmax_at_the_target() -> None:
    log_p = LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True))
    per_position = -np.take_along_axis(log_p, CLASSES[..., None], axis=-1)[..., 0]
    loss = F.cross_entropy(f64(LOGITS), Tensor(CLASSES), reduction="none")
    assert loss.shape == (3, 2)
    np.testing.assert_allclose(loss.numpy(), per_position, rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(f64(LOGITS), Tensor(CLASSES)).item(), per_position.mean(), rtol=1e-12)
    np.testing.assert_allclose(
        F.nll_loss(f64(log_p), Tensor(CLASSES), reduction="sum").item(), per_position.sum(), rtol=1e-12
    )


def test_cross_entropy_gradient_is_softmax_minus_onehot() -> None:
    logits = f64(LOGITS)
    F.cross_entropy(logits, Tensor(CLASSES), reduction="sum").backward()
    softmax = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
    onehot = np.eye(4)[CLASSES]
    np.testing.assert_allclose(logits.grad.numpy(), softmax - onehot, rtol=1e-10, atol=1e-12)


def test_single_position_input_gives_a_0d_none_loss() -> None:
    loss = F.cross_entropy(f64(LOGITS[0, 0]), Tensor(2), reduction="none")
    assert loss.shape == ()


def test_mse_and_bce_values() -> None:
    np.testing.assert_allclose(F.mse_loss(f64(PRED), f64(TARGET)).item(), ((PRED - TARGET) ** 2).mean(), rtol=1e-12)
    sig = 1 / (1 + np.exp(-PRED))
    bce = -(BINARY * np.log(sig) + (1 - BINARY) * np.log(1 - sig))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(f64(PRED), f64(BINARY), reduction="none").numpy(), bce, rtol=1e-10
    )


def test_ignore_index_drops_positions_from_loss_gradient_and_mean() -> None:
    target = CLASSES.copy()
    target[0, 1] = PAD
    target[2, 0] = PAD
    logits = f64(LOGITS)
    none = F.cross_entropy(logits, Tensor(target), reduction="none", ignore_index=PAD)
    assert none.numpy()[0, 1] == 0 and none.numpy()[2, 0] == 0
    mean = F.cross_entropy(logits, Tensor(target), ignore_index=PAD)
    np.testing.assert_allclose(mean.item(), none.numpy().sum() / 4, rtol=1e-12)  # 4 real positions
    mean.backward()
    assert not logits.grad.numpy()[0, 1].any() and not logits.grad.numpy()[2, 0].any()


def test_mean_over_zero_real_positions_is_nan_like_pytorch() -> None:
    with np.errstate(invalid="ignore", divide="ignore"):
        loss = F.cross_entropy(f64(LOGITS[0]), Tensor([PAD, PAD]), ignore_index=PAD)
    assert np.isnan(loss.item())


# ------------------------------------------------- the notes' C.15 and C.16, one line each
def test_sequence_loss_and_objective_of_the_notes_are_one_line_each() -> None:
    lengths = [3, 1, 2]  # q = 3 sequences padded to T = 3
    q, n = len(lengths), 5
    logits_np = rng.normal(size=(3, q, n))
    y_np = rng.integers(0, n, size=(3, q))
    for i, length in enumerate(lengths):
        y_np[length:, i] = PAD
    logits = f64(logits_np)
    # (C.15) L_seq(g, y) = sum_t L_elt(g_t, y_t), for one sequence, as a loop over t
    per_sequence = []
    for i, length in enumerate(lengths):
        l_seq = sum(F.cross_entropy(logits[t, i], Tensor(int(y_np[t, i]))).item() for t in range(length))
        assert F.cross_entropy(logits[:length, i], Tensor(y_np[:length, i]), reduction="sum").item() == pytest.approx(
            l_seq, rel=1e-12
        )
        per_sequence.append(l_seq)
    # (C.16) J(W) = (1/q) sum_i L_seq(i), over the padded batch
    J = F.cross_entropy(logits, Tensor(y_np), reduction="sum", ignore_index=PAD) / q
    assert J.item() == pytest.approx(sum(per_sequence) / q, rel=1e-12)


# --------------------------------------------------------------------- gradchecks
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_every_loss_every_reduction(device: str, reduction: str) -> None:
    classes = Tensor(CLASSES, device=device)
    log_p = f64(LOGITS, device).log_softmax(axis=-1).detach()
    log_p.requires_grad_(True)
    assert tr.gradcheck(lambda x: F.cross_entropy(x, classes, reduction=reduction), f64(LOGITS, device))
    assert tr.gradcheck(lambda x: F.nll_loss(x, classes, reduction=reduction), log_p)
    assert tr.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), f64(PRED, device), f64(TARGET, device))
    assert tr.gradcheck(
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction),
        f64(PRED, device),
        f64(rng.random(size=PRED.shape), device),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_with_ignore_index(device: str, reduction: str) -> None:
    target = CLASSES.copy()
    target[1, 0] = PAD
    classes = Tensor(target, device=device)
    assert tr.gradcheck(
        lambda x: F.cross_entropy(x, classes, reduction=reduction, ignore_index=PAD), f64(LOGITS, device)
    )
    assert tr.gradcheck(lambda x: F.nll_loss(x, classes, reduction=reduction, ignore_index=PAD), f64(LOGITS, device))


def test_second_derivatives_of_the_losses() -> None:
    classes = Tensor(CLASSES)
    assert tr.gradgradcheck(lambda x: F.cross_entropy(x, classes), f64(LOGITS))
    assert tr.gradgradcheck(lambda x: F.binary_cross_entropy_with_logits(x, Tensor(BINARY)), f64(PRED))


def test_bce_gradient_at_exactly_zero_is_sigmoid_minus_target() -> None:
    x = f64(np.zeros(3))
    F.binary_cross_entropy_with_logits(x, Tensor([0.0, 0.3, 1.0], dtype="float64"), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.2, -0.5], rtol=1e-12)


# -------------------------------------------------------------------- stability
def test_losses_are_finite_for_logits_of_1e4_in_float32(device: str) -> None:
    logits = Tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], device=device, requires_grad=True)
    loss = F.cross_entropy(logits, Tensor([1, 2], device=device), reduction="none")
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), [2e4, 0.0])
    loss.sum().backward()
    assert np.isfinite(logits.grad.numpy()).all()
    x = Tensor([1e4, -1e4, 1e4, -1e4], device=device, requires_grad=True)
    bce = F.binary_cross_entropy_with_logits(x, Tensor([1.0, 0.0, 0.0, 1.0], device=device), reduction="none")
    np.testing.assert_allclose(bce.numpy(), [0.0, 0.0, 1e4, 1e4])
    bce.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0])


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "call",
    [
        lambda r: F.mse_loss(Tensor([1.0]), Tensor([1.0]), reduction=r),
        lambda r: F.cross_entropy(Tensor([[1.0, 2.0]]), Tensor([0]), reduction=r),
        lambda r: F.nll_loss(Tensor([[1.0, 2.0]]), Tensor([0]), reduction=r),
        lambda r: F.binary_cross_entropy_with_logits(Tensor([1.0]), Tensor([1.0]), reduction=r),
    ],
)
def test_unknown_reduction_lists_the_choices(call: object) -> None:
    with pytest.raises(ValueError, match=r"reduction='avg'; expected one of \['mean', 'sum', 'none'\]"):
        call("avg")  # type: ignore[operator]


@pytest.mark.parametrize("bad", [4, -1, 9])
def test_class_index_out_of_range_names_value_and_n_classes(device: str, bad: int) -> None:
    target = CLASSES.copy()
    target[1, 1] = bad
    with pytest.raises(IndexError, match=rf"class index {bad}, but the input has n_classes=4"):
        F.cross_entropy(Tensor(LOGITS, device=device), Tensor(target, device=device))
    with pytest.raises(IndexError, match=rf"class index {bad}.*or ignore_index=-100"):
        F.nll_loss(Tensor(LOGITS, device=device), Tensor(target, device=device), ignore_index=-100)


def test_shape_mismatches_name_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"input has shape \(3, 2, 4\).*target has shape \(2, 3\)"):
        F.cross_entropy(Tensor(LOGITS), Tensor(CLASSES.T.copy()))
    with pytest.raises(ValueError, match=r"input has shape \(3, 2, 4\).*target has shape \(3, 2, 4\)"):
        F.nll_loss(Tensor(LOGITS), Tensor(np.zeros((3, 2, 4), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"\(3, 2, 4\) but target has shape \(3, 2\)"):
        F.mse_loss(Tensor(PRED), Tensor(PRED[..., 0]))
    with pytest.raises(ValueError, match=r"\(3, 2, 4\) but target has shape \(4,\)"):
        F.binary_cross_entropy_with_logits(Tensor(PRED), Tensor(BINARY[0, 0]))


def test_float_class_targets_and_0d_logits_are_refused() -> None:
    with pytest.raises(TypeError, match="expected integer class indices"):
        F.cross_entropy(Tensor(LOGITS), Tensor(CLASSES.astype(np.float32)))
    with pytest.raises(ValueError, match="n_classes >= 1"):
        F.cross_entropy(Tensor(1.0), Tensor(0))


# -------------------------------------------------------------- PyTorch oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore", [None, PAD])
def test_class_losses_match_torch(reduction: str, ignore: int | None) -> None:
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    target = CLASSES.copy()
    if ignore is not None:
        target[0, 0] = target[2, 1] = ignore
    kwargs = {"ignore_index": ignore} if ignore is not None else {}
    for ours, theirs in [(F.cross_entropy, tf.cross_entropy), (F.nll_loss, tf.nll_loss)]:
        x = f64(LOGITS)
        out = ours(x, Tensor(target), reduction=reduction, ignore_index=ignore)
        x_t = torch.tensor(LOGITS, requires_grad=True)
        out_t = theirs(x_t.reshape(-1, 4), torch.tensor(target).reshape(-1), reduction=reduction, **kwargs)
        out_t = out_t.reshape(target.shape) if reduction == "none" else out_t
        np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-12, err_msg=ours.__name__)
        upstream = rng.normal(size=out.shape)
        out.backward(Tensor(upstream))
        out_t.backward(torch.tensor(upstream))
        np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=ours.__name__)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_losses_match_torch(reduction: str) -> None:
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    pred = np.concatenate([PRED.ravel(), [0.0, 30.0, -30.0]])
    soft_target = np.concatenate([rng.random(size=PRED.size), [0.5, 0.0, 1.0]])
    for ours, theirs in [(F.mse_loss, tf.mse_loss), (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits)]:
        a, b = f64(pred), f64(soft_target)
        out = ours(a, b, reduction=reduction)
        a_t = torch.tensor(pred, requires_grad=True)
        b_t = torch.tensor(soft_target, requires_grad=True)
        out_t = theirs(a_t, b_t, reduction=reduction)
        np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-12, err_msg=ours.__name__)
        upstream = rng.normal(size=out.shape)
        out.backward(Tensor(upstream))
        out_t.backward(torch.tensor(upstream))
        np.testing.assert_allclose(a.grad.numpy(), a_t.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=ours.__name__)
        np.testing.assert_allclose(b.grad.numpy(), b_t.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=ours.__name__)


# -------------------------------------------------------- dropout and activations
def test_dropout_is_identity_when_not_training_or_p_zero(device: str) -> None:
    x = Tensor.randn(4, 5, device=device)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_zeros_or_scales_and_is_seeded(device: str) -> None:
    x = Tensor.ones(200, 50, device=device)
    tr.manual_seed(1)
    y = F.dropout(x, 0.25).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    tr.manual_seed(1)
    np.testing.assert_array_equal(F.dropout(x, 0.25).numpy(), y)
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), 0.0)  # p = 1 zeros everything, as in PyTorch
    with pytest.raises(ValueError, match=r"p=1.5; expected a probability in \[0, 1\]"):
        F.dropout(x, 1.5)


def test_activation_by_name_or_callable() -> None:
    x = Tensor([-1.0, 0.5])
    np.testing.assert_allclose(F.activation("tanh", ("tanh",), "f_s")(x).numpy(), np.tanh([-1.0, 0.5]), rtol=1e-6)
    assert F.activation(abs, ("tanh",), "f_s") is abs
    with pytest.raises(ValueError, match=r"f_s: unknown activation 'gelu'; expected one of \['tanh', 'relu'\]"):
        F.activation("gelu", ("tanh", "relu"), "f_s")


def test_target_on_another_device_is_named() -> None:
    with pytest.raises(RuntimeError, match="target is on 'strict' but the input is on 'cpu'"):
        F.cross_entropy(Tensor(LOGITS), Tensor(CLASSES, device="strict"))


@settings(deadline=None)
@given(
    logits=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=3, max_side=5),
                      elements=st.floats(-1e4, 1e4, width=32)),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_is_finite_nonnegative_and_its_gradient_rows_sum_to_zero(logits: np.ndarray, seed: int) -> None:
    target = np.random.default_rng(seed).integers(0, logits.shape[-1], size=logits.shape[:-1])
    x = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(target), reduction="none")
    assert np.isfinite(loss.numpy()).all() and (loss.numpy() >= 0).all()
    loss.sum().backward()
    assert x.grad.shape == x.shape
    np.testing.assert_allclose(x.grad.numpy().sum(axis=-1), 0.0, atol=1e-5)


@settings(deadline=None)
@given(logits=hnp.arrays(np.float32, hnp.array_shapes(max_dims=2, max_side=6), elements=st.floats(-1e4, 1e4, width=32)))
def test_bce_with_logits_is_finite_with_gradient_sigmoid_minus_target(logits: np.ndarray) -> None:
    target = (logits > 1.0).astype(np.float32)
    x = Tensor(logits, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, Tensor(target), reduction="sum")
    assert np.isfinite(loss.item()) and loss.item() >= 0
    loss.backward()
    sigmoid = 0.5 * np.tanh(0.5 * logits.astype(np.float64)) + 0.5
    np.testing.assert_allclose(x.grad.numpy(), sigmoid - target, atol=1e-6)
