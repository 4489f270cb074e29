"""examples/benchmark.py: its hand-written NumPy BPTT baseline is checked here against the
tape (and PyTorch), and the script runs end to end. No timing is asserted anywhere."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_rnn as tr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "examples", "benchmark.py")


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()
CELLS = ["rnn", "gru", "lstm"]


def _tiny(cell: str, T: int = 5) -> tuple:
    cfg = bench.Config(cell, I=3, H=4, O=5, B=2, T=T)
    P = bench.init_params(cfg, seed=1)
    x, y = bench.make_data(cfg, seed=1)
    return cfg, P, x, y


def _tape_grads(cfg, P, x, y) -> dict[str, np.ndarray]:
    _, model = bench.build_tape(cfg, P, x, y, "cpu", "float64")
    logits = model(tr.Tensor(x, dtype="float64"))
    loss = tr.nn.functional.cross_entropy(logits.reshape(-1, cfg.O), tr.Tensor(y.reshape(-1)))
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in model.named_parameters()}
    grads["loss"] = loss.numpy()
    return grads


@pytest.mark.parametrize("T", [1, 5])
@pytest.mark.parametrize("cell", CELLS)
def test_numpy_bptt_matches_tape(cell: str, T: int) -> None:
    cfg, P, x, y = _tiny(cell, T)
    loss, grads = bench.numpy_loss_and_grads(cell, {k: v.copy() for k, v in P.items()}, x, y)
    want = _tape_grads(cfg, P, x, y)
    assert set(grads) | {"loss"} == set(want)
    np.testing.assert_allclose(loss, want["loss"], rtol=1e-12)
    for name, grad in grads.items():
        assert grad.shape == P[name].shape, name
        np.testing.assert_allclose(grad, want[name], rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_check_baseline_reports_tape_and_catches_a_wrong_baseline(cell: str, monkeypatch) -> None:
    cfg, P, x, y = _tiny(cell)
    report = bench.check_baseline(cfg, P, x, y)
    assert max(report["tape"].values()) < 1e-10
    if cell == "rnn":
        assert max(report["elman"].values()) < 1e-10
    forward, backward = bench._CELLS[cell]

    def wrong_backward(*args):  # a 1% error in the recurrent gradient must abort the benchmark
        dA, dGh = backward(*args)
        return dA * 1.01, dGh

    monkeypatch.setitem(bench._CELLS, cell, (forward, wrong_backward))
    with pytest.raises(bench.BaselineMismatch, match="gradients disagree"):
        bench.check_baseline(cfg, P, x, y)


@pytest.mark.parametrize("cell", CELLS)
def test_numpy_bptt_matches_torch(cell: str) -> None:
    torch = pytest.importorskip("torch")
    cfg, P, x, y = _tiny(cell)
    loss, grads = bench.numpy_loss_and_grads(cell, {k: v.copy() for k, v in P.items()}, x, y)
    _, model = bench.build_torch(cfg, P, x, y, "cpu", torch.float64)
    out, _ = model.rnn(torch.from_numpy(x))
    torch_loss = torch.nn.functional.cross_entropy(model.head(out).reshape(-1, cfg.O), torch.from_numpy(y.ravel()))
    torch_loss.backward()
    np.testing.assert_allclose(loss, torch_loss.item(), rtol=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_numpy_step_is_sgd_and_bare_records_every_matmul(cell: str) -> None:
    cfg, P, x, y = _tiny(cell, T=4)
    x, P = x.astype(np.float32), {k: v.astype(np.float32) for k, v in P.items()}
    _, grads = bench.numpy_loss_and_grads(cell, {k: v.copy() for k, v in P.items()}, x, y)
    updated = {k: v.copy() for k, v in P.items()}
    bench.numpy_step(cell, updated, x, y, lr=0.5)
    for name in P:
        np.testing.assert_allclose(updated[name], P[name] - 0.5 * grads[name], rtol=1e-5, atol=1e-6)
    calls = bench.record_matmuls(cell, P, x, y, np)
    # input projection, T forward steps, logits, dW_out, dH, T-1 backward steps, dW_ih, dW_hh
    assert len(calls) == 2 * cfg.T + 5


def test_tape_memory_is_linear_in_T() -> None:
    cfg = bench.Config("rnn", I=3, H=32, O=3, B=4, T=0)
    report = bench.tape_memory([8, 16, 32, 64], cfg, seed=0)
    for label, m in report["layers"].items():
        assert m["linear"], (label, m)
        assert m["bytes_per_step_fit"] > 0


def test_parse_args_and_missing_cuda() -> None:
    args = bench.parse_args(["--configs", "elman_tiny,gru_medium", "lstm_large", "--quick"])
    assert args.configs == ["elman_tiny", "gru_medium", "lstm_large"]
    assert (args.repeats, args.warmup) == (3, 1)
    with pytest.raises(SystemExit):
        bench.parse_args(["--configs", "no_such_config"])
    if not tr.cuda_available():
        with pytest.raises(SystemExit, match="cuda"):
            bench.main(["--device", "cuda", "--configs", "elman_tiny"])


@pytest.mark.slow
def test_script_runs_end_to_end(tmp_path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--quick", "--configs", "elman_tiny", "--repeats", "1", "--warmup", "0",
         "--pause", "0", "--memory-T", "5", "10", "20", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "tape/numpy" in proc.stdout and "elman_tiny" in proc.stdout
    report = json.loads(out.read_text())
    result = report["configs"]["elman_tiny"]
    assert set(result["times_ms"]) >= {"tape", "numpy", "bare"}
    assert all(len(t["samples"]) == 2 for t in result["times_ms"].values())  # ABBA: two blocks of 1
    assert result["ratios"]["tape"]["vs_numpy"] > 0
    assert max(result["check"]["tape"].values()) < 1e-10
    assert report["machine"]["numpy"] == np.__version__
    assert report["memory"]["layers"]["nn.RNN"]["T"] == [5, 10, 20]
