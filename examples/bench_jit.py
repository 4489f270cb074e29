"""Benchmark: one training step eager (the tape) against the same step under ``tr.jit``.

The focused jit tool: examples/benchmark.py times the jit beside NumPy, PyTorch and JAX;
this one times only eager against jit, with more repeats by default, and reports the cost
of the recording call. Both methods build the benchmark's model (examples/bench_models.py:
a recurrent layer, a Linear head, cross-entropy at every step, SGD) from the same weights
and data. Before any timing the two run side by side for a few steps and must agree bit
for bit (loss and every parameter, ``check_jit``); the run aborts otherwise. Timing as in
examples/benchmark.py (``run_abba``): blocks of warm-up then timed steps, in ABBA order
(eager, jit, jit, eager) per round, medians in milliseconds. The jit step replays the
recorded forward and backward and runs ``opt.step()`` eagerly (see tinygrad_rnn/jit.py).

Examples:
  python examples/bench_jit.py --threads 1
  python examples/bench_jit.py --configs elman_tiny --repeats 50
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench_models import CONFIGS, BaselineMismatch, build_jit, build_tape, check_jit, init_params, make_data
from benchmark import run_abba, set_threads

DEFAULT_CONFIGS = ["elman_tiny", "elman_small", "lstm_medium"]


def bench(name: str, args: argparse.Namespace) -> dict[str, float]:
    cfg = CONFIGS[name]
    P = init_params(cfg, args.seed)
    x, y = make_data(cfg, args.seed)
    eager = build_tape(cfg, P, x, y, "cpu", "float32")
    fn, jitted_model = build_jit(cfg, P, x, y, "cpu", "float32")
    start = time.perf_counter()
    fn()  # the recording call
    record_ms = (time.perf_counter() - start) * 1e3
    eager[0]()
    try:
        check_jit(eager, (fn, jitted_model))
    except BaselineMismatch as e:
        raise SystemExit(f"ABORT: {name}: {e}") from None
    samples = run_abba({"eager": eager[0], "jit": fn}, lambda: None, args)
    med = {k: statistics.median(v) for k, v in samples.items()}
    assert fn.records == 1, f"the jitted step recorded {fn.records} times; expected once"
    return {"eager_ms": med["eager"], "jit_ms": med["jit"], "ratio": med["jit"] / med["eager"], "record_ms": record_ms}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, choices=list(CONFIGS))
    parser.add_argument("--threads", type=int, default=None, help="OpenBLAS and torch threads (default: leave alone)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads is not None:
        set_threads(args.threads)
    results = {}
    print(f"{'config':<14}{'eager ms':>10}{'jit ms':>10}{'jit/eager':>11}{'record ms':>11}")
    for name in args.configs:
        r = results[name] = bench(name, args)
        print(f"{name:<14}{r['eager_ms']:>10.3f}{r['jit_ms']:>10.3f}{r['ratio']:>11.3f}{r['record_ms']:>11.1f}")
    return results


if __name__ == "__main__":
    main()
