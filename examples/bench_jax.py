"""The benchmark's model in JAX: a compiled peer for the tape, beside PyTorch.

Imported by examples/benchmark.py (not a program of its own), and only useful when JAX
is installed (``pip install jax``; the ``dev`` extra has it). The model is the one of
bench_models.py and examples/bptt_numpy.py, written as JAX would have it:

  forward   the input projection of all T steps is one matmul (as in the NumPy baseline),
            the recurrence is a ``jax.lax.scan`` of the cell over the T steps:
              tanh RNN  s_t = tanh(A_t + s_{t-1} W_hh^T)              (6.390 notes C.4)
              GRU       r, z = sigmoid(A_rz + h W_hrz^T + b_hrz),
                        n = tanh(A_n + r * (h W_hn^T + b_hn)),  h_t = (1 - z) n + z h_{t-1}
              LSTM      i, f, o = sigmoid(.), g = tanh(.) of A_t + h_{t-1} W_hh^T,
                        c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)
            then the Linear head and softmax cross-entropy at every step, averaged over T*B;
  backward  ``jax.value_and_grad``: JAX differentiates the scan, so BPTT is XLA's;
  update    P <- P - LR * grad.

One training step (forward, backward and update) is ONE ``jax.jit``-compiled function;
``build_jax`` returns a callable that runs it and waits for the result
(``block_until_ready``), so a timer around it measures the finished step, not the dispatch.

``check_jax`` compares JAX's loss and gradients in float64 (``jax_enable_x64``, switched
on only inside the check) with the NumPy BPTT's and raises :class:`BaselineMismatch` when
they differ: the benchmark refuses to time a peer that is not the same model.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

import bptt_numpy
import numpy as np
from bench_models import LR, BaselineMismatch, Config, _compare

try:
    import jax
    import jax.numpy as jnp
    from jax import lax

    JAX_ERROR = None
except ImportError as e:  # the benchmark leaves the jax column out and says why
    jax = jnp = lax = None
    JAX_ERROR = f"{type(e).__name__}: {e} (pip install jax)"

# XLA's CPU kernels on one thread: XLA reads XLA_FLAGS when its CPU backend starts, which is
# at the first JAX computation (not at ``import jax``), so ``one_thread`` works until then.
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def one_thread() -> None:
    """Ask XLA for one CPU thread; call before the first JAX computation of the process."""
    flags = os.environ.get("XLA_FLAGS", "")
    if XLA_ONE_THREAD not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {XLA_ONE_THREAD}".strip()


# ============================================================ the model
def _rnn_cell(W_hh: Any, b_hh: Any, h: Any, a: Any) -> tuple[Any, Any]:
    """s_t = tanh(A_t + s_{t-1} W_hh^T); both biases are already in A_t."""
    h = jnp.tanh(a + h @ W_hh.T)
    return h, h


def _gru_cell(W_hh: Any, b_hh: Any, h: Any, a: Any) -> tuple[Any, Any]:
    """PyTorch's GRU step, gates (r, z, n); A_t = x_t W_ih^T + b_ih, b_hn stays inside r * (.)."""
    H = h.shape[-1]
    gh = h @ W_hh.T + b_hh
    r = jax.nn.sigmoid(a[:, :H] + gh[:, :H])
    z = jax.nn.sigmoid(a[:, H : 2 * H] + gh[:, H : 2 * H])
    n = jnp.tanh(a[:, 2 * H :] + r * gh[:, 2 * H :])
    h = (1 - z) * n + z * h
    return h, h


def _lstm_cell(W_hh: Any, b_hh: Any, hc: Any, a: Any) -> tuple[Any, Any]:
    """PyTorch's LSTM step, gates (i, f, g, o); A_t = x_t W_ih^T + b_ih + b_hh."""
    h, c = hc
    H = h.shape[-1]
    gates = a + h @ W_hh.T
    i, f = jax.nn.sigmoid(gates[:, :H]), jax.nn.sigmoid(gates[:, H : 2 * H])
    g, o = jnp.tanh(gates[:, 2 * H : 3 * H]), jax.nn.sigmoid(gates[:, 3 * H :])
    c = f * c + i * g
    h = o * jnp.tanh(c)
    return (h, c), h


CELLS = {"rnn": _rnn_cell, "gru": _gru_cell, "lstm": _lstm_cell}


def loss_fn(params: dict, x: Any, y: Any, cell: str) -> Any:
    """Mean softmax cross-entropy of the recurrent layer + Linear head over all T*B predictions."""
    W_ih, W_hh = params["rnn.weight_ih_l0"], params["rnn.weight_hh_l0"]
    b_ih, b_hh = params["rnn.bias_ih_l0"], params["rnn.bias_hh_l0"]
    A = x @ W_ih.T + (b_ih if cell == "gru" else b_ih + b_hh)  # the input projection of all T steps
    B, H = x.shape[1], W_hh.shape[1]
    h0 = jnp.zeros((B, H), x.dtype)
    init = (h0, h0) if cell == "lstm" else h0
    _, S = lax.scan(partial(CELLS[cell], W_hh, b_hh), init, A)  # S: (T, B, H), s_1 .. s_T
    logits = S @ params["head.weight"].T + params["head.bias"]
    picked = jnp.take_along_axis(logits, y[..., None], axis=-1)[..., 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=-1) - picked)


def _loss_and_grads(params: dict, x: Any, y: Any, cell: str) -> tuple[Any, dict]:
    return jax.value_and_grad(loss_fn)(params, x, y, cell)


def _sgd_step(params: dict, x: Any, y: Any, cell: str, lr: float) -> tuple[dict, Any]:
    """One training step: loss, gradients by ``jax.value_and_grad``, P <- P - lr * grad."""
    loss, grads = _loss_and_grads(params, x, y, cell)
    return jax.tree_util.tree_map(lambda p, d: p - lr * d, params, grads), loss


if JAX_ERROR is None:
    loss_and_grads = jax.jit(_loss_and_grads, static_argnames="cell")
    # donate the old weights: XLA may write the new ones into their buffers, as SGD does in place
    sgd_step = jax.jit(_sgd_step, static_argnames=("cell", "lr"), donate_argnums=0)


# ============================================================ the benchmark's peer
def build_jax(cfg: Config, P: dict, x: np.ndarray, y: np.ndarray, device: str = "cpu",
              dtype: str = "float32") -> tuple[Callable[[], Any], dict]:
    """The model in JAX loaded with ``P``, on JAX's ``device`` ("cpu" or "cuda"); returns (step, state).

    ``step()`` runs one compiled training step on the weights in ``state["params"]``,
    replaces them with the updated ones, and returns the loss once it is computed.
    ``dtype="float64"`` needs ``jax_enable_x64`` on while it is built and run.
    """
    if JAX_ERROR is not None:
        raise RuntimeError(f"JAX is not importable: {JAX_ERROR}")
    where = jax.devices("gpu" if device == "cuda" else "cpu")[0]  # the step runs where its inputs are
    # copies: on the CPU, JAX may share a NumPy array's memory, and the NumPy baseline updates ``P`` in place
    state = {"params": {k: jax.device_put(np.array(v, dtype=dtype), where) for k, v in P.items()}}
    xj, yj = jax.device_put(np.array(x, dtype=dtype), where), jax.device_put(np.array(y, dtype="int32"), where)

    def step() -> Any:
        state["params"], loss = sgd_step(state["params"], xj, yj, cfg.cell, LR)
        return loss.block_until_ready()

    return step, state


def missing(device: str) -> str | None:
    """Why the jax column cannot run on ``device`` ("cpu" or "cuda"), or None when it can."""
    if JAX_ERROR is not None:
        return JAX_ERROR
    try:
        jax.devices("gpu" if device == "cuda" else "cpu")
    except RuntimeError as e:
        return f"this JAX has no {device} device ({e})"
    return None


def enable_x64() -> Any:
    """A context in which JAX computes in float64 (the flag is global, so only inside it)."""
    ctx = getattr(jax, "enable_x64", None)
    if ctx is None:  # older JAX
        from jax.experimental import enable_x64 as ctx
    return ctx(True)


def check_jax(cfg: Config, P: dict, x: np.ndarray, y: np.ndarray, tol: float = 1e-8) -> dict[str, float]:
    """Compare JAX's loss and gradients (float64, jitted) with the NumPy BPTT's.

    Returns the max relative error per parameter (and of the loss).

    Raises:
        BaselineMismatch: any of them is above ``tol``.
    """
    loss, grads = bptt_numpy.loss_and_grads(cfg.cell, P, x, y)
    want = {k: np.asarray(v) for k, v in grads.items()}
    want["loss"] = np.asarray(loss)
    with enable_x64():
        params = {k: jnp.asarray(v, dtype="float64") for k, v in P.items()}
        got_loss, got_grads = loss_and_grads(params, jnp.asarray(x, dtype="float64"), jnp.asarray(y), cfg.cell)
        if got_loss.dtype != jnp.float64:
            raise BaselineMismatch(f"JAX computed in {got_loss.dtype}, expected float64 inside enable_x64")
        got = {k: np.asarray(v) for k, v in got_grads.items()}
        got["loss"] = np.asarray(got_loss)
    return _compare(f"{cfg.cell}: NumPy BPTT vs JAX", got, want, tol)
