"""The benchmark's model in four forms, and the check that they are one model.

Imported by examples/benchmark.py (not a program of its own). A recurrent layer (tanh
RNN, GRU or LSTM) plus a Linear head, loss = softmax cross-entropy at every step
averaged over T*B, started from the same weights ``init_params`` in every form:

  tape    tinygrad_rnn's nn.RNN/GRU/LSTM + nn.Linear (``build_tape``), or the notes'
          nn.ElmanRNN with its own output layer (``elman=True``, tanh configs only);
  numpy   the closed-form BPTT of examples/bptt_numpy.py (``record_matmuls``: its matmuls);
  torch   torch.nn.RNN/GRU/LSTM + Linear (``build_torch``), when PyTorch is importable;
  jit     the tape model's step under ``tr.jit`` (``build_jit``): recorded once, then
          replayed; ``check_jit`` refuses it unless it gives the eager step's losses
          and parameters bit for bit.

``check_baseline`` compares the NumPy BPTT's loss and gradients with the tape's and
PyTorch's in float64 and raises :class:`BaselineMismatch` when they differ: the
benchmark refuses to time a baseline that is not the same model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bptt_numpy
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
LR = 0.01  # SGD step size of every method


class BaselineMismatch(RuntimeError):
    """The hand-written NumPy BPTT disagrees with the reference gradients."""


def init_params(cfg: Config, seed: int) -> dict[str, np.ndarray]:
    """PyTorch-style initial weights of ``cfg``'s model, named as in the tape model."""
    return bptt_numpy.init_params(cfg.cell, cfg.I, cfg.H, cfg.O, seed)


def make_data(cfg: Config, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    return rng.standard_normal((cfg.T, cfg.B, cfg.I)), rng.integers(0, cfg.O, (cfg.T, cfg.B))


def record_matmuls(cell: str, P: dict, x: Any, y: Any, xp: Any) -> list[tuple]:
    """The (a, b, out) operands of every matmul of one numpy step, in call order."""
    calls: list[tuple] = []

    def recorder(a: Any, b: Any, out: Any = None) -> Any:
        calls.append((a, b, out))
        return xp.matmul(a, b, out=out)

    bptt_numpy.loss_and_grads(cell, P, x, y, xp, recorder)
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


def build_jit(cfg: Config, P: dict, x: np.ndarray, y: np.ndarray, device: str,
              dtype: str) -> tuple[Callable[[], Any], Any]:
    """The tape model with its step under ``tr.jit``; returns (jitted step, model).

    The first call records the step (it is an eager step); later calls replay it.
    """
    step, model = build_tape(cfg, P, x, y, device, dtype)
    return tr.jit(step), model


def check_jit(eager: tuple, jitted: tuple, steps: int = 3) -> None:
    """Run the eager and the jitted (step, model) side by side for ``steps`` steps.

    Both must start from the same weights and have taken the same number of steps.

    Raises:
        BaselineMismatch: a loss or, after the steps, a parameter differs in any bit,
            or the jitted step recorded more than once (it did not replay).
    """
    for i in range(steps):
        a, b = eager[0](), jitted[0]()
        if a.numpy().tobytes() != b.numpy().tobytes():
            raise BaselineMismatch(f"jit and eager losses differ at check step {i}: {a.item()!r} vs {b.item()!r}; "
                                   "expected bit-for-bit equal: refusing to time the jit")
    for (name, p), (_, q) in zip(eager[1].state_dict().items(), jitted[1].state_dict().items(), strict=True):
        if p.shape != q.shape or p.tobytes() != q.tobytes():
            raise BaselineMismatch(f"jit and eager parameter {name} differ after {steps} steps; "
                                   "expected bit-for-bit equal: refusing to time the jit")
    if getattr(jitted[0], "records", 1) != 1:  # else the jit column would time eager steps
        raise BaselineMismatch(f"the jitted step recorded {jitted[0].records} times; expected once, then replays")


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
    loss, grads = bptt_numpy.loss_and_grads(cfg.cell, P, x, y)
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


