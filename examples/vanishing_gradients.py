"""Gradients through time, as a picture: how much of dL_T/ds_T is left t steps back?

Back-propagation through time sends the gradient of a loss at the last step T back to
an earlier state s_t through the product of Jacobians

    dL_T/ds_t = (ds_{t+1}/ds_t)^T ... (ds_T/ds_{T-1})^T dL_T/ds_T      (6.390 notes C.46-C.47)

which "will either grow or shrink exponentially" with T - t (notes C.6). This example
measures that norm on the tape, for five recurrent networks:
  tanh   a plain tanh RNN (PyTorch's default initialisation),
  irnn   a ReLU RNN whose W_ss starts as the identity and whose biases start at 0
         (lecture slides 003, "Trick #1: Activation Functions" and "Trick #2: Parameter
         Initialization"; the IRNN of Le, Jaitly & Hinton 2015),
  gated  the notes' GatedRNN (C.48-C.49, "Simple gated recurrent networks"),
  lstm   an LSTM (C.6.2; slides' "Trick #3: Gated Cells"),
  gru    a GRU,
once at initialisation and once after training each on the adding problem
(examples/adding_problem.py) for the same number of updates.

How the gradients are read: the network is run one time step at a time, so each
state s_t is a tensor of its own on the tape; `s_t.register_hook(fn)` asks the tape to
hand `fn` the gradient dL_T/ds_t when backward reaches s_t. Nothing is recomputed by
hand. (An LSTM's state is the pair (h_t, c_t); its norm is that of both gradients.)
L_T is the squared error of the prediction after the last step, summed over a batch of
sequences, and the curve is the batch mean of ||dL_T/ds_t||, divided by its value at
t = T so that all models start at 1.

What to look for: at initialisation the tanh RNN's gradient dies exponentially: every
step multiplies it by W_ss^T diag(1 - s_t^2); the default draw U(-1/sqrt(m), 1/sqrt(m))
gives W_ss a spectral radius of about 1/sqrt(3) ~ 0.58, and tanh' <= 1 only shrinks the
product further. The gated models
start almost as badly, because their gates begin half open (sigmoid(~0) = 0.5). The
IRNN starts near 1: its Jacobians are diag(relu') I. After training, the gated models
have learned to keep their gates (LSTM: the forget gate) open on the units that store
the marked numbers, and their gradients reach far back, while the tanh RNN's still
vanish. The picture is saved as vanishing_gradients.png (log-scale y).

Examples:
  python examples/vanishing_gradients.py                  # T=50, 800 updates per model
  python examples/vanishing_gradients.py --T 100 --steps 2000
  python examples/vanishing_gradients.py --quick          # the test-suite's check
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import _common
from adding_problem import BASELINE_MSE, adding_batch, recurrent_layer

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.nn import functional as F

MODELS = ("tanh", "irnn", "gated", "lstm", "gru")
LABELS = {
    "tanh": "tanh RNN",
    "irnn": "IRNN (ReLU + identity init)",
    "gated": "GatedRNN (notes C.48-C.49)",
    "lstm": "LSTM",
    "gru": "GRU",
}
# --quick checks, at T=20 after 450 updates (seeds 0-3 gave: IRNN/tanh at init 2e4-1e5;
# trained LSTM and GRU shares 0.32-0.91, 30-9000 x the tanh RNN's):
# at initialisation the IRNN keeps more than QUICK_INIT_FACTOR times the tanh RNN's
# share of the gradient T-1 steps back; after training, the LSTM and the GRU keep more
# than QUICK_TRAINED_SHARE of it, and more than QUICK_TRAINED_FACTOR times the tanh RNN's.
QUICK_INIT_FACTOR = 1e3
QUICK_TRAINED_SHARE = 0.05
QUICK_TRAINED_FACTOR = 10.0


class Probe(nn.Module):
    """A recurrent layer plus a read-out ŷ = w^T s_T + b, runnable whole or step by step.

    ``forward(x)`` runs the whole sequence at once (used for training);
    ``forward_steps(x)`` calls the same layer on one time step at a time, so every
    state s_t is its own tensor on the tape, and returns the prediction and the states.
    Both compute the same function with the same parameters.
    """

    def __init__(self, kind: str, hidden: int, device: str) -> None:
        super().__init__()
        self.kind = kind
        if kind == "gated":
            # The notes' model reads out with its own W_o, W_o0 (f_o = identity).
            self.rnn = nn.GatedRNN(2, hidden, 1, f_s="tanh", f_o="identity", device=device)
        else:  # the same layers as examples/adding_problem.py (IRNN: W_ss = I, biases 0)
            self.rnn = recurrent_layer(kind, hidden, device)
            self.read_out = nn.Linear(hidden, 1, device=device)

    def forward(self, x: Tensor) -> Tensor:
        """x (T, B, 2) -> predictions ŷ (B,) after the last step."""
        if self.kind == "gated":
            g, _ = self.rnn(x)
            return g[-1].reshape(-1)
        _, h_n = self.rnn(x)
        if self.kind == "lstm":
            h_n = h_n[0]
        return self.read_out(h_n[-1]).reshape(-1)

    def forward_steps(self, x: Tensor) -> tuple[Tensor, list[tuple[Tensor, ...]]]:
        """The same prediction, one step per call; returns ŷ (B,) and each step's state.

        Each state is a tuple of tensors ((h_t,) or, for the LSTM, (h_t, c_t)); every
        later use of the state (the next step, the read-out) goes through exactly
        these tensors, so the gradient the tape computes for them is dL_T/ds_t.
        """
        T = x.shape[0]
        states: list[tuple[Tensor, ...]] = []
        state: Any = None
        g = None
        for t in range(T):
            x_t = x[t : t + 1]  # (1, B, 2): a sequence of one step
            if self.kind == "gated":
                g, s = self.rnn(x_t, s0=None if state is None else state[0][0])
                state = (s,)  # s: (1, B, m) holding s_t
            elif self.kind == "lstm":
                _, (h, c) = self.rnn(x_t, state)
                state = (h, c)
            else:
                _, h = self.rnn(x_t, None if state is None else state[0])
                state = (h,)
            states.append(state)
        if self.kind == "gated":
            return g[-1].reshape(-1), states
        return self.read_out(state[0][-1]).reshape(-1), states


def gradient_profile(model: Probe, x: Tensor, y: Tensor) -> list[float]:
    """Batch-mean ||dL_T/ds_t|| for t = T, T-1, ..., 1 (index = T - t), read off the tape.

    A hook on each state tensor records the gradient the tape hands it during backward.
    """
    pred, states = model.forward_steps(x)
    B = x.shape[1]
    squared = [Tensor.zeros(B, device=x.device) for _ in states]  # ||dL_T/ds_t||^2 per sequence

    def recorder(t: int) -> Any:
        def hook(grad: Tensor) -> None:
            squared[t] = squared[t] + (grad.reshape(B, -1) ** 2).sum(axis=1)

        return hook

    for t, state in enumerate(states):
        for part in state:
            part.register_hook(recorder(t))
    loss_T = ((pred - y) ** 2).sum()  # L_T, summed so each sequence's gradient is its own
    loss_T.backward()
    model.zero_grad()  # the parameter gradients of this probe are not wanted
    norms = [sq.sqrt().mean().item() for sq in squared]
    return norms[::-1]


def train(model: Probe, args: argparse.Namespace, device: str, desc: str) -> float:
    """Adam on the adding problem (whole-sequence forward); returns the final batch loss."""
    params = list(model.parameters())
    opt = optim.Adam(params, lr=args.lr)
    loss = None

    def gradients(x: Tensor, y: Tensor) -> Tensor:  # recorded once by tr.jit, then replayed
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        return loss

    gradients = _common.maybe_jit(gradients, args)
    with _common.progress(args.steps, desc=desc) as bar:
        for step in range(1, args.steps + 1):
            x, y = adding_batch(args.T, args.batch, device)
            loss = gradients(x, y)
            nn.utils.clip_grad_norm_(params, args.clip)  # a Python float: outside the jitted step
            opt.step()
            bar.update()
            if step % 20 == 0:
                bar.set_postfix(loss=loss.item())
    return float("nan") if loss is None else loss.item()


def relative(norms: list[float]) -> list[float]:
    """Norms divided by the one at T - t = 0 (tiny floor so a log axis can draw zeros)."""
    top = norms[0] if norms[0] > 0 else 1.0
    return [max(n / top, 1e-30) for n in norms]


def plot(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str | None:
    plt = _common.pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
    panels = (("init", "at initialisation"), ("trained", f"after {args.steps} updates on the adding problem"))
    for ax, (key, title) in zip(axes, panels, strict=True):
        for kind, res in results.items():
            label = LABELS[kind]
            if key == "trained":
                label += f" (test MSE {res['test_mse']:.3f})"
            ax.plot(range(args.T), relative(res[key]), label=label, linewidth=1.8)
        ax.set_yscale("log")
        ax.set_xlabel("T - t  (steps back from the loss)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7.5, loc="lower left")
    axes[0].set_ylabel("||dL_T/ds_t|| / ||dL_T/ds_T||  (log)")
    axes[0].set_ylim(bottom=max(1e-16, axes[0].get_ylim()[0]))
    fig.suptitle(f"Vanishing gradients through time (T = {args.T}; notes C.46-C.47)", fontsize=11)
    return _common.save_figure(fig, args.out_dir, "vanishing_gradients.png")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = _common.make_parser(__doc__, "vanishing_gradients")
    parser.add_argument("--T", type=int, default=None, help="sequence length (default 50; --quick: 20)")
    parser.add_argument("--steps", type=int, default=None,
                        help="adding-problem updates per model before the second picture (default 800; --quick: 450)")
    parser.add_argument("--batch", type=int, default=32, help="sequences per update and per measurement (default 32)")
    parser.add_argument("--hidden", type=int, default=None, help="state size (default 64; --quick: 32)")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam step size (default 1e-2)")
    parser.add_argument("--clip", type=float, default=1.0, help="clip the gradient norm to this (default 1.0)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated subset of {','.join(MODELS)} (default: all)")
    args = parser.parse_args(argv)
    args.T = args.T or (20 if args.quick else 50)
    args.steps = args.steps if args.steps is not None else (450 if args.quick else 800)
    args.hidden = args.hidden or (32 if args.quick else 64)
    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    for kind in kinds:
        if kind not in MODELS:
            parser.error(f"--models: unknown model {kind!r}; expected a comma-separated subset of {','.join(MODELS)}")
    if args.T < 2:
        parser.error(f"--T {args.T}: expected at least 2 steps")
    device = _common.setup(args)

    probe_x, probe_y = adding_batch(args.T, args.batch, device)  # one fixed batch for every measurement
    test_x, test_y = adding_batch(args.T, 500, device)
    results: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        tr.manual_seed(args.seed)  # every model trains on the same batches
        model = Probe(kind, args.hidden, device)
        start = time.perf_counter()
        init = gradient_profile(model, probe_x, probe_y)
        train(model, args, device, desc=f"{kind:>5}")
        trained = gradient_profile(model, probe_x, probe_y)
        with tr.no_grad():
            test_mse = F.mse_loss(model(test_x), test_y).item()
        results[kind] = {"init": init, "trained": trained, "test_mse": test_mse,
                         "seconds": time.perf_counter() - start}

    far = args.T - 1
    print(f"\nshare of the gradient left T-t = {far} steps back, ||dL_T/ds_1|| / ||dL_T/ds_T||:")
    print(f"{'model':<30} {'at init':>10} {'trained':>10} {'test MSE':>9}   (baseline {BASELINE_MSE:.3f})")
    for kind, res in results.items():
        print(f"{LABELS[kind]:<30} {relative(res['init'])[far]:10.2e} {relative(res['trained'])[far]:10.2e} "
              f"{res['test_mse']:9.4f}")
    plot(results, args)

    if args.quick:
        def share(kind: str, key: str) -> float:
            return relative(results[kind][key])[far]

        if "tanh" in results and "irnn" in results:
            ratio = share("irnn", "init") / share("tanh", "init")
            _common.check(math.isfinite(ratio) and ratio > QUICK_INIT_FACTOR,
                          f"at initialisation the IRNN keeps {ratio:.1e} x the tanh RNN's share of the gradient "
                          f"{far} steps back (bar: > {QUICK_INIT_FACTOR:.0e})")
        for kind in ("lstm", "gru"):
            if "tanh" in results and kind in results:
                kept = share(kind, "trained")
                _common.check(kept > QUICK_TRAINED_SHARE,
                              f"after training the {LABELS[kind]} keeps {kept:.2f} of its last-step gradient "
                              f"{far} steps back (bar: > {QUICK_TRAINED_SHARE})")
                ratio = kept / share("tanh", "trained")
                _common.check(math.isfinite(ratio) and ratio > QUICK_TRAINED_FACTOR,
                              f"after training the {LABELS[kind]} keeps {ratio:.1e} x the tanh RNN's share of the "
                              f"gradient {far} steps back (bar: > {QUICK_TRAINED_FACTOR:.0f})")
                _common.check(results[kind]["test_mse"] < 0.5 * BASELINE_MSE,
                              f"the {LABELS[kind]} learned the adding problem: test MSE "
                              f"{results[kind]['test_mse']:.4f} < half the {BASELINE_MSE:.3f} baseline")
    return results


if __name__ == "__main__":
    _common.cli(main)
