"""nn.utils: clip_grad_norm_ (PyTorch's rule, no in-place writes) and pad_sequence."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import utils
from tinygrad_rnn.nn.utils import clip_grad_norm_, pad_sequence


def params_with_grads(device: str, grads: list[np.ndarray]) -> list[Tensor]:
    out = []
    for g in grads:
        p = Tensor(np.zeros(g.shape), device=device, requires_grad=True)
        p.grad = Tensor(g, device=device)
        out.append(p)
    return out


GRADS = [np.array([3.0, 0.0]), np.array([[0.0, 4.0], [0.0, 12.0]])]  # joint norm 13


def test_returns_the_norm_before_clipping_and_scales_by_the_documented_factor(device: str) -> None:
    params = params_with_grads(device, GRADS)
    norm = clip_grad_norm_(params, 6.5)
    assert isinstance(norm, float) and norm == pytest.approx(13.0, rel=1e-15)
    scale = 6.5 / (13.0 + 1e-6)
    for p, g in zip(params, GRADS, strict=True):
        assert p.grad.device == device
        np.testing.assert_allclose(p.grad.numpy(), g * scale, rtol=1e-15)
    assert clip_grad_norm_(params, 6.5) == pytest.approx(6.5, rel=1e-6)


def test_below_max_norm_is_a_no_op(device: str) -> None:
    params = params_with_grads(device, GRADS)
    before = [p.grad for p in params]
    assert clip_grad_norm_(params, 20.0) == pytest.approx(13.0)
    assert all(p.grad is b for p, b in zip(params, before, strict=True))
    np.testing.assert_array_equal(params[0].grad.numpy(), GRADS[0])


def test_shared_gradient_arrays_are_never_written_to() -> None:
    shared = Tensor(np.array([30.0, 40.0]))
    a, b = params_with_grads("cpu", [np.zeros(2), np.zeros(2)])
    a.grad = shared
    other = Tensor(shared.data)  # another tensor viewing the same array
    clip_grad_norm_([a], 1.0)
    np.testing.assert_array_equal(shared.numpy(), [30.0, 40.0])
    np.testing.assert_array_equal(other.numpy(), [30.0, 40.0])
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.8], rtol=1e-6)


def test_single_tensor_generators_and_none_grads() -> None:
    p = Tensor([1.0], requires_grad=True)
    p.grad = Tensor([-4.0])
    assert clip_grad_norm_(p, 1.0) == 4.0
    assert p.grad.item() == pytest.approx(-1.0, rel=1e-5)
    q = Tensor([1.0], requires_grad=True)  # grad None: skipped
    assert clip_grad_norm_((t for t in [q, p]), 10.0) == pytest.approx(1.0, rel=1e-5)
    assert q.grad is None
    assert clip_grad_norm_([q], 1.0) == 0.0


def test_float32_gradients_stay_float32() -> None:
    model = nn.Linear(3, 2)
    (model(Tensor.randn(4, 3)) * 100.0).sum().backward()
    clip_grad_norm_(model.parameters(), 0.1)
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    total = np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum() for p in model.parameters()))
    assert total == pytest.approx(0.1, rel=1e-5)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "2", None])
def test_bad_max_norm(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a number >= 0"):
        clip_grad_norm_([Tensor([1.0])], bad)  # type: ignore[arg-type]


def test_bad_parameters() -> None:
    with pytest.raises(TypeError, match="pass model.parameters"):
        clip_grad_norm_(nn.Linear(2, 2), 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="element 1 is a float"):
        clip_grad_norm_([Tensor([1.0]), 2.0], 1.0)  # type: ignore[list-item]


def test_matches_torch_clip_grad_norm() -> None:
    torch = pytest.importorskip("torch")
    grads = [np.random.default_rng(k).normal(size=s) * 5 for k, s in enumerate([(3, 4), (4,), (2, 2, 2)])]
    params = params_with_grads("cpu", grads)
    torch_params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for tp, g in zip(torch_params, grads, strict=True):
        tp.grad = torch.tensor(g)
    for max_norm in (2.0, 1e3):
        norm = clip_grad_norm_(params, max_norm)
        torch_norm = torch.nn.utils.clip_grad_norm_(torch_params, max_norm)
        assert norm == pytest.approx(torch_norm.item(), rel=1e-12)
        for p, tp in zip(params, torch_params, strict=True):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- pad_sequence
def test_pad_sequence_shape_values_and_padding(device: str) -> None:
    seqs_np = [np.arange(6.0).reshape(3, 2), np.array([[7.0, 8.0]]), np.zeros((0, 2))]
    out = pad_sequence([Tensor(s, device=device) for s in seqs_np], padding_value=-1.0)
    assert out.shape == (3, 3, 2) and out.device == device
    expected = np.full((3, 3, 2), -1.0)
    for b, s in enumerate(seqs_np):
        expected[: len(s), b] = s
    np.testing.assert_array_equal(out.numpy(), expected)
    first = pad_sequence([Tensor(s, device=device) for s in seqs_np], batch_first=True)
    assert first.shape == (3, 3, 2)
    np.testing.assert_array_equal(first.numpy()[1, 0], [7.0, 8.0])


def test_pad_sequence_of_token_ids_keeps_integers() -> None:
    out = pad_sequence([Tensor([1, 2, 3]), Tensor([4])], padding_value=0)
    assert out.dtype == np.int64
    assert out.tolist() == [[1, 4], [2, 0], [3, 0]]


def test_pad_sequence_gradient_flows_to_each_sequence(device: str) -> None:
    a = Tensor.randn(3, 2, device=device, dtype="float64", requires_grad=True)
    b = Tensor.randn(1, 2, device=device, dtype="float64", requires_grad=True)
    upstream = np.random.default_rng(0).normal(size=(3, 2, 2))
    pad_sequence([a, b]).backward(Tensor(upstream, device=device))
    np.testing.assert_array_equal(a.grad.numpy(), upstream[:, 0])
    np.testing.assert_array_equal(b.grad.numpy(), upstream[:1, 1])
    assert tr.gradcheck(lambda x, y: pad_sequence([x, y], padding_value=2.0) ** 2, a, b)


def test_pad_sequence_errors() -> None:
    with pytest.raises(ValueError, match="empty list"):
        pad_sequence([])
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(2, 3\) and sequence 0 has shape \(2, 2\)"):
        pad_sequence([Tensor.zeros(2, 2), Tensor.zeros(2, 3)])
    with pytest.raises(ValueError, match=r"sequence 0 has shape \(\)"):
        pad_sequence([Tensor(1.0)])
    with pytest.raises(TypeError, match="expected a list of Tensors"):
        pad_sequence(Tensor.zeros(2, 2))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="element 1 is a list"):
        pad_sequence([Tensor.zeros(2), [1.0]])  # type: ignore[list-item]


def test_pad_sequence_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    seqs = [np.random.default_rng(k).normal(size=(t, 3)) for k, t in enumerate([2, 5, 1])]
    ours = pad_sequence([Tensor(s) for s in seqs], padding_value=0.5).numpy()
    theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], padding_value=0.5).numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_docstring_example_runs() -> None:
    assert doctest.testmod(utils).failed == 0


# ------------------------------------------------------------------ last_step
def test_last_step_is_each_sequences_own_last_state(device: str) -> None:
    tr.manual_seed(4)
    rnn = nn.GatedRNN(2, 3, 1, device=device, dtype="float64")
    lengths = [4, 1, 3]
    x = Tensor.randn(4, 3, 2, device=device, dtype="float64")
    _, s = rnn(x, lengths=lengths)
    last = utils.last_step(s, lengths)
    for b, n in enumerate(lengths):
        _, alone = rnn(x[:n, b : b + 1])
        np.testing.assert_allclose(last.numpy()[b], alone.numpy()[-1, 0], rtol=0, atol=1e-12)
    assert (s.numpy()[-1, 1] == 0).all()  # what s[-1] would have given for sequence 1
    np.testing.assert_array_equal(utils.last_step(s.transpose(1, 0, 2), lengths, batch_first=True).numpy(),
                                  last.numpy())
    np.testing.assert_array_equal(utils.last_step(s).numpy(), s.numpy()[-1])
    np.testing.assert_array_equal(utils.last_step(s, [4, 4, 4]).numpy(), s.numpy()[-1])


def test_last_step_gradient_reaches_only_the_picked_entries(device: str) -> None:
    outputs = Tensor(np.arange(12.0).reshape(3, 2, 2), device=device, dtype="float64", requires_grad=True)
    utils.last_step(outputs, lengths=[2, 3]).sum().backward()
    expected = np.zeros((3, 2, 2))
    expected[1, 0] = expected[2, 1] = 1.0
    np.testing.assert_array_equal(outputs.grad.numpy(), expected)
    a = Tensor.randn(3, 2, 2, dtype="float64", requires_grad=True)
    assert tr.gradcheck(lambda a: utils.last_step(a, lengths=[1, 3]), a)


def test_last_step_errors() -> None:
    with pytest.raises(TypeError, match="last_step: outputs is a list; expected a Tensor"):
        utils.last_step([[1.0]], [1])
    with pytest.raises(ValueError, match=r"last_step: outputs has shape \(3,\)"):
        utils.last_step(Tensor.zeros(3), [1])
    with pytest.raises(ValueError, match=r"last_step: lengths \[1, 4\] include \[4\]; expected every length in 1\.\.T = 1\.\.3"):
        utils.last_step(Tensor.zeros(3, 2), [1, 4])
