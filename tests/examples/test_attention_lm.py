"""examples/attention_lm.py: a causal self-attention character model against a GRU one.

The quick run must learn: both models end well below the uniform guess (0.75 log V
nats/char on held-out windows). The pieces are checked too: the transformer's prediction
at position t reads nothing after t (the causal mask), and both models see the same
windows (x shifted by one is y).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from example_runner import load, run_example

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor


@pytest.mark.slow
def test_quick_mode_learns(tmp_path: Path) -> None:
    result = run_example(["examples/attention_lm.py", "--quick", "--no-bar", "--out-dir", str(tmp_path)], timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed") == 2  # rnn and transformer
    assert "rnn" in result.stdout and "transformer" in result.stdout and "chars/s" in result.stdout
    assert (tmp_path / "attention_vs_rnn.png").stat().st_size > 1000


def test_help_explains_the_example() -> None:
    result = run_example(["examples/attention_lm.py", "--help"], timeout=60)
    assert result.returncode == 0
    for words in ("eliminate recurrence", "causal", "--context", "--no-jit", "cuda"):
        assert words in result.stdout


def test_transformer_is_causal() -> None:
    """Changing character t+1.. of a window leaves the logits at positions 1..t unchanged."""
    lm = load("attention_lm")
    tr.manual_seed(0)
    model = lm.AttentionLM(V=12, d_model=16, nhead=2, layers=2, context=10, device="cpu").eval()
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 12, size=(3, 10))
    changed = tokens.copy()
    changed[:, 6:] = (changed[:, 6:] + 5) % 12
    with tr.no_grad():
        a = model(Tensor(tokens)).numpy()
        b = model(Tensor(changed)).numpy()
    np.testing.assert_allclose(a[:, :6], b[:, :6], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[:, 6:], b[:, 6:])


def test_windows_shift_by_one() -> None:
    lm = load("attention_lm")
    ids = list(range(40))
    x, y = lm.windows(ids, [0, 7, 20], 5, "cpu")
    assert x.shape == y.shape == (3, 5)
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
    np.testing.assert_array_equal(x.numpy()[1], np.arange(7, 12))


def test_bad_arguments_are_refused() -> None:
    result = run_example(["examples/attention_lm.py", "--d-model", "30", "--heads", "4"], timeout=60)
    assert result.returncode != 0 and "divisible" in result.stderr
    result = run_example(["examples/attention_lm.py", "--models", "cnn"], timeout=60)
    assert result.returncode != 0 and "expected rnn and/or transformer" in result.stderr
