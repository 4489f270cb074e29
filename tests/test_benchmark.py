"""examples/benchmark.py (with bench_models.py, bench_report.py and bench_jax.py): the
correctness gate catches a wrong baseline, the "bare" matmuls are those of one NumPy step,
the JAX peer is the same model as the NumPy BPTT, the jit column is refused unless it is
bit for bit the eager step, the step memory is measured, and the script runs end to end. No timing is asserted anywhere. The NumPy BPTT itself is tested in
tests/examples/test_bptt_numpy.py."""

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
EXAMPLES = os.path.join(ROOT, "examples")
SCRIPT = os.path.join(EXAMPLES, "benchmark.py")


def _load_benchmark():
    if EXAMPLES not in sys.path:  # the script imports its sibling modules, as when run from examples/
        sys.path.insert(0, EXAMPLES)
    spec = importlib.util.spec_from_file_location("benchmark_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()
models, bptt, bench_jax = sys.modules["bench_models"], sys.modules["bptt_numpy"], sys.modules["bench_jax"]
CELLS = ["rnn", "gru", "lstm"]
needs_jax = pytest.mark.skipif(bench_jax.JAX_ERROR is not None, reason=f"JAX is missing: {bench_jax.JAX_ERROR}")


def _tiny(cell: str, T: int = 5) -> tuple:
    cfg = models.Config(cell, I=3, H=4, O=5, B=2, T=T)
    P = models.init_params(cfg, seed=1)
    x, y = models.make_data(cfg, seed=1)
    return cfg, P, x, y


@pytest.mark.parametrize("cell", CELLS)
def test_check_baseline_reports_tape_and_catches_a_wrong_baseline(cell: str, monkeypatch) -> None:
    cfg, P, x, y = _tiny(cell)
    report = models.check_baseline(cfg, P, x, y)
    assert max(report["tape"].values()) < 1e-10
    if cell == "rnn":
        assert max(report["elman"].values()) < 1e-10
    forward, backward = bptt.CELLS[cell]

    def wrong_backward(*args):  # a 1% error in the recurrent gradient must abort the benchmark
        dA, dGh = backward(*args)
        return dA * 1.01, dGh

    monkeypatch.setitem(bptt.CELLS, cell, (forward, wrong_backward))
    with pytest.raises(models.BaselineMismatch, match="gradients disagree"):
        models.check_baseline(cfg, P, x, y)


@pytest.mark.parametrize("cell", CELLS)
def test_bare_records_every_matmul_of_one_numpy_step(cell: str) -> None:
    cfg, P, x, y = _tiny(cell, T=4)
    x, P = x.astype(np.float32), {k: v.astype(np.float32) for k, v in P.items()}
    calls = bench.record_matmuls(cell, P, x, y, np)
    # input projection, T forward steps, logits, dW_out, dH, T-1 backward steps, dW_ih, dW_hh
    assert len(calls) == 2 * cfg.T + 5


@needs_jax
@pytest.mark.parametrize("cell", CELLS)
def test_jax_first_step_loss_is_the_numpy_baselines(cell: str) -> None:
    cfg, P, x, y = _tiny(cell)
    P32, x32 = {k: v.astype(np.float32) for k, v in P.items()}, x.astype(np.float32)
    step, _ = bench_jax.build_jax(cfg, P32, x32, y)
    loss = step()
    want = bptt.loss_and_grads(cell, P32, x32, y)[0]
    assert loss.dtype == np.float32
    assert abs(float(loss) - float(want)) <= 1e-6 * abs(float(want))
    assert max(bench_jax.check_jax(cfg, P, x, y).values()) < 1e-12  # float64 loss and every gradient


@needs_jax
@pytest.mark.parametrize("cell", CELLS)
def test_two_jax_sgd_steps_are_two_numpy_sgd_steps_in_float64(cell: str) -> None:
    cfg, P, x, y = _tiny(cell, T=4)
    want = {k: v.copy() for k, v in P.items()}
    with bench_jax.enable_x64():  # JAX's float64 flag is global: on only inside this block
        step, state = bench_jax.build_jax(cfg, P, x, y, dtype="float64")
        losses = [float(step()) for _ in range(2)]
        got = {k: np.asarray(v) for k, v in state["params"].items()}
    want_losses = [float(bptt.sgd_step(cell, want, x, y, models.LR)) for _ in range(2)]
    np.testing.assert_allclose(losses, want_losses, rtol=1e-10, atol=0)
    for name, value in want.items():
        assert got[name].dtype == np.float64
        np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    assert not np.array_equal(got["rnn.weight_hh_l0"], P["rnn.weight_hh_l0"])  # the steps did move the weights


@needs_jax
def test_check_jax_catches_a_model_that_is_not_the_same(monkeypatch) -> None:
    cfg, P, x, y = _tiny("gru")
    forward, backward = bptt.CELLS["gru"]

    def wrong_backward(*args):
        dA, dGh = backward(*args)
        return dA * 1.01, dGh

    monkeypatch.setitem(bptt.CELLS, "gru", (forward, wrong_backward))
    with pytest.raises(models.BaselineMismatch, match="NumPy BPTT vs JAX"):
        bench_jax.check_jax(cfg, P, x, y)


@pytest.mark.slow
def test_script_without_jax_says_why_and_leaves_the_column_out() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, EXAMPLES, os.environ.get("PYTHONPATH", "")]))
    argv = ["benchmark.py", "--quick", "--configs", "elman_tiny", "--repeats", "1", "--warmup", "0", "--pause", "0",
            "--no-memory", "--no-torch", "--no-elman"]
    code = (f"import sys, runpy; sys.modules['jax'] = None; sys.argv = {argv!r}; "
            f"runpy.run_path({SCRIPT!r}, run_name='__main__')")  # as if JAX were not installed
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the jax column is left out" in proc.stderr and "pip install jax" in proc.stderr
    assert "jax ms" in proc.stdout and "tape/numpy" in proc.stdout


def test_tape_memory_is_linear_in_T() -> None:
    cfg = models.Config("rnn", I=3, H=32, O=3, B=4, T=0)
    report = sys.modules["bench_report"].tape_memory([8, 16, 32, 64], cfg, seed=0)
    for label, m in report["layers"].items():
        assert m["linear"], (label, m)
        assert m["bytes_per_step_fit"] > 0


def _jit_pair(cfg, P, x, y, nudge: bool = False) -> tuple:
    """(eager step, model) and (jitted step, model), one step taken each; ``nudge``: one weight off by 1 ulp."""
    P32, x32 = {k: v.astype(np.float32) for k, v in P.items()}, x.astype(np.float32)
    eager = models.build_tape(cfg, P32, x32, y, "cpu", "float32")
    if nudge:
        P32 = dict(P32, **{"head.bias": np.nextafter(P32["head.bias"], np.float32(np.inf))})
    jitted = models.build_jit(cfg, P32, x32, y, "cpu", "float32")
    eager[0](), jitted[0]()
    return eager, jitted


@pytest.mark.parametrize("cell", CELLS)
def test_check_jit_passes_the_jit_and_aborts_on_a_one_bit_mismatch(cell: str) -> None:
    cfg, P, x, y = _tiny(cell)
    eager, jitted = _jit_pair(cfg, P, x, y)
    models.check_jit(eager, jitted)
    assert (jitted[0].records, jitted[0].replays) == (1, 3)
    eager, jitted = _jit_pair(cfg, P, x, y, nudge=True)
    with pytest.raises(models.BaselineMismatch, match="bit-for-bit"):
        models.check_jit(eager, jitted)


def test_check_jit_aborts_when_the_jit_records_again() -> None:
    cfg, P, x, y = _tiny("rnn")
    eager, (fn, model) = _jit_pair(cfg, P, x, y)
    fn.reset()  # the next call records again instead of replaying
    with pytest.raises(models.BaselineMismatch, match="recorded 2 times"):
        models.check_jit(eager, (fn, model))


def test_step_peaks_measures_eager_and_replayed_steps() -> None:
    cfg, P, x, y = _tiny("lstm", T=8)
    eager, jitted = _jit_pair(cfg, P, x, y)
    mem = sys.modules["bench_report"].step_peaks({"tape": eager[0], "jit": jitted[0]})
    assert mem["tape_peak_bytes"] > 0 and mem["jit_peak_bytes"] > 0
    assert mem["jit_le_eager"] == (mem["jit_peak_bytes"] <= mem["tape_peak_bytes"])


@pytest.mark.parametrize("no_jit", [False, True])
def test_bench_config_times_the_jit_column_unless_no_jit(no_jit: bool) -> None:
    cfg, *_ = _tiny("gru", T=6)
    argv = ["--quick", "--repeats", "1", "--warmup", "0", "--pause", "0", "--no-jax", "--no-torch"]
    result = bench.bench_config("tiny", cfg, bench.parse_args(argv + ["--no-jit"] * no_jit))
    assert ("jit" in result["times_ms"]) == (not no_jit)
    if not no_jit:
        assert len(result["times_ms"]["jit"]["samples"]) == 2
        assert result["jit_ratios"]["vs_numpy"] > 0 and result["jit_ratios"]["targets_met"] in (True, False)
        assert result["step_memory"]["jit_peak_bytes"] > 0


def test_parse_args_and_missing_cuda() -> None:
    args = bench.parse_args(["--configs", "elman_tiny,gru_medium", "lstm_large", "--quick"])
    assert args.configs == ["elman_tiny", "gru_medium", "lstm_large"]
    assert (args.repeats, args.warmup, args.threads) == (3, 1, 1)
    assert bench.parse_args(["--threads", "0"]).threads == 0
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
    assert set(result["times_ms"]) >= {"tape", "jit", "numpy", "bare"} | ({"jax"} if bench_jax.JAX_ERROR is None else set())
    assert all(len(t["samples"]) == 2 for t in result["times_ms"].values())  # ABBA: two blocks of 1
    assert result["ratios"]["tape"]["vs_numpy"] > 0
    assert "jit/numpy" in proc.stdout and result["jit_ratios"]["vs_numpy"] > 0  # the jit column
    assert result["step_memory"]["jit_peak_bytes"] > 0 and isinstance(result["step_memory"]["jit_le_eager"], bool)
    assert max(result["check"]["tape"].values()) < 1e-10
    assert report["machine"]["numpy"] == np.__version__
    assert report["memory"]["layers"]["nn.RNN"]["T"] == [5, 10, 20]
