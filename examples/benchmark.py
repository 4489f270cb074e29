"""Benchmark: one training step of tinygrad_rnn's recurrent layers against hand-written
NumPy BPTT, PyTorch and JAX, in one process.

One training step (float32) = forward over the whole sequence, softmax cross-entropy at
every time step averaged over T*B, full back-propagation through time, one SGD update.
The model is a recurrent layer (tanh RNN, GRU or LSTM) plus a Linear output head.
Reported times are medians in milliseconds.

Methods (each times the same model, started from the same weights):
  tape    tinygrad_rnn: nn.RNN/GRU/LSTM + nn.Linear + nn.functional.cross_entropy +
          optim.SGD; BPTT comes from the tape.
  jit     the tape step under tr.jit (recorded once, replayed; opt.step() eager). Before
          timing, jit and tape must agree bit for bit for a few steps, or the run aborts.
  elman   (tanh-RNN configs only, an extra row) nn.ElmanRNN(f_s="tanh", f_o="identity"),
          which carries its own output layer and one bias W_ss0 instead of two.
  numpy   hand-written forward + closed-form BPTT (examples/bptt_numpy.py), "hoisted":
          projections and weight gradients are whole-sequence matmuls, only the recurrence
          is per step. Its float64 gradients must match the tape's and PyTorch's
          (bench_models.py) before any timing, or the run aborts.
  bare    the matmul calls of one numpy step alone (same shapes, same operand layouts):
          a floor for any implementation that uses the same BLAS.
  torch   torch.nn.RNN/GRU/LSTM + Linear + F.cross_entropy + torch.optim.SGD.
  jax     jax.jit of jax.value_and_grad over a lax.scan of the same cell + the SGD update,
          one compiled function (bench_jax.py), when JAX is importable; its float64 loss
          and gradients are checked against the NumPy BPTT's before any timing.

Timing rules: each method runs in its own block (warm-up steps, then timed steps) with
a pause between blocks; blocks go in ABBA order (tape, jit, ..., jax, jax, ..., jit, tape),
so slow drifts of a shared machine hit every method alike, and methods are never
interleaved call by call (on 2 cores that makes both slower).
The median is over all timed steps of all blocks of a method. Absolute times drift by
25% or more between runs on shared machines; compare ratios measured in one run.

Ratios and the targets of the performance issue (checked in the last column):
  tape/numpy        <= 1.15 (<= 2.0 on elman_tiny, where it is pure per-op overhead)
  tape/torch        <= 1.0 on elman_tiny and elman_small, <= 1.4 on gru_medium and lstm_large
  tape/(1.25*bare)  <= 1.0 on lstm_medium (PyTorch's fused oneDNN LSTM beats the bare
                    OpenBLAS matmuls there, so the bar is the matmul floor instead)
  tape/jax          shown, no target (XLA compiles the whole step: a reference, not a bar)
  jit/numpy         <= 1.3 on elman_tiny, <= 1.05 on the others
  jit/torch         <= 0.8 on elman_tiny and elman_small, <= 1.0 on gru_medium, <= 1.3 on the LSTMs
  jit/jax           <= 1.5 on elman_small, <= 1.0 on lstm_medium, shown elsewhere
Targets only mean something for full runs (not --quick) on the CPU, one thread.

Memory: the peak and the held bytes of the tape of a T-step nn.RNN forward (and
nn.ElmanRNN when present) are measured with tracemalloc for several T, with a linear
fit bytes = a + b*T, its R^2 and b in units of one (B, H) float32 array. Per config (CPU):
the tracemalloc peaks of one eager and one replayed step after warm-up (jit <= eager).

Examples:
  python examples/benchmark.py                          # all five configs, ~2-3 min
  python examples/benchmark.py --quick                  # under a minute
  python examples/benchmark.py --configs lstm_medium gru_medium --repeats 20 --out bench.json
  python examples/benchmark.py --device cuda            # tape on CuPy, torch on CUDA, numpy on CuPy
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import bptt_numpy
import numpy as np
from bench_jax import build_jax, check_jax, missing, one_thread
from bench_models import (
    CONFIGS,
    HAVE_ELMAN,
    LR,
    TAPE_ERROR,
    BaselineMismatch,
    Config,
    build_jit,
    build_tape,
    build_torch,
    check_baseline,
    check_jit,
    init_params,
    make_data,
    record_matmuls,
    torch,
)
from bench_report import (
    check_cuda,
    device_sync,
    jit_ratios,
    loadavg,
    machine_info,
    openblas,
    print_jit_table,
    print_machine,
    print_memory,
    print_table,
    ratios,
    step_peaks,
    tape_memory,
)


# ============================================================ timing
def time_block(step: Callable[[], Any], sync: Callable[[], None], warmup: int, repeats: int) -> list[float]:
    """Warm up, then time ``repeats`` steps one by one; milliseconds."""
    for _ in range(warmup):
        step()
    sync()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        sync()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


def run_abba(methods: dict[str, Callable], sync: Callable, args: argparse.Namespace) -> dict[str, list[float]]:
    """Blocks in ABBA order (rounds times); returns every timed sample of each method."""
    order = list(methods) + list(methods)[::-1]
    samples: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name in order:
            gc.collect()
            time.sleep(args.pause)
            samples[name] += time_block(methods[name], sync, args.warmup, args.repeats)
    return samples


def bench_config(name: str, cfg: Config, args: argparse.Namespace) -> dict[str, Any]:
    """Check the baseline, then time every available method on one configuration."""
    P, x, y = init_params(cfg, args.seed), *make_data(cfg, args.seed)
    result: dict[str, Any] = {"config": asdict(cfg), "check": check_baseline(cfg, P, x, y)}
    f32 = {k: v.astype(np.float32) for k, v in P.items()}
    x32 = x.astype(np.float32)
    methods: dict[str, Callable] = {}
    first_loss: dict[str, float] = {}
    if TAPE_ERROR is None:
        methods["tape"], tape_model = build_tape(cfg, f32, x32, y, args.device, "float32")
        if not args.no_jit:
            methods["jit"], jit_model = build_jit(cfg, f32, x32, y, args.device, "float32")
        if cfg.cell == "rnn" and HAVE_ELMAN and not args.no_elman:
            methods["elman"], _ = build_tape(cfg, f32, x32, y, args.device, "float32", elman=True)
    if args.device == "cuda":
        import cupy as xp
    else:
        xp = np
    Pn = {k: xp.asarray(v) for k, v in f32.items()}
    xn, yn = xp.asarray(x32), xp.asarray(y)
    methods["numpy"] = lambda: bptt_numpy.sgd_step(cfg.cell, Pn, xn, yn, LR, xp, xp.matmul)
    calls = record_matmuls(cfg.cell, Pn, xn, yn, xp)
    matmul = xp.matmul
    methods["bare"] = lambda: [matmul(a, b, out=out) for a, b, out in calls]
    if torch is not None and not args.no_torch:
        torch_device = "cuda" if args.device == "cuda" else "cpu"
        if torch_device == "cpu" or torch.cuda.is_available():
            methods["torch"], _ = build_torch(cfg, f32, x32, y, torch_device, torch.float32)
        else:
            print("note: this PyTorch has no CUDA; the torch column is left out", file=sys.stderr)
    if not args.no_jax:
        result["check"]["jax"] = check_jax(cfg, P, x, y)
        methods["jax"], _ = build_jax(cfg, f32, x32, y, args.device)
    for method, step in methods.items():  # the first step also shows all start from one model
        if method != "bare":
            loss = step()
            first_loss[method] = float(loss.item() if hasattr(loss, "item") else loss)
    result["first_loss_f32"] = first_loss
    for method, loss in first_loss.items():  # float32: all methods must be one model, up to rounding
        if not abs(loss - first_loss["numpy"]) <= 1e-4 * abs(first_loss["numpy"]):
            raise BaselineMismatch(f"first float32 loss of {method} is {loss}, numpy's {first_loss['numpy']}; "
                                   "expected equal up to rounding (same weights, same data)")
    if "jit" in methods:  # both took one step above; now a few more, bit for bit
        check_jit((methods["tape"], tape_model), (methods["jit"], jit_model))
    samples = run_abba(methods, device_sync(args.device), args)
    if "jit" in methods and not args.no_memory and args.device == "cpu":
        result["step_memory"] = step_peaks({"tape": methods["tape"], "jit": methods["jit"]})
    med = {m: statistics.median(s) for m, s in samples.items()}
    result["times_ms"] = {m: {"median": med[m], "min": min(s), "max": max(s), "samples": s}
                          for m, s in samples.items()}
    result["ratios"] = ratios(name, med)
    if "jit" in med:
        result["jit_ratios"] = jit_ratios(name, med)
    return result


# ============================================================ main
def set_threads(n: int) -> None:
    """Give NumPy's OpenBLAS and torch ``n`` threads (a note when OpenBLAS is not found)."""
    blas = openblas()
    if blas is None:
        print("note: could not find NumPy's OpenBLAS to set its threads; set OPENBLAS_NUM_THREADS instead",
              file=sys.stderr)
    else:
        blas[1](n)
    if torch is not None:
        torch.set_num_threads(n)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), metavar="NAME",
                        help=f"configurations to run (space or comma separated; default all): {', '.join(CONFIGS)}")
    parser.add_argument("--quick", action="store_true",
                        help="under a minute: T divided by 8, 3 timed steps per block, 1 warm-up, 0.1 s pauses, "
                             "memory at T = 10 20 40 80")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per block (default 10; --quick 3)")
    parser.add_argument("--rounds", type=int, default=1, help="how many times the ABBA sequence of blocks runs")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps before each block (default 2; --quick 1)")
    parser.add_argument("--pause", type=float, default=None, help="seconds of sleep between blocks (default 0.5)")
    parser.add_argument("--seq-len", type=int, default=None, help="override T of every config")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cuda: tape on CuPy, torch on CUDA, the NumPy baseline on CuPy (checks stay on the CPU)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of OpenBLAS (NumPy) and torch, and of XLA (JAX) when 1 (default 1: PyTorch's "
                             "OpenMP workers fight other jobs at 2 threads); 0 leaves all of them alone")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--no-jax", action="store_true", help="skip JAX")
    parser.add_argument("--no-jit", action="store_true", help="skip the tr.jit column")
    parser.add_argument("--no-elman", action="store_true", help="skip the extra nn.ElmanRNN rows")
    parser.add_argument("--no-mkldnn", action="store_true",
                        help="turn off PyTorch's oneDNN (mkldnn) kernels, e.g. its fused CPU LSTM")
    parser.add_argument("--memory-T", type=int, nargs="+", default=None,
                        help="sequence lengths for the tape memory measurement (default 25 50 100 200)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tape and step memory measurements")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and data (default 0)")
    parser.add_argument("--out", metavar="FILE", help="write all timings, ratios, checks and machine info as JSON")
    args = parser.parse_args(argv)
    args.configs = [c for item in args.configs for c in item.split(",") if c]
    unknown = [c for c in args.configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown config(s) {unknown}; expected names from {list(CONFIGS)}")
    if args.repeats is None:
        args.repeats = 3 if args.quick else 10
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.pause is None:
        args.pause = 0.1 if args.quick else 0.5
    if args.memory_T is None:
        args.memory_T = [10, 20, 40, 80] if args.quick else [25, 50, 100, 200]
    if args.repeats < 1 or args.rounds < 1 or args.warmup < 0 or args.threads < 0:
        parser.error("--repeats and --rounds must be >= 1, --warmup and --threads >= 0")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.device == "cuda":
        check_cuda()
    if args.threads == 1:
        one_thread()  # before the first JAX computation, which starts XLA's CPU backend
    if args.threads > 0:
        set_threads(args.threads)
    if torch is not None and args.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    info = machine_info(args)
    print_machine(info)
    if not args.no_jax and missing(args.device):
        print(f"note: the jax column is left out: {missing(args.device)}", file=sys.stderr)
        args.no_jax = True
    if TAPE_ERROR is not None:
        print(f"WARNING: the tape layers are not importable ({TAPE_ERROR}); timing numpy and torch only, "
              "and checking the NumPy BPTT against PyTorch.", file=sys.stderr)
    results: dict[str, dict] = {}
    for name in args.configs:
        cfg = CONFIGS[name]
        T = args.seq_len or (max(4, cfg.T // 8) if args.quick else cfg.T)
        cfg = Config(cfg.cell, cfg.I, cfg.H, cfg.O, cfg.B, T)
        start = time.perf_counter()
        try:
            results[name] = bench_config(name, cfg, args)
            results[name]["loadavg_after"] = loadavg()
        except BaselineMismatch as e:
            print(f"\nABORT: {name}: {e}", file=sys.stderr)
            raise SystemExit(3) from None
        check = results[name]["check"]
        refs = [k for k in ("tape", "elman", "torch", "jax") if k in check]
        worst = max(v for ref in refs for v in check[ref].values())
        print(f"  {name}: T={T}, NumPy BPTT checked against {', '.join(refs)} in float64 "
              f"(max rel err {worst:.1e}); timed in {time.perf_counter() - start:.1f} s; "
              f"load average {results[name]['loadavg_after']}", flush=True)
    note = " (--quick: shorter sequences and few repeats; ratios are indicative only)" if args.quick else ""
    print(f"\nOne training step, float32, median ms over {2 * args.rounds * args.repeats} steps per method{note}")
    print_table(results)
    print_jit_table(results)
    report: dict[str, Any] = {"machine": info, "args": vars(args), "configs": results}
    if not args.no_memory and TAPE_ERROR is None:
        report["memory"] = tape_memory(args.memory_T, CONFIGS["elman_small"], args.seed)
        print_memory(report["memory"])
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
        print(f"\nwrote {args.out}")
    return report


if __name__ == "__main__":
    main()
