"""The benchmark's verdicts and report: target ratios, tape and step memory, machine, tables.

Imported by examples/benchmark.py (not a program of its own).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from bench_jax import jax
from bench_models import HAVE_ELMAN, TAPE_ERROR, Config, nn, torch

import tinygrad_rnn as tr

# (tape/numpy max, tape/torch max, tape/(1.25*bare) max) from the performance issue.
TARGETS = {
    "elman_tiny": (2.0, 1.0, None),
    "elman_small": (1.15, 1.0, None),
    "gru_medium": (1.15, 1.4, None),
    "lstm_medium": (1.15, None, 1.0),
    "lstm_large": (1.15, 1.4, None),
}
# (jit/numpy max, jit/torch max, jit/jax max) for the jitted tape step; None: reported, no target.
JIT_TARGETS = {
    "elman_tiny": (1.3, 0.8, None),
    "elman_small": (1.05, 0.8, 1.5),
    "gru_medium": (1.05, 1.0, None),
    "lstm_medium": (1.05, 1.3, 1.0),
    "lstm_large": (1.05, 1.3, None),
}


def _verdict(r: dict[str, Any], limits: dict[str, float | None]) -> dict[str, Any]:
    """Add ``targets_met`` and ``misses`` (each ratio above its limit) to the ratios ``r``."""
    r["misses"] = [f"{key} {r[key]:.2f} > {limit}" for key, limit in limits.items()
                   if limit is not None and key in r and r[key] > limit]
    r["targets_met"] = not r["misses"]
    return r


def ratios(name: str, med: dict[str, float]) -> dict[str, Any]:
    """tape/numpy, tape/torch, tape/(1.25*bare), tape/jax for the tape and the elman rows, with target verdicts."""
    out: dict[str, Any] = {}
    max_np, max_torch, max_bare = TARGETS.get(name, (None, None, None))
    for row in ("tape", "elman"):
        if row not in med:
            continue
        r: dict[str, Any] = {"vs_numpy": med[row] / med["numpy"], "vs_1.25_bare": med[row] / (1.25 * med["bare"])}
        if "torch" in med:
            r["vs_torch"] = med[row] / med["torch"]
        if "jax" in med:
            r["vs_jax"] = med[row] / med["jax"]  # shown, no target
        out[row] = _verdict(r, {"vs_numpy": max_np, "vs_torch": max_torch, "vs_1.25_bare": max_bare})
    return out


def jit_ratios(name: str, med: dict[str, float]) -> dict[str, Any]:
    """jit/tape, jit/numpy, jit/torch, jit/jax of the jitted step, with the verdicts of JIT_TARGETS."""
    r = {f"vs_{m}": med["jit"] / med[m] for m in ("tape", "numpy", "torch", "jax") if m in med}
    max_np, max_torch, max_jax = JIT_TARGETS.get(name, (None, None, None))
    return _verdict(r, {"vs_numpy": max_np, "vs_torch": max_torch, "vs_jax": max_jax})


# ============================================================ memory of one step
def step_peaks(steps: dict[str, Callable[[], Any]], tries: int = 2) -> dict[str, Any]:
    """Peak bytes allocated during one call of each step (tracemalloc; NumPy's arrays are traced).

    Call after warm-up. The least of ``tries`` calls counts. ``jit_le_eager`` says whether
    the replayed step ("jit") peaks no higher than the eager one ("tape").
    """
    out: dict[str, Any] = {}
    for name, step in steps.items():
        peaks = []
        for _ in range(tries):
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            step()
            peaks.append(tracemalloc.get_traced_memory()[1] - base)
            tracemalloc.stop()
        out[f"{name}_peak_bytes"] = min(peaks)
    if "tape_peak_bytes" in out and "jit_peak_bytes" in out:
        out["jit_le_eager"] = out["jit_peak_bytes"] <= out["tape_peak_bytes"]
    return out


# ============================================================ memory of the tape
def tape_memory(Ts: list[int], cfg: Config, seed: int) -> dict[str, Any]:
    """Bytes the tape of a T-step forward holds (tracemalloc), for each T, and a linear fit."""
    layers = {"nn.RNN": lambda: nn.RNN(cfg.I, cfg.H, nonlinearity="tanh")}
    if HAVE_ELMAN:
        layers["nn.ElmanRNN"] = lambda: nn.ElmanRNN(cfg.I, cfg.H, cfg.O, f_s="tanh")
    rng = np.random.default_rng(seed)
    unit = cfg.B * cfg.H * 4  # one (B, H) float32 array
    report: dict[str, Any] = {"B": cfg.B, "I": cfg.I, "H": cfg.H, "unit_bytes": unit, "layers": {}}
    for label, make in layers.items():
        layer = make()
        held, peak = [], []
        for T in Ts:
            x = tr.Tensor(rng.standard_normal((T, cfg.B, cfg.I)).astype(np.float32))
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            outputs = layer(x)  # the outputs keep the whole tape alive
            current, top = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            held.append(current - base)
            peak.append(top - base)
            del outputs
        slope, intercept = np.polyfit(Ts, held, 1)
        fitted = slope * np.asarray(Ts) + intercept
        ss_res = float(np.sum((np.asarray(held) - fitted) ** 2))
        ss_tot = float(np.sum((np.asarray(held) - np.mean(held)) ** 2))
        r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
        per_step = [h / T for h, T in zip(held, Ts, strict=True)]
        # linear: a straight line explains the bytes, and every increment of T costs about the same per step
        increments = [(h2 - h1) / (T2 - T1) for h1, h2, T1, T2 in zip(held, held[1:], Ts, Ts[1:], strict=False)]
        report["layers"][label] = {
            "T": Ts, "held_bytes": held, "peak_bytes": peak, "bytes_per_step_fit": float(slope),
            "intercept_bytes": float(intercept), "r2": r2, "bytes_per_step": per_step,
            "unit_arrays_per_step": float(slope) / unit,
            "bytes_per_step_increments": increments,
            "linear": bool(r2 > 0.999 and min(increments) > 0 and max(increments) / min(increments) < 1.25),
        }
    return report


# ============================================================ machine, devices, printing
def device_sync(device: str) -> Callable[[], None]:
    """What waits for the device: CuPy's and torch's queues on cuda (JAX's step waits itself)."""
    if device != "cuda":
        return lambda: None
    import cupy

    def sync() -> None:
        cupy.cuda.runtime.deviceSynchronize()
        if torch is not None and torch.cuda.is_available():
            torch.cuda.synchronize()

    return sync


def check_cuda() -> None:
    """Exit with the reason when --device cuda cannot run here."""
    try:
        import cupy  # noqa: F401
    except ImportError as e:
        raise SystemExit(f"--device cuda: CuPy is not installed ({e}); run on a GPU machine with "
                         "'pip install cupy-cuda12x', or use --device cpu") from None
    if TAPE_ERROR is None and not tr.cuda_available():
        try:
            tr.Tensor.zeros(1, device="cuda")
        except RuntimeError as e:
            raise SystemExit(f"--device cuda is not available here: {e}") from None


def openblas() -> Any:
    """The OpenBLAS that NumPy loaded, via ctypes: (get_threads, set_threads) or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", ""), ("openblas", "64_")):
            get, put = getattr(lib, f"{prefix}_get_num_threads{suffix}", None), \
                getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                put.argtypes = [ctypes.c_int]
                return get, put
    return None


def loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every timing."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine_info(args: argparse.Namespace) -> dict[str, Any]:
    blas = openblas()
    info: dict[str, Any] = {
        "platform": platform.platform(), "processor": platform.processor(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(), "numpy": np.__version__, "numpy_blas_threads": blas[0]() if blas else None,
        "tinygrad_rnn": tr.__version__, "device": args.device, "tape_available": TAPE_ERROR is None,
        "tape_error": TAPE_ERROR, "time": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg_start": loadavg(),
    }
    try:
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                            cwd=os.path.dirname(os.path.abspath(__file__)), timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = None
    try:
        blas_cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas_cfg.get('name')} {blas_cfg.get('version')}"
    except Exception:  # noqa: BLE001 - only informative
        info["numpy_blas"] = None
    if torch is not None:
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(),
                    torch_interop_threads=torch.get_num_interop_threads(),
                    torch_mkldnn=bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled))
    if jax is not None:
        info.update(jax=jax.__version__, xla_flags=os.environ.get("XLA_FLAGS"))
    return info


def print_machine(info: dict[str, Any]) -> None:
    """One line of versions and threads; a warning on stderr when the machine is busy."""
    print(f"numpy {info['numpy']} ({info['numpy_blas']}, {info['numpy_blas_threads']} threads) | "
          + (f"torch {info['torch']} ({info['torch_threads']} threads, oneDNN {'on' if info['torch_mkldnn'] else 'off'})"
             if "torch" in info else "torch not installed") + (f" | jax {info['jax']}" if "jax" in info else "")
          + f" | {info['cpus_usable']} CPUs | device {info['device']}")
    load = info["loadavg_start"]
    if load is not None and load[0] > 0.5 * info["cpus_usable"]:
        print(f"WARNING: the machine is busy (load average {load[0]} on {info['cpus_usable']} CPUs): other processes "
              "share the cores, so absolute times and even ratios will be noisy (--threads 1 suffers least).",
              file=sys.stderr)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(results: dict[str, dict]) -> None:
    head = ("config", "model", "T", "tape ms", "numpy ms", "bare ms", "torch ms", "jax ms", "tape/numpy",
            "tape/torch", "tape/jax", "tape/(1.25 bare)", "targets")
    rows = []
    for name, res in results.items():
        cfg, med = res["config"], {m: t["median"] for m, t in res["times_ms"].items()}
        model = f"{cfg['cell'].upper()} {cfg['I']}/{cfg['H']}/{cfg['O']} B{cfg['B']}"
        base = [_fmt(med.get("numpy")), _fmt(med.get("bare")), _fmt(med.get("torch")), _fmt(med.get("jax"))]
        if not res["ratios"]:
            rows.append((name, model, str(cfg["T"]), "n/a", *base, "-", "-", "-", "-", "tape not available"))
        for row, r in res["ratios"].items():
            label = name if row == "tape" else f"{name} [ElmanRNN]"
            rows.append((label, model, str(cfg["T"]), _fmt(med[row]), *base, _fmt(r["vs_numpy"]),
                         _fmt(r.get("vs_torch")), _fmt(r.get("vs_jax")), _fmt(r["vs_1.25_bare"]) if name == "lstm_medium" else "-",
                         _targets(r)))
    _print_rows(head, rows)


def print_jit_table(results: dict[str, dict]) -> None:
    """The jitted step against the eager one and the peers, and its step memory when measured."""
    head = ("config", "jit ms", "tape ms", "jit/tape", "jit/numpy", "jit/torch", "jit/jax",
            "eager peak MB", "jit peak MB", "jit peak <= eager", "targets")
    rows = []
    for name, res in results.items():
        if "jit" not in res["times_ms"]:
            continue
        r, mem = res["jit_ratios"], res.get("step_memory", {})
        mb = [_fmt(mem[k] / 1e6, 3) if k in mem else "-" for k in ("tape_peak_bytes", "jit_peak_bytes")]
        holds = "-" if "jit_le_eager" not in mem else "yes" if mem["jit_le_eager"] else "NO"
        rows.append((name, _fmt(res["times_ms"]["jit"]["median"]), _fmt(res["times_ms"]["tape"]["median"]),
                     *(_fmt(r.get(k)) for k in ("vs_tape", "vs_numpy", "vs_torch", "vs_jax")), *mb, holds,
                     _targets(r)))
    if rows:
        print("\nThe same tape step under tr.jit (recorded once, replayed; checked bit for bit against eager)")
        _print_rows(head, rows)


def _targets(r: dict[str, Any]) -> str:
    return "ok" if r["targets_met"] else "MISS: " + "; ".join(r["misses"])


def _print_rows(head: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def print_memory(mem: dict[str, Any]) -> None:
    print(f"\nTape memory (CPU, tracemalloc, forward of a tanh RNN layer, B={mem['B']} I={mem['I']} H={mem['H']}; "
          f"unit = one (B, H) float32 array = {mem['unit_bytes']} bytes)")
    for label, m in mem["layers"].items():
        pairs = ", ".join(f"T={T}: {h / 1e6:.2f} MB (peak {p / 1e6:.2f})"
                          for T, h, p in zip(m["T"], m["held_bytes"], m["peak_bytes"], strict=True))
        print(f"  {label}: {pairs}")
        print(f"    fit: {m['bytes_per_step_fit']:.0f} bytes/step (= {m['unit_arrays_per_step']:.2f} units) + "
              f"{m['intercept_bytes']:.0f}; R^2 = {m['r2']:.5f}; "
              f"{'linear in T' if m['linear'] else 'NOT linear in T'}")


