"""Benchmark: one training step eager (the tape) against the same step under ``tr.jit``.

Both methods build the benchmark's model (examples/bench_models.py: a recurrent layer, a
Linear head, cross-entropy at every step, SGD) from the same weights and data. Before any
timing the two are run side by side for a few steps and must agree bit for bit (loss and
every parameter); the run aborts otherwise. Timing as in examples/benchmark.py: blocks of
warm-up then timed steps, in ABBA order (eager, jit, jit, eager) per round, medians in
milliseconds; the ratio jit/eager is from one run. The jit step replays the recorded
forward and backward and runs ``opt.step()`` eagerly (see tinygrad_rnn/jit.py).

Examples:
  python examples/bench_jit.py --threads 1
  python examples/bench_jit.py --configs elman_tiny --repeats 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench_models import CONFIGS, build_tape, init_params, make_data
from bench_report import openblas
from benchmark import run_abba

import tinygrad_rnn as tr

DEFAULT_CONFIGS = ["elman_tiny", "elman_small", "lstm_medium"]


def check_identical(eager: tuple, jitted: tuple, steps: int = 3) -> None:
    """The jitted step must give the eager step's loss and parameters, bit for bit."""
    for _ in range(steps):
        a, b = eager[0](), jitted[0]()
        if a.numpy().tobytes() != b.numpy().tobytes():
            raise SystemExit(f"jit and eager losses differ: {a.item()!r} vs {b.item()!r}")
    for (name, p), (_, q) in zip(eager[1].state_dict().items(), jitted[1].state_dict().items(), strict=True):
        if p.shape != q.shape or p.tobytes() != q.tobytes():
            raise SystemExit(f"jit and eager parameter {name} differ after {steps} steps")


def bench(name: str, args: argparse.Namespace) -> dict[str, float]:
    cfg = CONFIGS[name]
    P = init_params(cfg, args.seed)
    x, y = make_data(cfg, args.seed)
    eager = build_tape(cfg, P, x, y, "cpu", "float32")
    jitted_step, jitted_model = build_tape(cfg, P, x, y, "cpu", "float32")
    fn = tr.jit(jitted_step)
    start = time.perf_counter()
    fn()  # the recording call
    record_ms = (time.perf_counter() - start) * 1e3
    eager[0]()
    check_identical(eager, (fn, jitted_model))
    samples = run_abba({"eager": eager[0], "jit": fn}, lambda: None, args)
    med = {k: statistics.median(v) for k, v in samples.items()}
    assert fn.records == 1, f"the jitted step recorded {fn.records} times; expected once"
    return {"eager_ms": med["eager"], "jit_ms": med["jit"], "ratio": med["jit"] / med["eager"], "record_ms": record_ms}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, choices=list(CONFIGS))
    parser.add_argument("--threads", type=int, default=None, help="OpenBLAS threads (default: leave alone)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads is not None:
        blas = openblas()
        if blas is None:
            print("note: could not find NumPy's OpenBLAS; set OPENBLAS_NUM_THREADS instead", file=sys.stderr)
        else:
            blas[1](args.threads)
    results = {}
    print(f"{'config':<14}{'eager ms':>10}{'jit ms':>10}{'jit/eager':>11}{'record ms':>11}")
    for name in args.configs:
        r = results[name] = bench(name, args)
        print(f"{name:<14}{r['eager_ms']:>10.3f}{r['jit_ms']:>10.3f}{r['ratio']:>11.3f}{r['record_ms']:>11.1f}")
    return results


if __name__ == "__main__":
    main()
