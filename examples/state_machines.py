"""The notes' state machines as RNNs: built by hand, then learned from data by BPTT.

Part 1, hand-built (6.390 notes, 000: C.2.8 and C.2.9). Both examples are linear
machines, f_s(z) = f_o(z) = z, written as ElmanRNNs with the weights the notes derive:

  Example 1, weighted average of the last three inputs, Y_t = 0.5 X_t + 0.3 X_{t-1}
  + 0.2 X_{t-2}. The state remembers (X_{t-2}, X_{t-1}, X_t): W^ss shifts it up one
  slot, W^sx writes X_t into the last slot, W^o = [0.2 0.3 0.5] weighs it. (The notes'
  Remark 14 prints W^o = [0.5 0.2 0.2], a typo: C.16-C.17 give [0.2 0.3 0.5] for this
  state order.)
  Example 2, bank and investments: s_t = (bank, invested), x_t = earnings; the bank
  keeps its money, gets 20 % of the investments and 80 % of the earnings, and loses
  $6000 a month; investments grow 1 % and get 20 % of the earnings; y_t = net worth.
  (C.23's text says 10 % but its equation and C.28 use 0.2; the matrices are used.)
Each machine runs on a short input sequence and prints x_t, s_t and y_t step by step.

Part 2, learned. Fresh ElmanRNNs of the same shapes, trained by BPTT on sequences
the hand-built machines produce:
  * Example 1 from (x, y) pairs alone. The learned weights differ from the notes':
    any change of state coordinates s' = P s gives another machine with the same
    outputs. What is recovered is the input-output behaviour, e.g. the impulse response
    h_k = W^o (W^ss)^k W^sx = (0.5, 0.3, 0.2, 0, 0, ...), printed for both.
    With the memory part fixed to the notes' design (W^ss, W^sx), BPTT recovers the
    readout W^o = [0.2 0.3 0.5] itself.
  * Example 2 from monthly statements that show both balances (targets y_t = s_t,
    W^o = I while training), four months at a time from random starting balances.
    Here the state's meaning is pinned down, and BPTT recovers W^ss, W^sx and W_0^ss;
    plugging in the notes' W^o = [1 1] reproduces net worth over two years. (From net
    worth alone the weights are again not identifiable, and the two nearly equal
    growth rates 1 and 1.01 make gradient descent crawl.) Money is in units of
    $10,000 while learning, so the numbers are O(1).

Part 3, the parity machine of the notes (001, C.1), learned by a GatedRNN and an
ElmanRNN from strings of length 1-20 and tested on length 200 (parity_machine.py).

--quick asserts: Example 1 test error (RMS, relative to the output's spread) < 1 % and
impulse response within 0.01, the learned readout within 0.005 of [0.2 0.3 0.5];
Example 2 weights within 0.01 of the notes' and net worth within 0.5 % over 24
months; GatedRNN parity accuracy >= 97 % on strings of length 200 (at every step and
at the end). A figure of the learned machines goes to --out-dir (state_machines.png).

  python examples/state_machines.py
  python examples/state_machines.py --quick      # the test-suite's run
  python examples/state_machines.py --out-dir docs/img   # redraw README's picture
"""

from __future__ import annotations

import math
from typing import Any

import _common
from parity_machine import PARITY_BAR, run_parity

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim

F = nn.functional
DT = "float64"  # linear machines: float64 keeps the recovered weights exact to many digits

EXAMPLE_1 = {  # Remark 14 (with W^o as C.16-C.17 give it)
    "W_sx": [[0.0], [0.0], [1.0]],
    "W_ss": [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
    "W_ss0": [0.0, 0.0, 0.0],
    "W_o": [[0.2, 0.3, 0.5]],
    "W_o0": [0.0],
}
EXAMPLE_2 = {  # Remark 16, in dollars
    "W_sx": [[0.8], [0.2]],
    "W_ss": [[1.0, 0.2], [0.0, 1.01]],
    "W_ss0": [-6000.0, 0.0],
    "W_o": [[1.0, 1.0]],
    "W_o0": [0.0],
}
UNIT = 10_000.0  # dollars per unit while learning Example 2


def linear_machine(weights: dict[str, Any], device: str) -> nn.ElmanRNN:
    """An ElmanRNN with f_s = f_o = identity and the given weights."""
    W_o = weights["W_o"]
    rnn = nn.ElmanRNN(len(weights["W_sx"][0]), len(weights["W_ss"]), len(W_o), f_s="identity",
                      f_o="identity", device=device, dtype=DT)
    rnn.load_state_dict(weights)
    return rnn


def vec(t: Tensor, digits: int = 3) -> str:
    """A vector as "[a b c]", a matrix row by row as "[a b; c d]"."""
    rows = t.reshape(1, -1) if t.ndim < 2 else t
    return "[" + "; ".join(" ".join(f"{v:.{digits}f}" for v in row) for row in rows.tolist()) + "]"


def show_weights(title: str, learned: dict[str, Any], notes: dict[str, Any], names: list[str]) -> None:
    print(f"  {title}")
    for name in names:
        print(f"    {name:6s} learned {vec(Tensor(learned[name]), 3):<44} notes {vec(Tensor(notes[name]), 3)}")


# ----------------------------------------------------------------------- part 1
def run_by_hand(device: str) -> None:
    print("=" * 78 + "\nPart 1: the notes' machines with hand-derived weights (f_s = f_o = identity)\n")
    rnn = linear_machine(EXAMPLE_1, device)
    X = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0]
    g, s = rnn(Tensor(X, device=device, dtype=DT).reshape(-1, 1, 1))
    print("Example 1 (C.2.8): Y_t = 0.5 X_t + 0.3 X_{t-1} + 0.2 X_{t-2}")
    print("  W^ss =", EXAMPLE_1["W_ss"], " W^sx =", EXAMPLE_1["W_sx"], " W^o =", EXAMPLE_1["W_o"])
    print(f"  {'t':>3} {'x_t':>6}   {'s_t = (X_t-2, X_t-1, X_t)':<28} {'y_t':>7}   by the formula")
    for t in range(len(X)):
        formula = 0.5 * X[t] + 0.3 * (X[t - 1] if t >= 1 else 0) + 0.2 * (X[t - 2] if t >= 2 else 0)
        print(f"  {t + 1:>3} {X[t]:>6.1f}   {vec(s[t], 1):<28} {g[t].item():>7.2f}   {formula:.2f}")

    rnn = linear_machine(EXAMPLE_2, device)
    earnings = [10000.0, 10000.0, 12000.0, 8000.0, 10000.0, 15000.0]
    g, s = rnn(Tensor(earnings, device=device, dtype=DT).reshape(-1, 1, 1))
    print("\nExample 2 (C.2.9): bank and investments, in dollars")
    print("  W^ss =", EXAMPLE_2["W_ss"], " W^sx =", EXAMPLE_2["W_sx"], " W_0^ss =", EXAMPLE_2["W_ss0"],
          " W^o =", EXAMPLE_2["W_o"])
    print(f"  {'t':>3} {'earned x_t':>11} {'bank s^B_t':>12} {'invested s^I_t':>15} {'net worth y_t':>14}")
    for t in range(len(earnings)):
        bank, invested = s[t, 0].tolist()
        print(f"  {t + 1:>3} {earnings[t]:>11,.0f} {bank:>12,.2f} {invested:>15,.2f} {g[t].item():>14,.2f}")


# ----------------------------------------------------------------------- part 2
def fit(rnn: nn.ElmanRNN, params: list[Tensor], batches: Any, steps: int, lr: float, decay: bool = False,
        jit: bool = True) -> list[float]:
    """Adam on the mean squared error (step size decaying to 0 if ``decay``); returns the losses.

    The step runs through tr.jit unless ``jit`` is False (--no-jit): recorded once, replayed after.
    """
    opt = optim.Adam(params, lr=lr)

    def train_step(x: Tensor, target: Tensor, s0: Tensor | None) -> Tensor:
        opt.zero_grad()
        g, _ = rnn(x, s0=s0)
        loss = F.mse_loss(g, target)  # the notes' squared L_elt, averaged (C.15-C.16 up to a constant)
        loss.backward()  # BPTT
        opt.step()  # runs eagerly at a replay too, so the decaying opt.lr is read at every step
        return loss

    train_step = tr.jit(train_step) if jit else train_step
    losses = []
    for step in range(steps):
        if decay:
            opt.lr = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        losses.append(train_step(*batches()).item())
    return losses


def ex1_batch(device: str, T: int = 10, B: int = 32) -> tuple[Tensor, Tensor, None]:
    notes = linear_machine(EXAMPLE_1, device)
    x = Tensor.randn(T, B, 1, device=device, dtype=DT)
    with tr.no_grad():
        y, _ = notes(x)
    return x, y, None


def impulse_response(rnn: nn.ElmanRNN, n: int) -> list[float]:
    """h_k = W^o (W^ss)^k W^sx, k = 0..n-1: the output k steps after a unit input."""
    with tr.no_grad():
        v, out = rnn.W_sx.detach(), []
        for _ in range(n):
            out.append((rnn.W_o.detach() @ v).item())
            v = rnn.W_ss.detach() @ v
    return out


def learn_example_1(device: str, steps: int, jit: bool = True) -> dict[str, Any]:
    print("\nExample 1 from (x, y) pairs alone: every weight learned, 32 random sequences of 10 steps a batch")
    rnn = nn.ElmanRNN(1, 3, 1, f_s="identity", f_o="identity", device=device, dtype=DT)
    losses = fit(rnn, list(rnn.parameters()), lambda: ex1_batch(device), steps, lr=0.03, jit=jit)
    show_weights("weights (any s' = P s gives the same outputs, so they need not match):",
                 rnn.state_dict(), EXAMPLE_1, ["W_ss", "W_sx", "W_o", "W_ss0", "W_o0"])
    learned_h, notes_h = impulse_response(rnn, 6), impulse_response(linear_machine(EXAMPLE_1, device), 6)
    print(f"  impulse response h_k = W^o (W^ss)^k W^sx:  learned {[round(h, 4) + 0.0 for h in learned_h]}")
    print(f"                                             notes   {[round(h, 4) + 0.0 for h in notes_h]}")
    x, y, _ = ex1_batch(device, T=100, B=64)
    with tr.no_grad():
        g, _ = rnn(x)
    rel_error = math.sqrt(F.mse_loss(g, y).item()) / math.sqrt(((y - y.mean()) ** 2).mean().item())
    h_error = max(abs(a - b) for a, b in zip(learned_h, notes_h, strict=True))
    print(f"  test on 64 fresh sequences of 100 steps: RMS error = {rel_error:.2e} of the output's spread")

    print("\nExample 1, readout only: W^ss and W^sx fixed to the notes' memory, W^o and W_0^o learned")
    rnn = linear_machine(EXAMPLE_1, device)
    nn.init.zeros_(rnn.W_o)
    readout_losses = fit(rnn, [rnn.W_o, rnn.W_o0], lambda: ex1_batch(device), steps // 4, lr=0.03, jit=jit)
    show_weights("the state now means (X_t-2, X_t-1, X_t), so W^o is recovered:", rnn.state_dict(), EXAMPLE_1,
                 ["W_o", "W_o0"])
    W_o_error = (rnn.W_o.detach() - Tensor(EXAMPLE_1["W_o"], device=device, dtype=DT)).abs().max().item()
    return {"losses": losses, "readout_losses": readout_losses, "rel_error": rel_error, "h_error": h_error,
            "W_o_error": W_o_error}


def learn_example_2(device: str, steps: int, jit: bool = True) -> dict[str, Any]:
    print("\nExample 2 from statements showing both balances: W^ss, W^sx, W_0^ss learned, W^o = I")
    scaled = {**EXAMPLE_2, "W_ss0": [v / UNIT for v in EXAMPLE_2["W_ss0"]]}
    notes = linear_machine(scaled, device)
    notes_states = linear_machine({**scaled, "W_o": [[1.0, 0.0], [0.0, 1.0]], "W_o0": [0.0, 0.0]}, device)

    def batch(T: int = 4, B: int = 32) -> tuple[Tensor, Tensor, Tensor]:
        x = Tensor.uniform(T, B, 1, low=0.0, high=2.0, device=device, dtype=DT)  # $0 - $20,000 a month
        s0 = Tensor.uniform(B, 2, low=-2.0, high=2.0, device=device, dtype=DT)  # starting balances
        with tr.no_grad():
            _, s = notes_states(x, s0=s0)
        return x, s, s0

    rnn = nn.ElmanRNN(1, 2, 2, f_s="identity", f_o="identity", device=device, dtype=DT)
    rnn.load_state_dict({**rnn.state_dict(), "W_o": [[1.0, 0.0], [0.0, 1.0]], "W_o0": [0.0, 0.0]})
    losses = fit(rnn, [rnn.W_ss, rnn.W_sx, rnn.W_ss0], batch, steps, lr=0.05, decay=True, jit=jit)
    learned = rnn.state_dict()
    learned_dollars = {**learned, "W_ss0": learned["W_ss0"] * UNIT}
    show_weights("weights (W_0^ss back in dollars):", learned_dollars, EXAMPLE_2, ["W_ss", "W_sx", "W_ss0"])
    W_error = max(
        (Tensor(learned[k]) - Tensor(scaled[k])).abs().max().item() for k in ("W_ss", "W_sx", "W_ss0")
    )
    # Net worth over two years with the learned dynamics and the notes' readout W^o = [1 1].
    machine = linear_machine({**scaled, **{k: learned[k] for k in ("W_ss", "W_sx", "W_ss0")}}, device)
    x = Tensor.uniform(24, 64, 1, low=0.0, high=2.0, device=device, dtype=DT)
    with tr.no_grad():
        y_notes, _ = notes(x)
        y_learned, _ = machine(x)
    worth_error = ((y_learned - y_notes).abs().max() / y_notes.abs().max()).item()
    print(f"  net worth over 24 months, 64 fresh earnings histories: largest error {worth_error:.2e} "
          f"of the largest net worth")
    return {"losses": losses, "W_error": W_error, "worth_error": worth_error,
            "worth": (y_notes[:, 0, 0].tolist(), y_learned[:, 0, 0].tolist())}


def plot(ex1: dict[str, Any], ex2: dict[str, Any], parity: dict[str, Any], out_dir: str) -> str | None:
    plt = _common.pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(12.5, 3.8))
    ax = axes[0]
    ax.semilogy(ex1["losses"], label="Example 1, all weights")
    ax.semilogy(ex1["readout_losses"], label="Example 1, readout only")
    ax.semilogy(ex2["losses"], label="Example 2, both balances")
    ax.set_xlabel("training step")
    ax.set_ylabel("mean squared error")
    ax.set_title("learning the notes' linear machines")
    ax.legend(fontsize=8)
    ax = axes[1]
    notes_worth, learned_worth = ex2["worth"]
    months = list(range(1, len(notes_worth) + 1))
    ax.plot(months, [v * UNIT for v in notes_worth], "k-", lw=3, alpha=0.35, label="notes' weights")
    ax.plot(months, [v * UNIT for v in learned_worth], "r--", label="learned weights")
    ax.set_xlabel("month t")
    ax.set_ylabel("net worth y_t ($)")
    ax.set_title("Example 2: net worth, 24 fresh months")
    ax.legend(fontsize=8)
    ax = axes[2]
    for model, result in parity.items():
        name = "GatedRNN" if model == "gated" else "ElmanRNN"
        steps_right, end_right = result["accuracy"][200]
        ax.semilogy(result["losses"], label=f"{name}: {steps_right:.0%} right on length-200 strings")
    ax.set_xlabel("training step (strings of length 1-20)")
    ax.set_ylabel("logistic loss per step")
    ax.set_title("parity of zeros, learned")
    ax.legend(fontsize=8)
    return _common.save_figure(fig, out_dir, "state_machines.png")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = _common.make_parser(__doc__, "state_machines")
    parser.add_argument("--steps", type=int, default=400, help="training steps per learned machine (default 400; Example 1 from outputs gets twice as many)")
    parser.add_argument("--parity-model", choices=["gated", "elman", "both"], default="both",
                        help="which RNN learns parity (default both; --quick: gated)")
    args = parser.parse_args(argv)
    device = _common.setup(args)
    run_by_hand(device)
    print("\n" + "=" * 78 + "\nPart 2: the same machines learned from data by BPTT")
    ex1 = learn_example_1(device, 2 * args.steps, not args.no_jit)  # 10-step sequences, 9 + 3 + 3 + 1 weights
    ex2 = learn_example_2(device, args.steps, not args.no_jit)
    models = {"both": ["gated", "elman"], "gated": ["gated"], "elman": ["elman"]}[args.parity_model]
    if args.quick and args.parity_model == "both":
        models = ["gated"]
    parity = run_parity(device, args.steps, args.seed, models, not args.no_jit)
    plot(ex1, ex2, parity, args.out_dir)
    if args.quick:
        _common.check(ex1["rel_error"] < 0.01, f"Example 1 learned: test RMS error {ex1['rel_error']:.1e} < 1%")
        _common.check(ex1["h_error"] < 0.01, f"Example 1 impulse response within {ex1['h_error']:.1e} < 0.01")
        _common.check(ex1["W_o_error"] < 0.005, f"Example 1 readout W^o within {ex1['W_o_error']:.1e} < 0.005")
        _common.check(ex2["W_error"] < 0.01, f"Example 2 weights within {ex2['W_error']:.1e} < 0.01 of the notes'")
        _common.check(ex2["worth_error"] < 0.005, f"Example 2 net worth error {ex2['worth_error']:.1e} < 0.5%")
        for model in models:
            all_steps, last = parity[model]["accuracy"][200]
            _common.check(min(all_steps, last) >= PARITY_BAR,
                          f"{model} parity accuracy on length-200 strings: {all_steps:.1%} of steps, {last:.1%} "
                          f"at the end >= {PARITY_BAR:.0%}")
    return {"example_1": ex1, "example_2": ex2, "parity": parity}


if __name__ == "__main__":
    _common.cli(main)
