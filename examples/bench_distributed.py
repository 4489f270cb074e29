"""Benchmark: data-parallel training steps on 1 and 2 processes, and what communication costs.

The model is char_lm's (an Embedding, an LSTM, a Linear head over V = 88 symbols,
cross-entropy at every step, Adam), trained through ``tr.jit`` as ``--stream`` does,
wrapped in ``nn.parallel.DistributedDataParallel``. This program starts itself under
``mpiexec -n 1`` and ``mpiexec -n 2`` (one BLAS thread per process) and reports:

* step time (median, ms) and scaling efficiency, two ways. *Strong*: the global batch
  stays B and each of p processes takes B/p; efficiency = t_1 / (p t_p). *Weak*: each
  process takes B; efficiency = t_1 / t_p (the p-fold batch in the time of one).
* communication per step: the gradients' bytes, the time a blocking all-reduce of that
  many bytes takes (``allreduce_ms``: the cost if nothing overlapped), and how long the
  step still waited for its all-reduces after its backward walk (``waited_ms``: the
  communication not hidden, plus waiting for a slower process).
* the all-reduce's latency and bandwidth on this machine, fitted from all-reduces of
  8 bytes and of 4 MB, and the ring cost model
      t(p) = 2 (p - 1) / p * bytes / bandwidth + 2 (p - 1) * latency
  evaluated for a cluster (10 and 100 Gbit/s networks): an estimate of how far the
  same code scales there, not a measurement.

On a 2-core machine, two processes also share the cores with everything else running,
so the compute of a step cannot get faster than it is on one core; see README's
"More than one process".

Examples:
  python examples/bench_distributed.py                 # ~1 minute
  python examples/bench_distributed.py --quick         # a few seconds, for the tests
  python examples/bench_distributed.py --out dist.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETWORKS = {"10 Gbit/s Ethernet, 20 us": (10e9 / 8, 20e-6), "100 Gbit/s InfiniBand, 2 us": (100e9 / 8, 2e-6)}


# ------------------------------------------------------------------------ one process of a run
def worker(args: argparse.Namespace) -> dict:
    import tinygrad_rnn as tr
    from tinygrad_rnn import Tensor, nn, optim

    tr.distributed.init_process_group("mpi")
    rank, world = tr.distributed.get_rank(), tr.distributed.get_world_size()
    V, T = 88, args.bptt
    tr.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(V, 32)
            self.core = nn.LSTM(32, args.hidden)
            self.head = nn.Linear(args.hidden, V)

        def forward(self, x: Tensor) -> Tensor:
            return self.head(self.core(self.embedding(x))[0])

    model = nn.parallel.DistributedDataParallel(Net(), bucket_cap_mb=args.bucket_mb)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    local = args.batch // world if args.scaling == "strong" else args.batch
    x, y = (Tensor.rand(T, local) * V).long(), (Tensor.rand(T, local) * V).long()

    @tr.jit
    def gradients(x: Tensor, y: Tensor) -> Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss

    times, waited_ms = [], []
    for k in range(args.warmup + args.steps):
        tr.distributed.barrier()  # every step starts together: a step's time is the slowest process's
        waited = model.reducer.stats["waited"]
        t0 = time.perf_counter()
        gradients(x, y)
        opt.step()
        if k >= args.warmup:
            times.append(time.perf_counter() - t0)
            waited_ms.append(model.reducer.stats["waited"] - waited)
    nbytes = sum(p.numel() * p.dtype.itemsize for p in model.parameters())
    result = {"processes": world, "scaling": args.scaling, "local_batch": local, "step_ms": 1e3 * statistics.median(times),
              "waited_ms": 1e3 * statistics.median(waited_ms), "bytes": nbytes,
              "allreduce_ms": 1e3 * allreduce_time(nbytes // 4, args.repeats),
              "buckets": len(model.reducer.buckets), "params": sum(p.numel() for p in model.parameters())}
    if world > 1:  # latency and bandwidth of this machine's all-reduce
        small, large = allreduce_time(2, args.repeats), allreduce_time(2**20, max(3, args.repeats // 4))
        result["latency_s"] = small / (2 * (world - 1))
        result["bandwidth"] = 2 * (world - 1) / world * 4 * 2**20 / max(large - small, 1e-9)
    tr.distributed.destroy_process_group()
    return result if rank == 0 else {}


def allreduce_time(n: int, repeats: int) -> float:
    """Median seconds of a blocking all-reduce of n float32 values (after a barrier)."""
    import tinygrad_rnn as tr

    t = tr.Tensor.zeros(n)
    samples = []
    for _ in range(repeats):
        tr.distributed.barrier()
        t0 = time.perf_counter()
        tr.distributed.all_reduce(t)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


# ------------------------------------------------------------------------ the driver
def launch(processes: int, scaling: str, args: argparse.Namespace) -> dict:
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    mpiexec = mpiexec if os.path.exists(mpiexec) else shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit("mpiexec not found: pip install -e '.[distributed]' (mpi4py and mpich)")
    env = {**os.environ, "PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [mpiexec, "-n", str(processes), sys.executable, os.path.abspath(__file__), "--worker",
               "--scaling", scaling, *[f"--{k.replace('_', '-')}={getattr(args, k)}"
                                       for k in ("batch", "bptt", "hidden", "steps", "warmup", "repeats", "bucket_mb")]]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(runs: dict, args: argparse.Namespace) -> dict:
    one = runs[("strong", 1)]
    print(f"model: Embedding(88, 32) -> LSTM(32, {args.hidden}) -> Linear({args.hidden}, 88), T = {args.bptt}, "
          f"{one['params']} parameters = {one['bytes'] / 1e6:.2f} MB of float32 gradients, "
          f"{one['buckets']} buckets of <= {args.bucket_mb} MB; medians of {args.steps} tr.jit steps")
    print("| scaling | processes | batch per process | step ms | efficiency | all-reduce ms (blocking) | waited after backward ms |")
    print("|---|---|---|---|---|---|---|")
    summary = {}
    for scaling in ("strong", "weak"):
        for p in (1, 2):
            r = runs[(scaling, p)]
            eff = one["step_ms"] / (p * r["step_ms"]) if scaling == "strong" else one["step_ms"] / r["step_ms"]
            summary[f"{scaling}_{p}"] = {**r, "efficiency": eff}
            print(f"| {scaling} | {p} | {r['local_batch']} | {r['step_ms']:.1f} | {eff:.2f} | "
                  f"{r['allreduce_ms']:.2f} | {r['waited_ms']:.2f} |")
    two = runs[("strong", 2)]
    latency, bandwidth = two["latency_s"], two["bandwidth"]
    print(f"\nthis machine's all-reduce (2 processes, shared memory): latency ~{latency * 1e6:.0f} us, "
          f"bandwidth ~{bandwidth / 1e9:.2f} GB/s (fit of 8-byte and 4 MB all-reduces)")
    compute = one["step_ms"] / 1e3  # one process's step on the full batch: the work to divide
    print(f"ring model, estimated weak scaling of this step ({compute * 1e3:.0f} ms of compute per process, "
          "nothing overlapped):")
    for name, (bw, lat) in NETWORKS.items():
        cells = []
        for p in (2, 8, 32, 128):
            t = 2 * (p - 1) / p * one["bytes"] / bw + 2 * (p - 1) * lat
            cells.append(f"p={p}: {t * 1e3:.2f} ms, efficiency {compute / (compute + t):.3f}")
        print(f"  {name}: " + "; ".join(cells))
    summary["machine"] = {"latency_s": latency, "bandwidth_bytes_per_s": bandwidth}
    return summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32, help="global batch (strong) or per-process batch (weak)")
    parser.add_argument("--bptt", type=int, default=64, help="sequence length T (default 64)")
    parser.add_argument("--hidden", type=int, default=256, help="LSTM state size (default 256)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per run (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--repeats", type=int, default=20, help="all-reduces per timing (default 20)")
    parser.add_argument("--bucket-mb", type=float, default=0.25, help="DDP bucket size (default 0.25 MB)")
    parser.add_argument("--quick", action="store_true", help="a small model and few steps (the tests' run)")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scaling", default="strong", choices=["strong", "weak"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.bptt, args.hidden, args.steps, args.warmup, args.repeats = 8, 16, 32, 4, 2, 4
    if args.worker:
        result = worker(args)
        if result:
            print(json.dumps(result))
        return result
    runs = {(s, p): launch(p, s, args) for s in ("strong", "weak") for p in (1, 2) if not (s == "weak" and p == 1)}
    runs[("weak", 1)] = runs[("strong", 1)]  # the same run: one process on the batch
    summary = report(runs, args)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=1)
    return summary


if __name__ == "__main__":
    main()
