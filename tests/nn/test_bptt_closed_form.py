"""The tape's BPTT equals the notes' closed form.

Back-propagation through time is written out here as the 6.390 notes give it (Appendix C,
Section C.5), in plain NumPy loops with column vectors, one sequence at a time:

* forward C.28-C.31;
* the future-loss recursion C.41, starting from δ^{s_n} = 0 (C.34);
* the weight gradients C.42-C.45, and the offsets of the notes' study question.

and compared with what the tape of ``nn.ElmanRNN`` computes, in float64, to 1e-10.
A second test follows the two-step scalar derivation of the other lecture (seed 004)
term by term.

Losses (L_elt of C.15; L_seq sums over t, and a batch sums over its sequences):
* squared: L_elt = ½ ||g_t - y_t||² with f_o = identity;
* NLL: L_elt = -Σ_k y_tk log g_tk with f_o = softmax and y_t one-hot.
Both give ∂L_t/∂z^2_t = g_t - y_t, the notes' assumption above C.45.

The offsets (study question after C.45), derived the same way as C.42-C.45 with
∂z^1_t/∂W_0^ss = I and ∂z^2_t/∂W_0^o = I:

    dL_seq/dW_0^ss = Σ_t ∂s_t/∂z^1_t ∂F_{t-1}/∂s_t = Σ_t f_s'(z^1_t) * (W^oT (g_t - y_t) + δ^{s_t})
    dL_seq/dW_0^o  = Σ_t ∂L_t/∂z^2_t                 = Σ_t (g_t - y_t)

The same quantities also give the gradients the tape reports for s_0 and for x_t:

    dL_seq/ds_0 = δ^{s_0}       (C.41 run one step further, to t = 1)
    dL_seq/dx_t = W^sxT [f_s'(z^1_t) * ∂F_{t-1}/∂s_t]
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn

L_IN, M, N_OUT = 3, 4, 5  # l, m, n (the notes' v)

F_S = {  # f_s and its derivative f_s'(z^1) (the diagonal of ∂s_t/∂z^1_t, C.40)
    "tanh": (np.tanh, lambda z1: 1.0 - np.tanh(z1) ** 2),
    "relu": (lambda z1: np.maximum(z1, 0.0), lambda z1: (z1 > 0).astype(np.float64)),
    "identity": (lambda z1: z1, lambda z1: np.ones_like(z1)),
}


def _softmax(z2: np.ndarray) -> np.ndarray:
    e = np.exp(z2 - z2.max())
    return e / e.sum()


F_O = {"squared": lambda z2: z2, "nll": _softmax}  # f_o for each loss


def notes_bptt(W: dict, xs: np.ndarray, ys: np.ndarray, s_0: np.ndarray, f_s: str, loss: str) -> tuple:
    """BPTT for one sequence exactly as the notes write it: column vectors, loops over t.

    xs (n, l, 1), ys (n, v, 1), s_0 (m, 1). Returns (L_seq, gradients dict, g, s).
    """
    act, act_prime = F_S[f_s]
    f_o = F_O[loss]
    n = xs.shape[0]
    # (3) forward pass, C.28-C.31. s[t] is s_t for t = 0..n.
    s, z1, g = [s_0], [None], [None]
    for t in range(1, n + 1):
        z1.append(W["W_sx"] @ xs[t - 1] + W["W_ss"] @ s[t - 1] + W["W_ss0"])  # C.28
        s.append(act(z1[t]))  # C.29
        z2_t = W["W_o"] @ s[t] + W["W_o0"]  # C.30
        g.append(f_o(z2_t))  # C.31
    if loss == "squared":
        L_seq = sum(0.5 * float(np.sum((g[t] - ys[t - 1]) ** 2)) for t in range(1, n + 1))
    else:
        L_seq = sum(-float(np.sum(ys[t - 1] * np.log(g[t]))) for t in range(1, n + 1))

    # (4) backward pass. δ^{s_n} = 0 (C.34: F_n = 0), then C.41 from t = n down to 1.
    grads = {k: np.zeros_like(v) for k, v in W.items()}
    grad_x = np.zeros_like(xs)
    delta = np.zeros((M, 1))  # δ^{s_t}
    for t in range(n, 0, -1):
        dL_dz2 = g[t] - ys[t - 1]  # ∂L_t/∂z^2_t = g_t - y_t   (above C.45)
        dF_ds = W["W_o"].T @ dL_dz2 + delta  # ∂F_{t-1}/∂s_t = W^oT ∂L_t/∂z^2_t + δ^{s_t}   (C.39, C.41)
        dF_dz1 = act_prime(z1[t]) * dF_ds  # ∂s_t/∂z^1_t ∂F_{t-1}/∂s_t (diagonal, C.40)
        grads["W_ss"] += dF_dz1 @ s[t - 1].T  # C.42: ∂z^1_t/∂W^ss brings s_{t-1}
        grads["W_sx"] += dF_dz1 @ xs[t - 1].T  # C.43: ∂z^1_t/∂W^sx brings x_t
        grads["W_o"] += dL_dz2 @ s[t].T  # C.45: (g_t - y_t) s_t^T
        grads["W_ss0"] += dF_dz1  # offset of z^1 (study question)
        grads["W_o0"] += dL_dz2  # offset of z^2 (study question)
        grad_x[t - 1] = W["W_sx"].T @ dF_dz1
        delta = W["W_ss"].T @ dF_dz1  # C.41: δ^{s_{t-1}} = W^ssT f_s'(z^1_t) * (...)
    grads["s0"] = delta  # δ^{s_0}
    grads["x"] = grad_x
    return L_seq, grads, np.stack(g[1:]), np.stack(s[1:])


def _random_problem(rng: np.random.Generator, T: int, B: int, loss: str) -> tuple:
    W = {
        "W_sx": rng.normal(0, 0.6, (M, L_IN)),
        "W_ss": rng.normal(0, 0.4 / np.sqrt(M), (M, M)),  # contracting, so T = 50 stays tame
        "W_ss0": rng.normal(0, 0.3, (M, 1)),
        "W_o": rng.normal(0, 0.6, (N_OUT, M)),
        "W_o0": rng.normal(0, 0.3, (N_OUT, 1)),
    }
    x = rng.normal(0, 1.0, (T, B, L_IN))
    s0 = rng.normal(0, 0.5, (B, M))
    if loss == "squared":
        y = rng.normal(0, 1.0, (T, B, N_OUT))
    else:
        y = np.eye(N_OUT)[rng.integers(0, N_OUT, (T, B))]
    return W, x, s0, y


def _tape_loss(g: Tensor, y: Tensor, loss: str) -> Tensor:
    if loss == "squared":
        return ((g - y) ** 2).sum() * 0.5
    return -(y * g.log()).sum()


def _assert_close(tape: np.ndarray, notes: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(tape, notes, rtol=1e-10, atol=1e-13 * max(1.0, np.abs(notes).max()), err_msg=what)


@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("T", [1, 2, 7, 50])
@pytest.mark.parametrize("loss", ["squared", "nll"])
@pytest.mark.parametrize("f_s", ["tanh", "relu", "identity"])
def test_tape_gradients_equal_notes_bptt(f_s: str, loss: str, T: int, B: int) -> None:
    rng = np.random.default_rng([T, B, len(f_s), len(loss)])
    W, x, s0, y = _random_problem(rng, T, B, loss)

    # The notes, one sequence at a time; a batch's loss is the sum of its sequences' losses.
    L_notes, notes = 0.0, {k: np.zeros_like(v) for k, v in W.items()}
    notes_g, notes_s = np.zeros((T, B, N_OUT)), np.zeros((T, B, M))
    notes["s0"], notes["x"] = np.zeros_like(s0), np.zeros_like(x)
    for b in range(B):
        L_b, grads_b, g_b, s_b = notes_bptt(W, x[:, b, :, None], y[:, b, :, None], s0[b, :, None], f_s, loss)
        L_notes += L_b
        for k in W:
            notes[k] += grads_b[k]
        notes["s0"][b] = grads_b["s0"][:, 0]
        notes["x"][:, b] = grads_b["x"][:, :, 0]
        notes_g[:, b], notes_s[:, b] = g_b[:, :, 0], s_b[:, :, 0]

    # The tape.
    model = nn.ElmanRNN(L_IN, M, N_OUT, f_s=f_s, f_o="identity" if loss == "squared" else "softmax",
                        dtype="float64")
    model.load_state_dict({k: (v[:, 0] if k in ("W_ss0", "W_o0") else v) for k, v in W.items()})
    x_t = Tensor(x, requires_grad=True)
    s0_t = Tensor(s0, requires_grad=True)
    g, s = model(x_t, s0_t)
    L = _tape_loss(g, Tensor(y), loss)
    L.backward()

    _assert_close(g.numpy(), notes_g, "g (C.31)")
    _assert_close(s.numpy(), notes_s, "s (C.29)")
    assert L.item() == pytest.approx(L_notes, rel=1e-12)
    for name, p in model.named_parameters():
        _assert_close(p.grad.numpy(), notes[name][:, 0] if p.ndim == 1 else notes[name], f"dL/d{name}")
    _assert_close(s0_t.grad.numpy(), notes["s0"], "dL/ds_0 = δ^{s_0}")
    _assert_close(x_t.grad.numpy(), notes["x"], "dL/dx")


def test_two_step_scalar_derivation_term_by_term() -> None:
    """Seed 004's two-step RNN, h_t = tanh(W h_{t-1} + U X_t + b), Y_t = V h_t + c,
    L = ½(Y_1 - z_1)² + ½(Y_2 - z_2)², with a 1-dimensional state. The notes' names:
    W -> W_ss, U -> W_sx, V -> W_o, b -> W_ss0, c -> W_o0, h -> s, Y -> g, z (target) -> y."""
    W, U, V, b, c = 0.7, -1.3, 0.9, 0.2, -0.4
    h0, X1, X2, z1, z2 = 0.5, 0.8, -0.6, 0.3, -1.1

    # forward, as 004 writes it
    a1 = W * h0 + U * X1 + b
    h1 = np.tanh(a1)
    Y1 = V * h1 + c
    a2 = W * h1 + U * X2 + b
    h2 = np.tanh(a2)
    Y2 = V * h2 + c

    # the pieces that "suffice to compute"
    dL1_dh1 = (Y1 - z1) * V
    dL2_dh2 = (Y2 - z2) * V
    dh1_dW = (1 - h1**2) * h0
    dh2_dW = (1 - h2**2) * h1
    dh2_dh1 = (1 - h2**2) * W
    dh1_dU = (1 - h1**2) * X1
    dh2_dU = (1 - h2**2) * X2
    dh1_db = 1 - h1**2
    dh2_db = 1 - h2**2

    # the total derivatives: L_1 reaches W only through h_1, L_2 through h_1 and h_2
    dL_dW = dL1_dh1 * dh1_dW + dL2_dh2 * dh2_dh1 * dh1_dW + dL2_dh2 * dh2_dW
    dL_dU = dL1_dh1 * dh1_dU + dL2_dh2 * dh2_dh1 * dh1_dU + dL2_dh2 * dh2_dU
    dL_db = dL1_dh1 * dh1_db + dL2_dh2 * dh2_dh1 * dh1_db + dL2_dh2 * dh2_db
    dL_dV = (Y1 - z1) * h1 + (Y2 - z2) * h2  # Σ_t (Y_t - z_t) h_t
    dL_dc = (Y1 - z1) + (Y2 - z2)  # Σ_t (Y_t - z_t)

    model = nn.ElmanRNN(1, 1, 1, f_s="tanh", f_o="identity", dtype="float64")
    weights = {"W_ss": [[W]], "W_sx": [[U]], "W_o": [[V]], "W_ss0": [b], "W_o0": [c]}
    model.load_state_dict({k: np.array(v, dtype=np.float64) for k, v in weights.items()})
    x = Tensor([[[X1]], [[X2]]], dtype="float64")  # (T=2, B=1, l=1)
    target = Tensor([[[z1]], [[z2]]], dtype="float64")
    g, s = model(x, Tensor([[h0]], dtype="float64"))
    assert g.numpy().ravel().tolist() == pytest.approx([Y1, Y2], rel=1e-14)
    assert s.numpy().ravel().tolist() == pytest.approx([h1, h2], rel=1e-14)
    (((g - target) ** 2) * 0.5).sum().backward()

    assert model.W_ss.grad.item() == pytest.approx(dL_dW, rel=1e-12)
    assert model.W_sx.grad.item() == pytest.approx(dL_dU, rel=1e-12)
    assert model.W_ss0.grad.item() == pytest.approx(dL_db, rel=1e-12)
    assert model.W_o.grad.item() == pytest.approx(dL_dV, rel=1e-12)
    assert model.W_o0.grad.item() == pytest.approx(dL_dc, rel=1e-12)

