"""examples/adding_problem.py: the adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015).

The quick run must learn: the LSTM and the GRU reach half the 0.167 baseline MSE or
better. The pieces are checked too: the data (two markers, one in each half; the
target is the sum of the marked values; answering 1.0 scores ~1/6) and the IRNN's
initialisation (W_hh = I, biases 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from example_runner import load, run_example

import tinygrad_rnn as tr


@pytest.mark.slow
def test_quick_mode_learns(tmp_path: Path) -> None:
    result = run_example(["examples/adding_problem.py", "--quick", "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed") == 2  # LSTM and GRU
    assert "LSTM test MSE" in result.stdout and "GRU test MSE" in result.stdout
    assert (tmp_path / "adding_problem.png").stat().st_size > 1000


def test_help_explains_the_example() -> None:
    result = run_example(["examples/adding_problem.py", "--help"], timeout=60)
    assert result.returncode == 0
    for words in ("Le, Jaitly & Hinton (2015)", "Hochreiter & Schmidhuber (1997)", "0.167", "IRNN", "--quick",
                  "--device", "--T", "--models"):
        assert words in result.stdout


def test_a_failed_learning_check_exits_with_status_1(tmp_path: Path) -> None:
    """Too few updates to learn: the check must fail loudly, not pass silently."""
    result = run_example(["examples/adding_problem.py", "--quick", "--steps", "2", "--models", "gru",
                          "--out-dir", str(tmp_path)], timeout=60)
    assert result.returncode == 1
    assert "learning check failed" in result.stderr


def test_batches_have_two_markers_one_in_each_half(device: str) -> None:
    ap = load("adding_problem")
    T, B = 11, 64
    x, y = ap.adding_batch(T, B, device)
    assert x.shape == (T, B, 2) and y.shape == (B,)
    values, markers = x.numpy()[:, :, 0], x.numpy()[:, :, 1]
    assert ((values >= 0) & (values <= 1)).all()
    assert set(np.unique(markers).tolist()) <= {0.0, 1.0}
    assert (markers.sum(axis=0) == 2).all()
    half = T // 2
    assert (markers[:half].sum(axis=0) == 1).all() and (markers[half:].sum(axis=0) == 1).all()
    np.testing.assert_allclose(y.numpy(), (values * markers).sum(axis=0), rtol=1e-6)


def test_always_answering_one_scores_about_one_sixth() -> None:
    ap = load("adding_problem")
    tr.manual_seed(3)
    _, y = ap.adding_batch(20, 20000, "cpu")
    mse = float(((y.numpy() - 1.0) ** 2).mean())
    assert abs(mse - ap.BASELINE_MSE) < 0.01
    assert abs(ap.BASELINE_MSE - 1 / 6) < 1e-12


def test_irnn_starts_from_the_identity_with_zero_biases() -> None:
    ap = load("adding_problem")
    rnn = ap.recurrent_layer("irnn", 8, "cpu")
    np.testing.assert_array_equal(rnn.weight_hh_l0.numpy(), np.eye(8))
    assert not rnn.bias_ih_l0.numpy().any() and not rnn.bias_hh_l0.numpy().any()
    assert rnn.weight_ih_l0.numpy().any()


@pytest.mark.parametrize("kind", ["tanh", "irnn", "lstm", "gru"])
def test_models_predict_one_number_per_sequence_and_train(kind: str, device: str) -> None:
    ap = load("adding_problem")
    model = ap.AddingModel(kind, 6, device)
    x, y = ap.adding_batch(5, 3, device)
    pred = model(x)
    assert pred.shape == (3,)
    tr.nn.functional.mse_loss(pred, y).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_unknown_model_is_refused() -> None:
    result = run_example(["examples/adding_problem.py", "--models", "lstm,transformer"], timeout=60)
    assert result.returncode == 2
    assert "transformer" in result.stderr


def test_jit_and_tape_train_bit_for_bit_alike(tmp_path) -> None:
    """The same seed trains the same model through tr.jit (default) and on the tape (--no-jit)."""
    adding = load("adding_problem")
    argv = ["--T", "12", "--hidden", "8", "--steps", "4", "--models", "gru", "--test-size", "50", "--out-dir", str(tmp_path)]
    jitted, tape = adding.main(argv)["gru"], adding.main([*argv, "--no-jit"])["gru"]
    assert jitted["last_loss"] == tape["last_loss"]
    assert jitted["test_mse"] == tape["test_mse"]
