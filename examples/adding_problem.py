"""The adding problem: remember two marked numbers across a long sequence, then add them.

Every step t of a sequence carries two numbers, (value_t, marker_t). The values are
uniform in [0, 1]; the markers are 0 except at exactly two steps, one drawn uniformly
from the first half of the sequence and one from the second half, where they are 1.
After the last step the network must output the sum of the two marked values. Between
the first marker and the end lie T/2 steps or more of noise, so whatever the network
stored at the first marker has to survive (and its gradient has to flow back) across
that gap: the long-range credit assignment of notes C.46-C.47.

Baseline: answering 1.0 whatever the input (the mean of the sum) scores
MSE = Var(u_1 + u_2) = 2/12 ~ 0.167. Beating that line means the network carries
information from the marked steps to the end.

The task is experiment 4 of Hochreiter & Schmidhuber (1997), "Long short-term memory".
We follow the setup of Le, Jaitly & Hinton (2015), "A Simple Way to Initialize Recurrent
Networks of Rectified Linear Units" (arXiv:1504.00941), section 4.1: two inputs per step,
a linear read-out of the last state, squared error, and the comparison of
  tanh  a plain tanh RNN (PyTorch's default initialisation),
  irnn  their IRNN: a ReLU RNN whose recurrent matrix starts as the identity and whose
        biases start at 0 (the lecture slides' (003) "Trick #1: Activation Functions",
        ReLU, plus "Trick #2: Parameter Initialization", identity weights, zero biases),
  lstm  an LSTM (the notes' gated cells, C.6.2),
and, in addition, a GRU (gru). Departures, so that a 2-core CPU finishes in minutes:
shorter sequences (T=50 by default; the paper used 150 to 400), fewer updates, Adam
with gradient-norm clipping for every model instead of their tuned SGD, and the IRNN's
input weights keep the default draw U(-1/sqrt(H), 1/sqrt(H)) instead of the paper's tiny
Gaussian one, with which (under Adam) it stayed at the baseline for all 2000 updates.

Every model sees the same batches and the same number of updates. The test MSE of each
is drawn against the update count, with the 0.167 line, in adding_problem.png.

Examples:
  python examples/adding_problem.py                          # T=50, four models (a few minutes)
  python examples/adding_problem.py --T 100 --steps 4000     # longer gaps: harder for every model
  python examples/adding_problem.py --models lstm,gru --device cuda
  python examples/adding_problem.py --quick                  # the test-suite's learning check
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import _common

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.nn import functional as F

BASELINE_MSE = 2.0 / 12.0  # Var(u_1 + u_2) for u ~ U[0, 1]: the MSE of always answering 1.0
MODELS = ("tanh", "irnn", "lstm", "gru")
LABELS = {
    "tanh": "tanh RNN",
    "irnn": "IRNN (ReLU, identity init)",
    "lstm": "LSTM",
    "gru": "GRU",
}
# --quick: short sequences and few updates; the LSTM and the GRU must reach this
# fraction of the baseline MSE (i.e. beat "always answer 1.0" by at least 50 %).
QUICK_BAR = 0.5


def adding_batch(T: int, B: int, device: str) -> tuple[Tensor, Tensor]:
    """B sequences of the adding problem: inputs (T, B, 2) and targets (B,).

    Channel 0 holds the values u_t ~ U[0, 1], channel 1 the markers: one 1 at a step
    drawn from [0, T/2), one at a step drawn from [T/2, T).
    """
    half = T // 2
    values = Tensor.rand(T, B, device=device)
    first = (Tensor.rand(1, B, device=device) * half).astype("int64")
    second = (Tensor.rand(1, B, device=device) * (T - half)).astype("int64") + half
    steps = Tensor.arange(T, device=device).reshape(T, 1)
    markers = (steps == first).astype(values.dtype) + (steps == second).astype(values.dtype)
    x = tr.stack([values, markers], axis=2)
    y = (values * markers).sum(axis=0)
    return x, y


def recurrent_layer(kind: str, hidden: int, device: str) -> nn.Module:
    """The one-layer recurrent network named ``kind`` (tanh, irnn, lstm, gru) on 2 inputs."""
    if kind == "tanh":
        return nn.RNN(2, hidden, nonlinearity="tanh", device=device)
    if kind == "irnn":
        rnn = nn.RNN(2, hidden, nonlinearity="relu", device=device)
        # Trick 2 (Le et al. 2015): W_hh = I and biases 0; W_ih keeps its default draw.
        nn.init.identity_(rnn.weight_hh_l0)
        nn.init.zeros_(rnn.bias_ih_l0)
        nn.init.zeros_(rnn.bias_hh_l0)
        return rnn
    if kind == "lstm":
        return nn.LSTM(2, hidden, device=device)
    if kind == "gru":
        return nn.GRU(2, hidden, device=device)
    raise ValueError(f"unknown model {kind!r}; expected one of {', '.join(MODELS)}")


class AddingModel(nn.Module):
    """A one-layer recurrent network read out by a linear unit after the last step.

    ŷ = w^T s_T + b, where s_T is the last state (the LSTM's h_T).
    """

    def __init__(self, kind: str, hidden: int, device: str) -> None:
        super().__init__()
        self.kind = kind
        self.rnn = recurrent_layer(kind, hidden, device)
        self.read_out = nn.Linear(hidden, 1, device=device)

    def forward(self, x: Tensor) -> Tensor:
        _, h_n = self.rnn(x)
        if self.kind == "lstm":
            h_n = h_n[0]  # (h_n, c_n): the read-out sees h_T
        return self.read_out(h_n[-1]).reshape(-1)


def evaluate(model: AddingModel, x: Tensor, y: Tensor) -> float:
    with tr.no_grad():
        return F.mse_loss(model(x), y).item()


def train_one(kind: str, args: argparse.Namespace, device: str, test: tuple[Tensor, Tensor]) -> dict[str, Any]:
    """Train one model; returns its test-MSE curve and timing."""
    tr.manual_seed(args.seed)  # same initial draw order and the same batches for every model
    model = AddingModel(kind, args.hidden, device)
    params = list(model.parameters())
    opt = optim.Adam(params, lr=args.lr)
    steps_at, test_mse = [0], [evaluate(model, *test)]

    def gradients(x: Tensor, y: Tensor) -> Tensor:  # recorded once by tr.jit, then replayed
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        return loss

    gradients = _common.maybe_jit(gradients, args)
    start = time.perf_counter()
    with _common.progress(args.steps, desc=f"{kind:>5}") as bar:
        for step in range(1, args.steps + 1):
            x, y = adding_batch(args.T, args.batch, device)
            loss = gradients(x, y)
            nn.utils.clip_grad_norm_(params, args.clip)  # a Python float: outside the jitted step
            opt.step()
            bar.update()
            if step % args.eval_every == 0 or step == args.steps:
                steps_at.append(step)
                test_mse.append(evaluate(model, *test))
                bar.set_postfix(loss=loss.item(), test_mse=test_mse[-1])
    seconds = time.perf_counter() - start
    return {"steps": steps_at, "test_mse": test_mse, "final": test_mse[-1], "seconds": seconds,
            "last_loss": loss.item()}


def plot(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str | None:
    plt = _common.pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for kind, res in results.items():
        ax.plot(res["steps"], res["test_mse"], label=LABELS[kind], linewidth=1.8)
    ax.axhline(BASELINE_MSE, color="black", linestyle="--", linewidth=1,
               label="always answer 1.0 (MSE = 1/6 ~ 0.167)")
    ax.set_yscale("log")
    ax.set_xlabel(f"training updates (batches of {args.batch})")
    ax.set_ylabel("test MSE (log scale)")
    ax.set_title(f"The adding problem, T = {args.T} (Le, Jaitly & Hinton 2015 setup)")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return _common.save_figure(fig, args.out_dir, "adding_problem.png")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = _common.make_parser(__doc__, "adding_problem")
    parser.add_argument("--T", type=int, default=None, help="sequence length (default 50; --quick: 20)")
    parser.add_argument("--steps", type=int, default=None, help="training updates per model (default 2000; --quick: 500)")
    parser.add_argument("--batch", type=int, default=32, help="sequences per update (default 32)")
    parser.add_argument("--hidden", type=int, default=None, help="state size (default 64; --quick: 32)")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam step size (default 1e-2)")
    parser.add_argument("--clip", type=float, default=1.0, help="clip the gradient norm to this (default 1.0)")
    parser.add_argument("--models", default=None,
                        help=f"comma-separated subset of {','.join(MODELS)} (default: all; --quick: lstm,gru)")
    parser.add_argument("--test-size", type=int, default=1000, help="held-out sequences (default 1000)")
    parser.add_argument("--eval-every", type=int, default=None, help="updates between test evaluations")
    args = parser.parse_args(argv)
    if args.quick:
        args.T = args.T or 20
        args.steps = args.steps or 500
        args.hidden = args.hidden or 32
        args.models = args.models or "lstm,gru"
        args.test_size = min(args.test_size, 500)
    args.T, args.steps, args.hidden = args.T or 50, args.steps or 2000, args.hidden or 64
    args.models = args.models or ",".join(MODELS)
    args.eval_every = args.eval_every or max(1, args.steps // 30)
    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    for kind in kinds:
        if kind not in MODELS:
            parser.error(f"--models: unknown model {kind!r}; expected a comma-separated subset of {','.join(MODELS)}")
    if args.T < 2:
        parser.error(f"--T {args.T}: expected at least 2 steps (one marker in each half)")
    device = _common.setup(args)

    test = adding_batch(args.T, args.test_size, device)  # drawn once, before any model
    print(f"adding problem: T={args.T}, {args.steps} updates of {args.batch} sequences, hidden={args.hidden}, "
          f"Adam lr={args.lr}, clip={args.clip}; baseline MSE (always 1.0) = {BASELINE_MSE:.3f}")
    results = {kind: train_one(kind, args, device, test) for kind in kinds}

    print(f"\n{'model':<28} {'test MSE':>9} {'vs baseline':>12} {'time':>7}")
    for kind, res in results.items():
        print(f"{LABELS[kind]:<28} {res['final']:9.4f} {res['final'] / BASELINE_MSE:11.1%} {res['seconds']:6.1f}s")
    plot(results, args)

    if args.quick:
        for kind in ("lstm", "gru"):
            if kind in results:
                final = results[kind]["final"]
                _common.check(
                    math.isfinite(final) and final < QUICK_BAR * BASELINE_MSE,
                    f"{LABELS[kind]} test MSE {final:.4f} < {QUICK_BAR:.0%} of the 0.167 baseline "
                    f"({QUICK_BAR * BASELINE_MSE:.4f}) at T={args.T} after {args.steps} updates",
                )
    return results


if __name__ == "__main__":
    _common.cli(main)
