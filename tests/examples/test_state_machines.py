"""examples/state_machines.py: the notes' Examples 1 and 2 (C.2.8, C.2.9), and the parity machine (C.1) of
examples/parity_machine.py, which it runs as its part 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from example_runner import load, run_example

from tinygrad_rnn import Tensor


@pytest.mark.slow
def test_quick_mode_learns_every_machine(tmp_path: Path) -> None:
    result = run_example(["examples/state_machines.py", "--quick", "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed") == 6
    assert (tmp_path / "state_machines.png").stat().st_size > 1000


def test_example_1_hand_weights_average_the_last_three_inputs() -> None:
    sm = load("state_machines")
    rnn = sm.linear_machine(sm.EXAMPLE_1, "cpu")
    X = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])
    g, s = rnn(Tensor(X.reshape(-1, 1, 1)))
    padded = np.concatenate([[0.0, 0.0], X])
    expected = 0.5 * padded[2:] + 0.3 * padded[1:-1] + 0.2 * padded[:-2]  # (C.16)
    np.testing.assert_allclose(g.numpy().reshape(-1), expected, rtol=1e-12)
    np.testing.assert_allclose(s.numpy()[:, 0], np.stack([padded[:-2], padded[1:-1], padded[2:]], axis=1))


def test_example_2_hand_weights_follow_the_bank() -> None:
    sm = load("state_machines")
    rnn = sm.linear_machine(sm.EXAMPLE_2, "cpu")
    earnings = [10000.0, 12000.0, 8000.0]
    g, s = rnn(Tensor(np.array(earnings).reshape(-1, 1, 1)))
    bank, invested = 0.0, 0.0
    for t, x in enumerate(earnings):
        bank, invested = bank + 0.2 * invested + 0.8 * x - 6000.0, 1.01 * invested + 0.2 * x  # (C.23, C.25)
        np.testing.assert_allclose(s.numpy()[t, 0], [bank, invested], rtol=1e-12)
        assert g.numpy()[t, 0, 0] == pytest.approx(bank + invested, rel=1e-12)


def test_parity_targets_count_zeros() -> None:
    import random

    pm = load("parity_machine")
    x, y, lengths = pm.parity_batch(random.Random(0), B=5, lo=1, hi=9, device="cpu")
    bits = x.numpy()[:, :, 1]
    np.testing.assert_array_equal(x.numpy()[:, :, 0], 1 - bits)  # one-hot (1 - bit, bit)
    zeros_so_far = np.cumsum(bits == 0, axis=0)
    np.testing.assert_array_equal(y.numpy()[:, :, 0], (zeros_so_far % 2 == 0).astype(float))
    assert x.shape[0] == max(lengths)


def test_impulse_response_of_the_notes_machine() -> None:
    sm = load("state_machines")
    h = sm.impulse_response(sm.linear_machine(sm.EXAMPLE_1, "cpu"), 5)
    np.testing.assert_allclose(h, [0.5, 0.3, 0.2, 0.0, 0.0], atol=1e-15)
