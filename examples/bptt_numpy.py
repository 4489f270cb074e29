"""Back-propagation through time by hand, in NumPy: a tanh RNN, a GRU and an LSTM.

The model: one recurrent layer (PyTorch's parameter names and gate order) and a linear
output head, softmax cross-entropy at every step averaged over the T*B predictions.
In the notes' terms (6.390 notes C.4-C.5, with a batch of rows, so the notes' W s is
written s W^T here): z^1_t = x_t W_ih^T + s_{t-1} W_hh^T + biases, s_t = f_s(z^1_t),
z^2_t = s_t W_out^T + b_out are the logits and g_t = softmax(z^2_t).

Every gradient is written out in closed form, as the notes derive it for the RNN:

  dL_t/dz^2_t = (g_t - y_t) / (T B)                           (C.45: softmax + NLL)
  dL_t/ds_t   = dL_t/dz^2_t W_out                             (C.39)
  dF_{t-1}/ds_t = dL_t/ds_t + delta^{s_t}                     (C.38; delta^{s_T} = 0)
  delta^{s_{t-1}} = (dF_{t-1}/ds_t * f_s'(z^1_t)) W_hh        (C.40-C.41)
  dW_hh = sum_t dz^1_t^T s_{t-1},  dW_ih = sum_t dz^1_t^T x_t (C.42, C.43)
  dW_out = sum_t (dL_t/dz^2_t)^T s_t                          (C.44-C.45)

For the GRU and the LSTM the state update has gates, so f_s'(z^1_t) becomes the gate
derivatives written out in ``gru_backward`` and ``lstm_backward``; the recursion and the
weight gradients keep the same shape.

The layout is "hoisted": the input projection of all T steps is one matmul before the
loop, and the output projection, the softmax-CE gradient and the three weight gradients
(C.42-C.45 are sums over t, i.e. one matmul each over the (T*B, .) stacks) are
whole-sequence matmuls after it. Only the recurrence stays per step. Arrays are
updated in place (``out=``), so this is also a fast baseline: examples/benchmark.py
times the library's tape against it. ``xp`` is numpy or cupy, ``mm`` the matmul.
tests/examples/test_bptt_numpy.py checks every gradient against the tape (float64).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # blocks of H rows in W_ih, W_hh: (), (r, z, n), (i, f, g, o)


def init_params(cell: str, I: int, H: int, O: int, seed: int) -> dict[str, np.ndarray]:  # noqa: E741
    """PyTorch-style uniform(-1/sqrt(H), 1/sqrt(H)) weights, named as in the tape model."""
    rng = np.random.default_rng(seed)
    k, gh = 1.0 / np.sqrt(H), GATES[cell] * H
    shapes = {"rnn.weight_ih_l0": (gh, I), "rnn.weight_hh_l0": (gh, H), "rnn.bias_ih_l0": (gh,),
              "rnn.bias_hh_l0": (gh,), "head.weight": (O, H), "head.bias": (O,)}
    return {name: rng.uniform(-k, k, shape) for name, shape in shapes.items()}


def sigmoid_(a: Any, xp: Any) -> None:
    """a <- 1 / (1 + exp(-a)), in place."""
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


# ------------------------------------------------------------------ tanh RNN
def rnn_forward(A: Any, W_hh: Any, b_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """s_t = tanh(A_t + s_{t-1} W_hh^T), A_t = x_t W_ih^T + b_ih + b_hh precomputed.

    Returns every state, S[0] = s_0 = 0 .. S[T] = s_T, and no cache (tanh' needs s_t only).
    """
    T, B, H = A.shape
    S = xp.zeros((T + 1, B, H), A.dtype)
    tmp, WT = xp.empty((B, H), A.dtype), W_hh.T
    for t in range(T):
        mm(S[t], WT, out=tmp)
        tmp += A[t]  # z^1_t
        xp.tanh(tmp, out=S[t + 1])  # s_t = f_s(z^1_t)
    return S, None


def rnn_backward(dS: Any, S: Any, cache: Any, W_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """dz^1_t for every t, by the delta recursion, from dS[t] = dL_t/ds_t (C.39).

    Returns (dA, dGh): the gradients of the input-side and the state-side
    pre-activations; for the RNN both are dz^1_t, the same array.
    """
    T, B, H = dS.shape
    dZ, delta, tmp = xp.empty_like(dS), xp.zeros((B, H), dS.dtype), xp.empty((B, H), dS.dtype)
    for t in range(T - 1, -1, -1):
        s, dz = S[t + 1], dZ[t]
        xp.add(dS[t], delta, out=dz)  # dF_{t-1}/ds_t = dL_t/ds_t + delta^{s_t}           (C.38)
        xp.multiply(s, s, out=tmp)  # ds_t/dz^1_t = tanh'(z^1_t) = 1 - s_t^2            (C.40)
        xp.subtract(1, tmp, out=tmp)
        dz *= tmp  # dz^1_t = dF_{t-1}/ds_t * (1 - s_t^2)
        if t:
            mm(dz, W_hh, out=delta)  # delta^{s_{t-1}} = dz^1_t W_hh                        (C.41)
    return dZ, dZ


# ------------------------------------------------------------------------ GRU
def gru_forward(A: Any, W_hh: Any, b_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """PyTorch's GRU, gates (r, z, n); A_t = x_t W_ih^T + b_ih is overwritten with them.

        r = sigmoid(A_r + h W_hr^T + b_hr)      z = sigmoid(A_z + h W_hz^T + b_hz)
        n = tanh(A_n + r * (h W_hn^T + b_hn))   h_t = (1 - z) * n + z * h_{t-1}
    """
    T, B, H3 = A.shape
    H = H3 // 3
    S, HN = xp.zeros((T + 1, B, H), A.dtype), xp.empty((T, B, H), A.dtype)
    tmp, WT = xp.empty((B, H3), A.dtype), W_hh.T
    for t in range(T):
        G = A[t]
        mm(S[t], WT, out=tmp)
        tmp += b_hh
        rz = G[:, : 2 * H]
        rz += tmp[:, : 2 * H]
        sigmoid_(rz, xp)
        r, z, n = G[:, :H], G[:, H : 2 * H], G[:, 2 * H :]
        hn = HN[t]
        hn[...] = tmp[:, 2 * H :]  # h W_hn^T + b_hn, needed by backward
        n += r * hn
        xp.tanh(n, out=n)
        h = S[t + 1]
        xp.subtract(S[t], n, out=h)  # h_t = n + z * (h_{t-1} - n)
        h *= z
        h += n
    return S, (A, HN)


def gru_backward(dS: Any, S: Any, cache: Any, W_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """Gate derivatives of the GRU, step by step backwards; returns (dA, dGh)."""
    G_all, HN = cache
    T, B, H = dS.shape
    dA, dGh = xp.empty((T, B, 3 * H), dS.dtype), xp.empty((T, B, 3 * H), dS.dtype)
    delta, tmp = xp.zeros((B, H), dS.dtype), xp.empty((B, H), dS.dtype)
    for t in range(T - 1, -1, -1):
        G, hn, h_prev = G_all[t], HN[t], S[t]
        r, z, n = G[:, :H], G[:, H : 2 * H], G[:, 2 * H :]
        dh = dS[t]
        dh += delta  # dF_{t-1}/dh_t = dL_t/dh_t + delta^{h_t}                           (C.38)
        da, dg = dA[t], dGh[t]
        dr, dz, dn = da[:, :H], da[:, H : 2 * H], da[:, 2 * H :]
        xp.subtract(1, z, out=dn)  # dn_pre = dh * (1 - z) * (1 - n^2)
        dn *= dh
        xp.multiply(n, n, out=tmp)
        xp.subtract(1, tmp, out=tmp)
        dn *= tmp
        xp.subtract(h_prev, n, out=dz)  # dz_pre = dh * (h_{t-1} - n) * z * (1 - z)
        dz *= dh
        xp.subtract(1, z, out=tmp)
        tmp *= z
        dz *= tmp
        xp.multiply(dn, hn, out=dr)  # dr_pre = dn_pre * (h W_hn^T + b_hn) * r * (1 - r)
        xp.subtract(1, r, out=tmp)
        tmp *= r
        dr *= tmp
        dg[:, : 2 * H] = da[:, : 2 * H]  # the state side: (dr_pre, dz_pre, dn_pre * r)
        xp.multiply(dn, r, out=dg[:, 2 * H :])
        if t:
            mm(dg, W_hh, out=delta)  # delta^{h_{t-1}} = dGh_t W_hh + dh * z          (C.41 + the z path)
            xp.multiply(dh, z, out=tmp)
            delta += tmp
    return dA, dGh


# ----------------------------------------------------------------------- LSTM
def lstm_forward(A: Any, W_hh: Any, b_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """PyTorch's LSTM, gates (i, f, g, o); A_t = x_t W_ih^T + b_ih + b_hh is overwritten.

        (i, f, o) = sigmoid(.), g = tanh(.) of A_t + h_{t-1} W_hh^T
        c_t = f * c_{t-1} + i * g           h_t = o * tanh(c_t)
    """
    T, B, H4 = A.shape
    H = H4 // 4
    S, C, TC = xp.zeros((T + 1, B, H), A.dtype), xp.zeros((T + 1, B, H), A.dtype), xp.empty((T, B, H), A.dtype)
    tmp, WT = xp.empty((B, H4), A.dtype), W_hh.T
    for t in range(T):
        G = A[t]
        mm(S[t], WT, out=tmp)
        G += tmp
        sigmoid_(G[:, : 2 * H], xp)
        xp.tanh(G[:, 2 * H : 3 * H], out=G[:, 2 * H : 3 * H])
        sigmoid_(G[:, 3 * H :], xp)
        i, f, g, o = G[:, :H], G[:, H : 2 * H], G[:, 2 * H : 3 * H], G[:, 3 * H :]
        c = C[t + 1]
        xp.multiply(f, C[t], out=c)
        c += i * g
        xp.tanh(c, out=TC[t])
        xp.multiply(o, TC[t], out=S[t + 1])
    return S, (A, C, TC)


def lstm_backward(dS: Any, S: Any, cache: Any, W_hh: Any, xp: Any, mm: Callable) -> tuple[Any, Any]:
    """Gate derivatives of the LSTM, step by step backwards; returns (dG, dG)."""
    G_all, C, TC = cache
    T, B, H = dS.shape
    dG = xp.empty((T, B, 4 * H), dS.dtype)
    delta, dc_next = xp.zeros((B, H), dS.dtype), xp.zeros((B, H), dS.dtype)
    dc, tmp, tmp2 = xp.empty((B, H), dS.dtype), xp.empty((B, H), dS.dtype), xp.empty((B, 2 * H), dS.dtype)
    for t in range(T - 1, -1, -1):
        G, tc, d = G_all[t], TC[t], dG[t]
        i, f, g, o = G[:, :H], G[:, H : 2 * H], G[:, 2 * H : 3 * H], G[:, 3 * H :]
        di, df, dg, do = d[:, :H], d[:, H : 2 * H], d[:, 2 * H : 3 * H], d[:, 3 * H :]
        dh = dS[t]
        dh += delta  # dF_{t-1}/dh_t = dL_t/dh_t + delta^{h_t}                           (C.38)
        xp.multiply(dh, tc, out=do)  # do = dh * tanh(c_t)
        xp.multiply(tc, tc, out=tmp)  # dc = dh * o * (1 - tanh(c_t)^2) + dc_{t+1} * f_{t+1}
        xp.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        xp.add(tmp, dc_next, out=dc)
        xp.multiply(dc, g, out=di)  # di = dc * g
        xp.multiply(dc, i, out=dg)  # dg = dc * i
        xp.multiply(dc, C[t], out=df)  # df = dc * c_{t-1}
        xp.multiply(dc, f, out=dc_next)  # the memory path to step t-1: dc * f
        xp.subtract(1, G[:, : 2 * H], out=tmp2)  # di_pre, df_pre = (di, df) * s * (1 - s), s = sigmoid
        tmp2 *= G[:, : 2 * H]
        d[:, : 2 * H] *= tmp2
        xp.multiply(g, g, out=tmp)  # dg_pre = dg * (1 - g^2)
        xp.subtract(1, tmp, out=tmp)
        dg *= tmp
        xp.subtract(1, o, out=tmp)  # do_pre = do * o * (1 - o)
        tmp *= o
        do *= tmp
        if t:
            mm(d, W_hh, out=delta)  # delta^{h_{t-1}} = dG_t W_hh                          (C.41)
    return dG, dG


CELLS = {"rnn": (rnn_forward, rnn_backward), "gru": (gru_forward, gru_backward),
         "lstm": (lstm_forward, lstm_backward)}


def loss_and_grads(cell: str, P: dict, x: Any, y: Any, xp: Any = np, mm: Callable = np.matmul) -> tuple[Any, dict]:
    """The mean softmax cross-entropy and the BPTT gradient of every parameter in ``P``.

    Args:
        cell: "rnn" (tanh), "gru" or "lstm".
        P: the parameters by name (``init_params``); not changed.
        x: inputs (T, B, I); y: integer targets (T, B).
        xp: numpy or cupy; mm: the matmul used for every product.
    """
    T, B, n_in = x.shape
    W_ih, W_hh, b_ih, b_hh = P["rnn.weight_ih_l0"], P["rnn.weight_hh_l0"], P["rnn.bias_ih_l0"], P["rnn.bias_hh_l0"]
    W_out, b_out = P["head.weight"], P["head.bias"]
    H, N = W_hh.shape[1], T * B
    forward, backward = CELLS[cell]
    X2 = x.reshape(N, n_in)
    A = mm(X2, W_ih.T)  # the input projection of all T steps at once
    A += b_ih if cell == "gru" else b_ih + b_hh  # the GRU keeps b_hn inside r * (h W_hn^T + b_hn)
    S, cache = forward(A.reshape(T, B, -1), W_hh, b_hh, xp, mm)
    S2 = S[1:].reshape(N, H)
    logits = mm(S2, W_out.T)  # z^2_t of all steps at once
    logits += b_out
    logits -= logits.max(axis=1, keepdims=True)  # softmax cross-entropy, stable; in place
    rows, targets = xp.arange(N), y.reshape(N)
    picked = logits[rows, targets]
    xp.exp(logits, out=logits)
    total = logits.sum(axis=1, keepdims=True)
    loss = (xp.log(total[:, 0]) - picked).mean()
    dZ2 = logits  # becomes dL/dz^2_t = (g_t - y_t) / N                                     (C.45)
    dZ2 /= total
    dZ2[rows, targets] -= 1
    dZ2 *= 1.0 / N
    grads = {"head.weight": mm(dZ2.T, S2), "head.bias": dZ2.sum(axis=0)}  # (C.44-C.45)
    dS = mm(dZ2, W_out).reshape(T, B, H)  # dL_t/ds_t = dL_t/dz^2_t W_out                    (C.39)
    dA, dGh = backward(dS, S, cache, W_hh, xp, mm)
    dA2, dGh2, S_prev2 = dA.reshape(N, -1), dGh.reshape(N, -1), S[:-1].reshape(N, H)
    grads["rnn.weight_ih_l0"] = mm(dA2.T, X2)  # sum_t dz^1_t^T x_t                          (C.43)
    grads["rnn.weight_hh_l0"] = mm(dGh2.T, S_prev2)  # sum_t dz^1_t^T s_{t-1}                (C.42)
    grads["rnn.bias_ih_l0"] = dA2.sum(axis=0)  # the offsets: the same sums with input 1
    grads["rnn.bias_hh_l0"] = dGh2.sum(axis=0)
    return loss, grads


def sgd_step(cell: str, P: dict, x: Any, y: Any, lr: float, xp: Any = np, mm: Callable = np.matmul) -> Any:
    """One training step: loss, BPTT, then P <- P - lr * grad, in place. Returns the loss."""
    loss, grads = loss_and_grads(cell, P, x, y, xp, mm)
    for name, grad in grads.items():
        P[name] -= lr * grad
    return loss
