"""examples/bptt_by_hand.py: the notes' BPTT equations (C.39-C.45) agree with the tape."""

from __future__ import annotations

from pathlib import Path

import pytest
from example_runner import load, run_example


@pytest.mark.parametrize("loss", ["mse", "nll"])
def test_hand_written_bptt_matches_the_tape(device: str, loss: str) -> None:
    """Every device: the example's by-hand recursion uses only Tensor ops (no NumPy)."""
    bptt = load("bptt_by_hand")
    assert bptt.compare(loss, device, verbose=False) < 1e-10


def test_hand_written_bptt_catches_a_wrong_equation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison has teeth: drop W^ssT from C.41 and the gradients no longer agree."""
    bptt = load("bptt_by_hand")
    original = bptt.by_hand

    def wrong(rnn, x, y, loss, verbose):
        saved = rnn.W_ss.data.copy()
        grads = original(rnn, x, y, loss, verbose)  # the true answer ...
        rnn.W_ss.data[...] = 0.0  # ... versus one whose delta recursion (C.41) is cut off
        cut = original(rnn, x, y, loss, verbose)
        rnn.W_ss.data[...] = saved
        grads["W_sx"] = cut["W_sx"]
        return grads

    monkeypatch.setattr(bptt, "by_hand", wrong)
    assert bptt.compare("mse", "cpu", verbose=False) > 1e-6


@pytest.mark.slow
def test_quick_mode(tmp_path: Path) -> None:
    result = run_example(["examples/bptt_by_hand.py", "--quick", "--out-dir", str(tmp_path)], timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed") == 2
    assert "(C.41)" in result.stdout
