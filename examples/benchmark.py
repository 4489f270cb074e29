"""Benchmark: one training step of tinygrad_rnn's recurrent layers against hand-written
NumPy BPTT and PyTorch, in one process.

One training step (float32) = forward over the whole sequence, softmax cross-entropy at
every time step averaged over T*B, full back-propagation through time, one SGD update.
The model is a recurrent layer (tanh RNN, GRU or LSTM) plus a Linear output head.
Reported times are medians in milliseconds.

Methods (each times the same model, started from the same weights):
  tape    tinygrad_rnn: nn.RNN/GRU/LSTM + nn.Linear + nn.functional.cross_entropy +
          optim.SGD; BPTT comes from the tape.
  elman   (tanh-RNN configs only, an extra row) nn.ElmanRNN(f_s="tanh", f_o="identity"),
          which carries its own output layer and one bias W_ss0 instead of two.
  numpy   hand-written forward + closed-form BPTT in the "hoisted" layout: the input
          projection of all T steps is one matmul before the loop; the output projection,
          the softmax-CE gradient and the weight gradients dW_ih, dW_hh, dW_out are
          whole-sequence matmuls after it. Only the recurrence stays per step. Its
          gradients are checked against the tape's (float64, same weights) before any
          timing, and the run aborts on a mismatch.
  bare    the matmul calls of one numpy step alone (same shapes, same operand layouts):
          a floor for any implementation that uses the same BLAS.
  torch   torch.nn.RNN/GRU/LSTM + Linear + F.cross_entropy + torch.optim.SGD, when
          PyTorch is importable.

Timing rules: each method runs in its own block (warm-up steps, then timed steps) with
a pause between blocks; blocks go in ABBA order (tape, elman, numpy, bare, torch, torch,
bare, numpy, elman, tape), so slow drifts of a shared machine hit every method alike,
and methods are never interleaved call by call (on 2 cores that makes both slower).
The median is over all timed steps of all blocks of a method. Absolute times drift by
25% or more between runs on shared machines; compare ratios measured in one run.

Ratios and the targets of the performance issue (checked in the last column):
  tape/numpy        <= 1.15 (<= 2.0 on elman_tiny, where it is pure per-op overhead)
  tape/torch        <= 1.0 on elman_tiny and elman_small, <= 1.4 on gru_medium and lstm_large
  tape/(1.25*bare)  <= 1.0 on lstm_medium (PyTorch's fused oneDNN LSTM beats the bare
                    OpenBLAS matmuls there, so the bar is the matmul floor instead)
Targets only mean something for full runs (not --quick) on the CPU.

Memory: the peak and the held bytes of the tape of a T-step nn.RNN forward (and
nn.ElmanRNN when present) are measured with tracemalloc for several T, with a linear
fit bytes = a + b*T, its R^2 and b in units of one (B, H) float32 array.

Examples:
  python examples/benchmark.py                          # all five configs, ~2-3 min
  python examples/benchmark.py --quick                  # under a minute
  python examples/benchmark.py --configs lstm_medium gru_medium --repeats 20 --out bench.json
  python examples/benchmark.py --threads 1              # numpy (OpenBLAS) and torch on 1 thread
  python examples/benchmark.py --device cuda            # tape on CuPy, torch on CUDA, numpy on CuPy
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import tinygrad_rnn as tr

try:  # the layers of the tape method; the script still runs numpy and torch without them
    from tinygrad_rnn import nn, optim

    nn.RNN, nn.GRU, nn.LSTM, nn.Linear, nn.functional.cross_entropy, optim.SGD  # noqa: B018
    TAPE_ERROR = None
except (ImportError, AttributeError) as e:
    TAPE_ERROR = f"{type(e).__name__}: {e}"
HAVE_ELMAN = TAPE_ERROR is None and hasattr(nn, "ElmanRNN")

try:
    import torch
except ImportError:
    torch = None


@dataclass(frozen=True)
class Config:
    cell: str  # "rnn" (tanh), "gru" or "lstm"
    I: int  # noqa: E741 - input size
    H: int  # hidden size
    O: int  # noqa: E741 - output size (classes)
    B: int  # batch
    T: int  # sequence length


CONFIGS = {
    "elman_tiny": Config("rnn", 8, 16, 8, 1, 200),
    "elman_small": Config("rnn", 65, 128, 65, 32, 64),
    "gru_medium": Config("gru", 128, 256, 128, 32, 64),
    "lstm_medium": Config("lstm", 128, 256, 128, 32, 64),
    "lstm_large": Config("lstm", 512, 1024, 512, 64, 32),
}
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
LR = 0.01
# (tape/numpy max, tape/torch max, tape/(1.25*bare) max) from the performance issue.
TARGETS = {
    "elman_tiny": (2.0, 1.0, None),
    "elman_small": (1.15, 1.0, None),
    "gru_medium": (1.15, 1.4, None),
    "lstm_medium": (1.15, None, 1.0),
    "lstm_large": (1.15, 1.4, None),
}


class BaselineMismatch(RuntimeError):
    """The hand-written NumPy BPTT disagrees with the reference gradients."""


# ============================================================ NumPy BPTT (hoisted)
def init_params(cfg: Config, seed: int) -> dict[str, np.ndarray]:
    """PyTorch-style uniform(-1/sqrt(H), 1/sqrt(H)) weights, named as in the tape model."""
    rng = np.random.default_rng(seed)
    k, gh = 1.0 / np.sqrt(cfg.H), GATES[cfg.cell] * cfg.H
    shapes = {"rnn.weight_ih_l0": (gh, cfg.I), "rnn.weight_hh_l0": (gh, cfg.H), "rnn.bias_ih_l0": (gh,),
              "rnn.bias_hh_l0": (gh,), "head.weight": (cfg.O, cfg.H), "head.bias": (cfg.O,)}
    return {name: rng.uniform(-k, k, shape) for name, shape in shapes.items()}


def make_data(cfg: Config, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    return rng.standard_normal((cfg.T, cfg.B, cfg.I)), rng.integers(0, cfg.O, (cfg.T, cfg.B))


def _sigmoid_(a: Any, xp: Any) -> None:
    """a <- 1 / (1 + exp(-a)) in place."""
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _rnn_forward(A: Any, W_hh: Any, b_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """h_t = tanh(A_t + h_{t-1} W_hh^T), A_t = x_t W_ih^T + b_ih + b_hh precomputed."""
    T, B, H = A.shape
    Hall = xp.zeros((T + 1, B, H), A.dtype)
    tmp, WT = xp.empty((B, H), A.dtype), W_hh.T
    for t in range(T):
        mm(Hall[t], WT, out=tmp)
        tmp += A[t]
        xp.tanh(tmp, out=Hall[t + 1])
    return Hall, None


def _rnn_backward(dH: Any, Hall: Any, cache: Any, W_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """dA_t = (dH_t + dA_{t+1} W_hh) * (1 - h_t^2); the same array is dGh."""
    T, B, H = dH.shape
    dA, dh_next, tmp = xp.empty_like(dH), xp.zeros((B, H), dH.dtype), xp.empty((B, H), dH.dtype)
    for t in range(T - 1, -1, -1):
        h, da = Hall[t + 1], dA[t]
        xp.add(dH[t], dh_next, out=da)
        xp.multiply(h, h, out=tmp)
        xp.subtract(1, tmp, out=tmp)
        da *= tmp
        if t:
            mm(da, W_hh, out=dh_next)
    return dA, dA


def _gru_forward(A: Any, W_hh: Any, b_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """PyTorch's GRU; A_t = x_t W_ih^T + b_ih is overwritten with the gates (r, z, n)."""
    T, B, H3 = A.shape
    H = H3 // 3
    Hall, hn_all = xp.zeros((T + 1, B, H), A.dtype), xp.empty((T, B, H), A.dtype)
    tmp, WT = xp.empty((B, H3), A.dtype), W_hh.T
    for t in range(T):
        G = A[t]
        mm(Hall[t], WT, out=tmp)
        tmp += b_hh
        rz = G[:, : 2 * H]
        rz += tmp[:, : 2 * H]
        _sigmoid_(rz, xp)
        r, z, n = G[:, :H], G[:, H : 2 * H], G[:, 2 * H :]
        hn = hn_all[t]
        hn[...] = tmp[:, 2 * H :]  # W_hn h + b_hn, needed by backward
        n += r * hn
        xp.tanh(n, out=n)
        h = Hall[t + 1]
        xp.subtract(Hall[t], n, out=h)  # h_t = n + z * (h_{t-1} - n)
        h *= z
        h += n
    return Hall, (A, hn_all)


def _gru_backward(dH: Any, Hall: Any, cache: Any, W_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    G_all, hn_all = cache
    T, B, H = dH.shape
    dA, dGh = xp.empty((T, B, 3 * H), dH.dtype), xp.empty((T, B, 3 * H), dH.dtype)
    dh_next, tmp = xp.zeros((B, H), dH.dtype), xp.empty((B, H), dH.dtype)
    for t in range(T - 1, -1, -1):
        G, hn, hp = G_all[t], hn_all[t], Hall[t]
        r, z, n = G[:, :H], G[:, H : 2 * H], G[:, 2 * H :]
        dh = dH[t]
        dh += dh_next
        da, dg = dA[t], dGh[t]
        dr, dz, dn = da[:, :H], da[:, H : 2 * H], da[:, 2 * H :]
        xp.subtract(1, z, out=dn)  # dn = dh (1 - z) (1 - n^2)
        dn *= dh
        xp.multiply(n, n, out=tmp)
        xp.subtract(1, tmp, out=tmp)
        dn *= tmp
        xp.subtract(hp, n, out=dz)  # dz = dh (h_{t-1} - n) z (1 - z)
        dz *= dh
        xp.subtract(1, z, out=tmp)
        tmp *= z
        dz *= tmp
        xp.multiply(dn, hn, out=dr)  # dr = dn hn r (1 - r)
        xp.subtract(1, r, out=tmp)
        tmp *= r
        dr *= tmp
        dg[:, : 2 * H] = da[:, : 2 * H]
        xp.multiply(dn, r, out=dg[:, 2 * H :])
        if t:
            mm(dg, W_hh, out=dh_next)
            xp.multiply(dh, z, out=tmp)
            dh_next += tmp
    return dA, dGh


def _lstm_forward(A: Any, W_hh: Any, b_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """LSTM (gates i, f, g, o); A_t = x_t W_ih^T + b_ih + b_hh is overwritten with the gates."""
    T, B, H4 = A.shape
    H = H4 // 4
    Hall, Call, Tc = xp.zeros((T + 1, B, H), A.dtype), xp.zeros((T + 1, B, H), A.dtype), xp.empty((T, B, H), A.dtype)
    tmp, WT = xp.empty((B, H4), A.dtype), W_hh.T
    for t in range(T):
        G = A[t]
        mm(Hall[t], WT, out=tmp)
        G += tmp
        _sigmoid_(G[:, : 2 * H], xp)
        xp.tanh(G[:, 2 * H : 3 * H], out=G[:, 2 * H : 3 * H])
        _sigmoid_(G[:, 3 * H :], xp)
        i, f, g, o = G[:, :H], G[:, H : 2 * H], G[:, 2 * H : 3 * H], G[:, 3 * H :]
        c = Call[t + 1]
        xp.multiply(f, Call[t], out=c)
        c += i * g
        xp.tanh(c, out=Tc[t])
        xp.multiply(o, Tc[t], out=Hall[t + 1])
    return Hall, (A, Call, Tc)


def _lstm_backward(dH: Any, Hall: Any, cache: Any, W_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    G_all, Call, Tc = cache
    T, B, H = dH.shape
    dG = xp.empty((T, B, 4 * H), dH.dtype)
    dh_next, dc_next = xp.zeros((B, H), dH.dtype), xp.zeros((B, H), dH.dtype)
    dc, tmp, tmp2 = xp.empty((B, H), dH.dtype), xp.empty((B, H), dH.dtype), xp.empty((B, 2 * H), dH.dtype)
    for t in range(T - 1, -1, -1):
        G, tc, d = G_all[t], Tc[t], dG[t]
        i, f, g, o = G[:, :H], G[:, H : 2 * H], G[:, 2 * H : 3 * H], G[:, 3 * H :]
        di, df, dg, do = d[:, :H], d[:, H : 2 * H], d[:, 2 * H : 3 * H], d[:, 3 * H :]
        dh = dH[t]
        dh += dh_next
        xp.multiply(dh, tc, out=do)  # dL/do
        xp.multiply(tc, tc, out=tmp)  # dc = dh o (1 - tanh(c)^2) + dc_{t+1}
        xp.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        xp.add(tmp, dc_next, out=dc)
        xp.multiply(dc, g, out=di)
        xp.multiply(dc, i, out=dg)
        xp.multiply(dc, Call[t], out=df)
        xp.multiply(dc, f, out=dc_next)
        xp.subtract(1, G[:, : 2 * H], out=tmp2)  # through sigmoid (i, f), tanh (g), sigmoid (o)
        tmp2 *= G[:, : 2 * H]
        d[:, : 2 * H] *= tmp2
        xp.multiply(g, g, out=tmp)
        xp.subtract(1, tmp, out=tmp)
        dg *= tmp
        xp.subtract(1, o, out=tmp)
        tmp *= o
        do *= tmp
        if t:
            mm(d, W_hh, out=dh_next)
    return dG, dG


_CELLS = {"rnn": (_rnn_forward, _rnn_backward), "gru": (_gru_forward, _gru_backward),
          "lstm": (_lstm_forward, _lstm_backward)}


def numpy_loss_and_grads(cell: str, P: dict, x: Any, y: Any, xp: Any = np,
                         mm: Callable = np.matmul) -> tuple[Any, dict]:
    """Loss and closed-form BPTT gradients of every parameter in ``P`` (hoisted layout).

    ``mm`` is the matmul used for every product (the benchmark passes a recorder once to
    collect the "bare" matmul calls). ``xp`` is numpy or cupy.
    """
    T, B, n_in = x.shape
    W_ih, W_hh, b_ih, b_hh = P["rnn.weight_ih_l0"], P["rnn.weight_hh_l0"], P["rnn.bias_ih_l0"], P["rnn.bias_hh_l0"]
    W_out, b_out = P["head.weight"], P["head.bias"]
    H = W_hh.shape[1]
    forward, backward = _CELLS[cell]
    X2 = x.reshape(T * B, n_in)
    A = mm(X2, W_ih.T)  # hoisted input projection of all T steps
    A += b_ih if cell == "gru" else b_ih + b_hh  # GRU keeps b_hn inside r * (W_hn h + b_hn)
    Hall, cache = forward(A.reshape(T, B, -1), W_hh, b_hh, xp, mm)
    H2 = Hall[1:].reshape(T * B, H)
    logits = mm(H2, W_out.T)  # hoisted output projection
    logits += b_out
    # softmax cross-entropy averaged over T*B; logits becomes dL/dlogits in place
    N = T * B
    logits -= logits.max(axis=1, keepdims=True)
    rows, targets = xp.arange(N), y.reshape(N)
    picked = logits[rows, targets]
    xp.exp(logits, out=logits)
    total = logits.sum(axis=1, keepdims=True)
    loss = (xp.log(total[:, 0]) - picked).mean()
    logits /= total
    logits[rows, targets] -= 1
    logits *= 1.0 / N
    grads = {"head.weight": mm(logits.T, H2), "head.bias": logits.sum(axis=0)}
    dH = mm(logits, W_out).reshape(T, B, H)
    dA, dGh = backward(dH, Hall, cache, W_hh, xp, mm)
    dA2, dGh2, Hprev2 = dA.reshape(N, -1), dGh.reshape(N, -1), Hall[:-1].reshape(N, H)
    grads["rnn.weight_ih_l0"] = mm(dA2.T, X2)  # hoisted weight gradients
    grads["rnn.weight_hh_l0"] = mm(dGh2.T, Hprev2)
    grads["rnn.bias_ih_l0"] = dA2.sum(axis=0)
    grads["rnn.bias_hh_l0"] = dGh2.sum(axis=0) if dGh2 is not dA2 else grads["rnn.bias_ih_l0"]
    return loss, grads


def numpy_step(cell: str, P: dict, x: Any, y: Any, xp: Any = np, mm: Callable = np.matmul, lr: float = LR) -> Any:
    """One training step: loss, BPTT, SGD update of ``P`` in place."""
    loss, grads = numpy_loss_and_grads(cell, P, x, y, xp, mm)
    for name, grad in grads.items():
        P[name] -= lr * grad
    return loss


def record_matmuls(cell: str, P: dict, x: Any, y: Any, xp: Any) -> list[tuple]:
    """The (a, b, out) operands of every matmul of one numpy step, in call order."""
    calls: list[tuple] = []

    def recorder(a: Any, b: Any, out: Any = None) -> Any:
        calls.append((a, b, out))
        return xp.matmul(a, b, out=out)

    numpy_loss_and_grads(cell, {k: v.copy() for k, v in P.items()}, x, y, xp, recorder)
    return calls


# ============================================================ tape and torch models
def elman_state(P: dict) -> dict[str, np.ndarray]:
    """The tanh-RNN weights as nn.ElmanRNN parameters (one bias W_ss0 = b_ih + b_hh)."""
    return {"W_sx": P["rnn.weight_ih_l0"], "W_ss": P["rnn.weight_hh_l0"],
            "W_ss0": P["rnn.bias_ih_l0"] + P["rnn.bias_hh_l0"], "W_o": P["head.weight"], "W_o0": P["head.bias"]}


def build_tape(cfg: Config, P: dict, x: np.ndarray, y: np.ndarray, device: str, dtype: str,
               elman: bool = False) -> tuple[Callable[[], Any], Any]:
    """A tinygrad_rnn model loaded with ``P``; returns (step, model). ``step()`` returns the loss."""
    if elman:
        model = nn.ElmanRNN(cfg.I, cfg.H, cfg.O, f_s="tanh", f_o="identity", device=device, dtype=dtype)
        model.load_state_dict(elman_state(P))
    else:
        model = TapeNet(cfg, device, dtype)
        model.load_state_dict(P)
    xt = tr.Tensor(x, device=device, dtype=dtype)
    yt = tr.Tensor(y.reshape(-1), device=device)
    opt = optim.SGD(model.parameters(), lr=LR)
    T, B, n_out = x.shape[0], x.shape[1], cfg.O

    def step() -> Any:
        opt.zero_grad()
        logits = model(xt)[0] if elman else model(xt)
        loss = nn.functional.cross_entropy(logits.reshape(T * B, n_out), yt)
        loss.backward()
        opt.step()
        return loss

    return step, model


if TAPE_ERROR is None:

    class TapeNet(nn.Module):
        """Recurrent layer + Linear head, parameter names as in the NumPy dict."""

        def __init__(self, cfg: Config, device: str, dtype: str) -> None:
            super().__init__()
            if cfg.cell == "rnn":
                self.rnn = nn.RNN(cfg.I, cfg.H, nonlinearity="tanh", device=device, dtype=dtype)
            else:
                self.rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cfg.cell](cfg.I, cfg.H, device=device, dtype=dtype)
            self.head = nn.Linear(cfg.H, cfg.O, device=device, dtype=dtype)

        def forward(self, x: Any) -> Any:
            return self.head(self.rnn(x)[0])


def build_torch(cfg: Config, P: dict, x: np.ndarray, y: np.ndarray, device: str,
                dtype: Any) -> tuple[Callable[[], Any], Any]:
    """The same model in PyTorch; returns (step, model)."""
    rnn_cls = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cfg.cell]
    model = torch.nn.Module()
    model.rnn = rnn_cls(cfg.I, cfg.H, **({"nonlinearity": "tanh"} if cfg.cell == "rnn" else {}))
    model.head = torch.nn.Linear(cfg.H, cfg.O)
    model.to(device=device, dtype=dtype)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in P.items()})
    xt = torch.from_numpy(np.ascontiguousarray(x)).to(device=device, dtype=dtype)
    yt = torch.from_numpy(y.reshape(-1)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step() -> Any:
        opt.zero_grad(set_to_none=True)
        out, _ = model.rnn(xt)
        loss = torch.nn.functional.cross_entropy(model.head(out).reshape(-1, cfg.O), yt)
        loss.backward()
        opt.step()
        return loss

    return step, model


# ============================================================ checks (float64)
def _max_rel_err(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))


def _compare(what: str, got: dict, want: dict, tol: float) -> dict[str, float]:
    errors = {name: _max_rel_err(np.asarray(got[name]), np.asarray(want[name])) for name in want}
    bad = {k: v for k, v in errors.items() if not v <= tol}
    if bad:
        raise BaselineMismatch(
            f"{what}: gradients disagree (max relative error per parameter {bad}; expected <= {tol}). "
            "The NumPy baseline is not the same model as the reference: refusing to time it."
        )
    return errors


def check_baseline(cfg: Config, P: dict, x: np.ndarray, y: np.ndarray, tol: float = 1e-8) -> dict[str, Any]:
    """Compare the NumPy BPTT's loss and gradients (float64) with the tape's and with PyTorch's.

    Raises:
        BaselineMismatch: any parameter's gradient differs by more than ``tol`` (relative).
    """
    loss, grads = numpy_loss_and_grads(cfg.cell, {k: v.copy() for k, v in P.items()}, x, y)
    want = {k: np.asarray(v) for k, v in grads.items()}
    want["loss"] = np.asarray(loss)
    report: dict[str, Any] = {"tolerance": tol}
    if TAPE_ERROR is None:
        step, model = build_tape(cfg, P, x, y, "cpu", "float64")
        model.zero_grad()
        logits = model(tr.Tensor(x, dtype="float64"))
        tape_loss = nn.functional.cross_entropy(logits.reshape(-1, cfg.O), tr.Tensor(y.reshape(-1)))
        tape_loss.backward()
        got = {name: p.grad.numpy() for name, p in model.named_parameters()}
        got["loss"] = tape_loss.numpy()
        report["tape"] = _compare(f"{cfg.cell}: NumPy BPTT vs tape", got, want, tol)
        if cfg.cell == "rnn" and HAVE_ELMAN:
            model = nn.ElmanRNN(cfg.I, cfg.H, cfg.O, f_s="tanh", f_o="identity", dtype="float64")
            model.load_state_dict(elman_state(P))
            elman_loss = nn.functional.cross_entropy(model(tr.Tensor(x, dtype="float64"))[0].reshape(-1, cfg.O),
                                                     tr.Tensor(y.reshape(-1)))
            elman_loss.backward()
            got = {name: p.grad.numpy() for name, p in model.named_parameters()}
            got["loss"] = elman_loss.numpy()
            names = {"W_sx": "rnn.weight_ih_l0", "W_ss": "rnn.weight_hh_l0", "W_ss0": "rnn.bias_ih_l0",
                     "W_o": "head.weight", "W_o0": "head.bias", "loss": "loss"}
            report["elman"] = _compare(f"{cfg.cell}: NumPy BPTT vs nn.ElmanRNN", got,
                                       {k: want[v] for k, v in names.items()}, tol)
    if torch is not None:
        _, model = build_torch(cfg, P, x, y, "cpu", torch.float64)
        out, _ = model.rnn(torch.from_numpy(x))
        torch_loss = torch.nn.functional.cross_entropy(model.head(out).reshape(-1, cfg.O),
                                                       torch.from_numpy(y.reshape(-1)))
        torch_loss.backward()
        got = {name: p.grad.numpy() for name, p in model.named_parameters()}
        got["loss"] = torch_loss.detach().numpy()
        report["torch"] = _compare(f"{cfg.cell}: NumPy BPTT vs PyTorch", got, want, tol)
    if "tape" not in report and "torch" not in report:
        raise BaselineMismatch("no reference to check the NumPy BPTT against: neither the tape layers nor torch")
    return report


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


def _device_sync(device: str) -> Callable[[], None]:
    if device != "cuda":
        return lambda: None
    import cupy

    def sync() -> None:
        cupy.cuda.runtime.deviceSynchronize()
        if torch is not None and torch.cuda.is_available():
            torch.cuda.synchronize()

    return sync


def bench_config(name: str, cfg: Config, args: argparse.Namespace) -> dict[str, Any]:
    """Check the baseline, then time every available method on one configuration."""
    P, x, y = init_params(cfg, args.seed), *make_data(cfg, args.seed)
    result: dict[str, Any] = {"config": asdict(cfg), "check": check_baseline(cfg, P, x, y)}
    f32 = {k: v.astype(np.float32) for k, v in P.items()}
    x32 = x.astype(np.float32)
    methods: dict[str, Callable] = {}
    first_loss: dict[str, float] = {}
    if TAPE_ERROR is None:
        methods["tape"], _ = build_tape(cfg, f32, x32, y, args.device, "float32")
        if cfg.cell == "rnn" and HAVE_ELMAN and not args.no_elman:
            methods["elman"], _ = build_tape(cfg, f32, x32, y, args.device, "float32", elman=True)
    if args.device == "cuda":
        import cupy as xp
    else:
        xp = np
    Pn = {k: xp.asarray(v) for k, v in f32.items()}
    xn, yn = xp.asarray(x32), xp.asarray(y)
    methods["numpy"] = lambda: numpy_step(cfg.cell, Pn, xn, yn, xp, xp.matmul)
    calls = record_matmuls(cfg.cell, Pn, xn, yn, xp)
    matmul = xp.matmul
    methods["bare"] = lambda: [matmul(a, b, out=out) for a, b, out in calls]
    if torch is not None and not args.no_torch:
        torch_device = "cuda" if args.device == "cuda" else "cpu"
        if torch_device == "cpu" or torch.cuda.is_available():
            methods["torch"], _ = build_torch(cfg, f32, x32, y, torch_device, torch.float32)
        else:
            print("note: this PyTorch has no CUDA; the torch column is left out", file=sys.stderr)
    for method, step in methods.items():  # the first step also shows all start from one model
        if method != "bare":
            loss = step()
            first_loss[method] = float(loss.item() if hasattr(loss, "item") else loss)
    result["first_loss_f32"] = first_loss
    for method, loss in first_loss.items():  # float32: all methods must be one model, up to rounding
        if not abs(loss - first_loss["numpy"]) <= 1e-4 * abs(first_loss["numpy"]):
            raise BaselineMismatch(f"first float32 loss of {method} is {loss}, numpy's {first_loss['numpy']}; "
                                   "expected equal up to rounding (same weights, same data)")
    samples = run_abba(methods, _device_sync(args.device), args)
    med = {m: statistics.median(s) for m, s in samples.items()}
    result["times_ms"] = {m: {"median": med[m], "min": min(s), "max": max(s), "samples": s}
                          for m, s in samples.items()}
    result["ratios"] = ratios(name, med)
    return result


def ratios(name: str, med: dict[str, float]) -> dict[str, Any]:
    """tape/numpy, tape/torch, tape/(1.25*bare) for the tape and the elman rows, with target verdicts."""
    out: dict[str, Any] = {}
    max_np, max_torch, max_bare = TARGETS.get(name, (None, None, None))
    for row in ("tape", "elman"):
        if row not in med:
            continue
        r: dict[str, Any] = {"vs_numpy": med[row] / med["numpy"], "vs_1.25_bare": med[row] / (1.25 * med["bare"])}
        if "torch" in med:
            r["vs_torch"] = med[row] / med["torch"]
        misses = []
        for key, limit in (("vs_numpy", max_np), ("vs_torch", max_torch), ("vs_1.25_bare", max_bare)):
            if limit is not None and key in r and r[key] > limit:
                misses.append(f"{key} {r[key]:.2f} > {limit}")
        r["targets_met"] = not misses
        r["misses"] = misses
        out[row] = r
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


# ============================================================ machine, printing
def _openblas() -> Any:
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


def _loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every timing."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine_info(args: argparse.Namespace) -> dict[str, Any]:
    blas = _openblas()
    info: dict[str, Any] = {
        "platform": platform.platform(), "processor": platform.processor(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(), "numpy": np.__version__, "numpy_blas_threads": blas[0]() if blas else None,
        "tinygrad_rnn": tr.__version__, "device": args.device, "tape_available": TAPE_ERROR is None,
        "tape_error": TAPE_ERROR, "time": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg_start": _loadavg(),
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
    return info


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(results: dict[str, dict]) -> None:
    head = ("config", "model", "T", "tape ms", "numpy ms", "bare ms", "torch ms", "tape/numpy", "tape/torch",
            "tape/(1.25 bare)", "targets")
    rows = []
    for name, res in results.items():
        cfg, med = res["config"], {m: t["median"] for m, t in res["times_ms"].items()}
        model = f"{cfg['cell'].upper()} {cfg['I']}/{cfg['H']}/{cfg['O']} B{cfg['B']}"
        base = [_fmt(med.get("numpy")), _fmt(med.get("bare")), _fmt(med.get("torch"))]
        if not res["ratios"]:
            rows.append((name, model, str(cfg["T"]), "n/a", *base, "-", "-", "-", "tape not available"))
        for row, r in res["ratios"].items():
            label = name if row == "tape" else f"{name} [ElmanRNN]"
            rows.append((label, model, str(cfg["T"]), _fmt(med[row]), *base, _fmt(r["vs_numpy"]),
                         _fmt(r.get("vs_torch")), _fmt(r["vs_1.25_bare"]) if name == "lstm_medium" else "-",
                         "ok" if r["targets_met"] else "MISS: " + "; ".join(r["misses"])))
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    line = " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
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


# ============================================================ main
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
    parser.add_argument("--threads", type=int, default=None,
                        help="set both OpenBLAS (NumPy) and torch to this many threads (default: leave both alone)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--no-elman", action="store_true", help="skip the extra nn.ElmanRNN rows")
    parser.add_argument("--no-mkldnn", action="store_true",
                        help="turn off PyTorch's oneDNN (mkldnn) kernels, e.g. its fused CPU LSTM")
    parser.add_argument("--memory-T", type=int, nargs="+", default=None,
                        help="sequence lengths for the tape memory measurement (default 25 50 100 200)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tape memory measurement")
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
    if args.repeats < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--repeats and --rounds must be >= 1 and --warmup >= 0")
    return args


def _check_cuda() -> None:
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.device == "cuda":
        _check_cuda()
    if args.threads is not None:
        blas = _openblas()
        if blas is None:
            print("note: could not find NumPy's OpenBLAS to set its threads; set OPENBLAS_NUM_THREADS instead",
                  file=sys.stderr)
        else:
            blas[1](args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    if torch is not None and args.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    info = machine_info(args)
    print(f"numpy {info['numpy']} ({info['numpy_blas']}, {info['numpy_blas_threads']} threads) | "
          + (f"torch {info['torch']} ({info['torch_threads']} threads, oneDNN {'on' if info['torch_mkldnn'] else 'off'})"
             if torch is not None else "torch not installed")
          + f" | {info['cpus_usable']} CPUs | device {args.device}")
    load = info["loadavg_start"]
    if load is not None and load[0] > 0.5 * info["cpus_usable"]:
        print(f"WARNING: the machine is busy (load average {load[0]} on {info['cpus_usable']} CPUs): other processes "
              "share the cores, so absolute times and even ratios will be noisy (--threads 1 suffers least).",
              file=sys.stderr)
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
            results[name]["loadavg_after"] = _loadavg()
        except BaselineMismatch as e:
            print(f"\nABORT: {name}: {e}", file=sys.stderr)
            raise SystemExit(3) from None
        check = results[name]["check"]
        refs = [k for k in ("tape", "elman", "torch") if k in check]
        worst = max(v for ref in refs for v in check[ref].values())
        print(f"  {name}: T={T}, NumPy BPTT checked against {', '.join(refs)} in float64 "
              f"(max rel err {worst:.1e}); timed in {time.perf_counter() - start:.1f} s; "
              f"load average {results[name]['loadavg_after']}", flush=True)
    note = " (--quick: shorter sequences and few repeats; ratios are indicative only)" if args.quick else ""
    print(f"\nOne training step, float32, median ms over {2 * args.rounds * args.repeats} steps per method{note}")
    print_table(results)
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
