"""Back-propagation through time, twice: from the tape, and by hand from the notes.

A 3-step ElmanRNN (6.390 notes C.28-C.31) runs on one short sequence in float64.
Its gradients are computed two ways and printed side by side:

  1. from the tape: loss.backward() walks the unrolled network back to front;
  2. by hand: the notes' backward recursion written out step by step with plain
     matrix products (C.39-C.45, plus the offsets W_0^ss and W_0^o of the notes'
     study question), using Tensors as ordinary arrays under tr.no_grad().

The notes' column-vector layout is kept in part 2: x_t is (l, 1), s_t is (m, 1).
Two per-element losses are shown, both with dL_t/dz^2_t = g_t - y_t, the case the
notes assume before C.45:
  * squared error  L_t = 1/2 ||g_t - y_t||^2 with f_o = identity;
  * softmax + NLL   L_t = -sum_k y_t,k log g_t,k with f_o = softmax, y_t one-hot.
The largest absolute difference between the two answers is printed; --quick asserts
it is below 1e-10.

  python examples/bptt_by_hand.py            # both losses, every step printed
  python examples/bptt_by_hand.py --quick    # the test-suite's run (asserts agreement)
"""

from __future__ import annotations

import _common

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

L_IN, M_STATE, N_OUT, STEPS = 2, 3, 2, 3  # l, m, n of the notes (C.7-C.9), and T = 3
TOLERANCE = 1e-10


def fmt(t: Tensor) -> str:
    """A vector as a compact list for printing."""
    return "[" + ", ".join(f"{v: .6f}" for v in t.reshape(-1).tolist()) + "]"


def as_rows(t: Tensor) -> list[str]:
    """A matrix (or vector, as one row) as aligned text rows."""
    rows = t.reshape(1, -1) if t.ndim == 1 else t
    return ["[" + " ".join(f"{v: .6f}" for v in row) + "]" for row in rows.tolist()]


def column(t: Tensor) -> Tensor:
    """A vector as an (k, 1) column, the notes' layout."""
    return t.reshape(-1, 1)


def by_hand(rnn: nn.ElmanRNN, x: Tensor, y: Tensor, loss: str, verbose: bool) -> dict[str, Tensor]:
    """The notes' BPTT for one sequence, written out with matrix products.

    x: (T, l) inputs, y: (T, n) targets. Returns the gradients of L_seq = sum_t L_t
    for W_sx, W_ss, W_ss0, W_o, W_o0 (in the layer's shapes) and for s_0.
    """
    with tr.no_grad():
        W_sx, W_ss, W_ss0 = rnn.W_sx.detach(), rnn.W_ss.detach(), column(rnn.W_ss0.detach())
        W_o, W_o0 = rnn.W_o.detach(), column(rnn.W_o0.detach())
        T = x.shape[0]

        # ---- forward pass, keeping what the backward pass needs (C.28-C.31)
        s = [column(Tensor.zeros(M_STATE, device=x.device, dtype=x.dtype))]  # s_0 = 0
        xs, gs, ys = [], [], []
        for t in range(1, T + 1):
            x_t, y_t = column(x[t - 1]), column(y[t - 1])
            z1_t = W_sx @ x_t + W_ss @ s[t - 1] + W_ss0  # (C.28)
            s_t = z1_t.tanh()  # (C.29) f_s = tanh
            z2_t = W_o @ s_t + W_o0  # (C.30)
            g_t = z2_t if loss == "mse" else z2_t.softmax(axis=0)  # (C.31) f_o
            s.append(s_t)
            xs.append(x_t)
            ys.append(y_t)
            gs.append(g_t)

        # ---- backward pass, t = T .. 1
        grad_W_sx, grad_W_ss, grad_W_ss0 = W_sx.zeros_like(), W_ss.zeros_like(), W_ss0.zeros_like()
        grad_W_o, grad_W_o0 = W_o.zeros_like(), W_o0.zeros_like()
        delta = s[T].zeros_like()  # delta^{s_T} = dF_T/ds_T = 0: no loss after the last step (C.33-C.34)
        for t in range(T, 0, -1):
            s_t, s_prev, x_t = s[t], s[t - 1], xs[t - 1]
            dL_dz2 = gs[t - 1] - ys[t - 1]  # dL_t/dz^2_t = g_t - y_t (the assumption before C.45)
            dL_ds = W_o.T @ dL_dz2  # dL_t/ds_t = dz^2_t/ds_t dL_t/dz^2_t = W^oT (g_t - y_t)   (C.39)
            dF_ds = dL_ds + delta  # dF_{t-1}/ds_t = dL_t/ds_t + delta^{s_t}   (bracket of C.38, C.41)
            ds_dz1 = 1 - s_t * s_t  # ds_t/dz^1_t: diagonal f_s'(z^1_t) = 1 - tanh^2, kept as a vector (C.40)
            dF_dz1 = ds_dz1 * dF_ds  # ds_t/dz^1_t dF_{t-1}/ds_t: the common factor of C.42 and C.43
            grad_W_ss = grad_W_ss + dF_dz1 @ s_prev.T  # (C.42): dz^1_t/dW^ss picks s_{t-1}
            grad_W_sx = grad_W_sx + dF_dz1 @ x_t.T  # (C.43): dz^1_t/dW^sx picks x_t
            grad_W_ss0 = grad_W_ss0 + dF_dz1  # offset W_0^ss: dz^1_t/dW_0^ss = I (study question)
            grad_W_o = grad_W_o + dL_dz2 @ s_t.T  # (C.45): (g_t - y_t) s_t^T
            grad_W_o0 = grad_W_o0 + dL_dz2  # offset W_0^o: dz^2_t/dW_0^o = I (study question)
            new_delta = W_ss.T @ dF_dz1  # delta^{s_{t-1}} = W^ssT ds_t/dz^1_t (...)   (C.41)
            if verbose:
                print(f"  t={t}: {'g_t - y_t':<16}= {fmt(dL_dz2)}")
                print(f"       {f'delta^s_{t}':<16}= {fmt(delta)}   (blame on s_{t} for losses after step {t})")
                print(f"       {f'dF_{t - 1}/ds_{t}':<16}= {fmt(dF_ds)}   (W^oT (g_t - y_t) + delta^s_{t})")
                print(f"       {f'delta^s_{t - 1}':<16}= {fmt(new_delta)}   (C.41)")
            delta = new_delta
        return {
            "W_sx": grad_W_sx, "W_ss": grad_W_ss, "W_ss0": grad_W_ss0.reshape(-1),
            "W_o": grad_W_o, "W_o0": grad_W_o0.reshape(-1), "s0": delta.reshape(-1),
        }


def from_tape(rnn: nn.ElmanRNN, x: Tensor, y: Tensor, loss: str) -> dict[str, Tensor]:
    """The same gradients from the tape: one forward through the layer, one backward."""
    rnn.zero_grad()
    s0 = Tensor.zeros(1, M_STATE, device=x.device, dtype=x.dtype, requires_grad=True)
    g, _ = rnn(x.reshape(x.shape[0], 1, L_IN), s0=s0)  # batch of one: (T, 1, l)
    g = g.reshape(x.shape[0], N_OUT)
    if loss == "mse":
        L_seq = 0.5 * ((g - y) ** 2).sum()  # sum_t 1/2 ||g_t - y_t||^2   (C.15)
    else:
        L_seq = -(y * g.log()).sum()  # sum_t NLL(g_t, y_t), g_t = softmax(z^2_t)   (C.15)
    L_seq.backward()
    grads = {name: p.grad for name, p in rnn.named_parameters()}
    grads["s0"] = s0.grad.reshape(-1)
    return grads


def compare(loss: str, device: str, verbose: bool) -> float:
    f_o = "identity" if loss == "mse" else "softmax"
    rnn = nn.ElmanRNN(L_IN, M_STATE, N_OUT, f_s="tanh", f_o=f_o, device=device, dtype="float64")
    x = Tensor.randn(STEPS, L_IN, device=device, dtype="float64")
    if loss == "mse":
        y = Tensor.randn(STEPS, N_OUT, device=device, dtype="float64")
    else:  # one-hot class targets
        y = Tensor.eye(N_OUT, device=device, dtype="float64")[Tensor([1, 0, 1], device=device)]
    title = "squared error, f_o = identity" if loss == "mse" else "softmax + NLL, f_o = softmax"
    print(f"\n=== {title}: T={STEPS}, l={L_IN}, m={M_STATE}, n={N_OUT}, float64")
    if verbose:
        print("by hand, backward pass (6.390 notes C.39-C.45):")
    hand = by_hand(rnn, x, y, loss, verbose)
    tape = from_tape(rnn, x, y, loss)
    worst = 0.0
    print("\ngradients of L_seq: from the tape | by hand (notes), and the largest difference")
    for name in ("W_sx", "W_ss", "W_ss0", "W_o", "W_o0", "s0"):
        diff = (tape[name] - hand[name]).abs().max().item()
        worst = max(worst, diff)
        a, b = as_rows(tape[name]), as_rows(hand[name])
        print(f"dL/d{name} {tuple(tape[name].shape)}: max |diff| = {diff:.1e}")
        for row_a, row_b in zip(a, b, strict=True):
            print(f"    {row_a}  |  {row_b}")
    print(f"largest difference: {worst:.3e}")
    return worst


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = _common.make_parser(__doc__, "bptt_by_hand", jit=False)
    parser.add_argument("--loss", choices=["mse", "nll", "both"], default="both", help="which per-element loss")
    args = parser.parse_args(argv)
    device = _common.setup(args)
    losses = ["mse", "nll"] if args.loss == "both" else [args.loss]
    results = {loss: compare(loss, device, verbose=True) for loss in losses}
    if args.quick:
        for loss, worst in results.items():
            _common.check(worst < TOLERANCE, f"{loss}: tape and hand-written BPTT agree to {worst:.1e} < {TOLERANCE:g}")
    return results


if __name__ == "__main__":
    _common.cli(main)
