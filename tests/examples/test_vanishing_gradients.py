"""examples/vanishing_gradients.py: ||dL_T/ds_t|| read off the tape (6.390 notes C.46-C.47).

The quick run must show what the picture shows: at initialisation the IRNN keeps
>1000x the tanh RNN's share of the gradient T-1 steps back; after training the LSTM and
the GRU keep more than 5 % of it (>10x the tanh RNN) and have learned the task. The
per-step gradients the hooks record are compared with PyTorch's (retain_grad on each
state) and, at t = T, with the closed form 2 |ŷ - y| ||w||.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from example_runner import load, run_example

import tinygrad_rnn as tr

KINDS = ["tanh", "irnn", "gated", "lstm", "gru"]




@pytest.mark.slow
def test_quick_mode_shows_vanishing_and_surviving_gradients(tmp_path: Path) -> None:
    result = run_example(["examples/vanishing_gradients.py", "--quick", "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed") == 7
    assert (tmp_path / "vanishing_gradients.png").stat().st_size > 1000


def test_help_explains_the_example() -> None:
    result = run_example(["examples/vanishing_gradients.py", "--help"], timeout=60)
    assert result.returncode == 0
    for words in ("C.46-C.47", "register_hook", "Trick #1", "Trick #2", "GatedRNN", "LSTM", "GRU", "--quick",
                  "--device"):
        assert words in result.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_step_by_step_run_is_the_whole_sequence_run(kind: str, device: str) -> None:
    vg, ap = load("vanishing_gradients"), load("adding_problem")
    model = vg.Probe(kind, 5, device)
    x, _ = ap.adding_batch(6, 3, device)
    whole = model(x)
    steps, states = model.forward_steps(x)
    assert len(states) == 6 and len(states[0]) == (2 if kind == "lstm" else 1)
    np.testing.assert_allclose(steps.numpy(), whole.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_profile_at_the_last_step_is_the_closed_form(kind: str, device: str) -> None:
    """dL_T/ds_T = 2 (ŷ - y) w for L_T = sum (ŷ - y)^2 and ŷ = w^T s_T + b."""
    vg, ap = load("vanishing_gradients"), load("adding_problem")
    model = vg.Probe(kind, 4, device)
    x, y = ap.adding_batch(5, 3, device)
    norms = vg.gradient_profile(model, x, y)
    assert len(norms) == 5 and all(n >= 0 for n in norms)
    w = (model.rnn.W_o if kind == "gated" else model.read_out.weight).numpy()
    expected = (2 * np.abs(model(x).numpy() - y.numpy()) * np.linalg.norm(w)).mean()
    np.testing.assert_allclose(norms[0], expected, rtol=1e-4)
    assert all(p.grad is None for p in model.parameters())  # the probe leaves no gradients behind


def _torch_twin(torch, model, kind: str):
    """The same network in PyTorch, with the same weights, as a step function and a read-out."""
    sd = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in model.state_dict().items()}
    if kind == "gated":
        def step(x_t, state):
            (s,) = state
            gate = torch.sigmoid(x_t @ sd["rnn.W_gx"].T + s @ sd["rnn.W_gs"].T + sd["rnn.W_g0"])
            cand = torch.tanh(x_t @ sd["rnn.W_sx"].T + s @ sd["rnn.W_ss"].T + sd["rnn.W_ss0"])
            return ((1 - gate) * s + gate * cand,)

        def read_out(state):
            return (state[0] @ sd["rnn.W_o"].T + sd["rnn.W_o0"]).reshape(-1)

        return step, read_out
    layer = {"tanh": torch.nn.RNNCell, "irnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell,
             "gru": torch.nn.GRUCell}[kind]
    extra = {"nonlinearity": "relu"} if kind == "irnn" else {}
    cell = layer(2, model.rnn.hidden_size, **extra).double()
    cell.load_state_dict({k.replace("rnn.", "").replace("_l0", ""): v for k, v in sd.items() if k.startswith("rnn.")})

    def step(x_t, state):
        if kind != "lstm":
            return (cell(x_t, state[0]),)
        h, c = cell(x_t, state)
        # The LSTM's state s_t is the pair (h_t, c_t) handed to the next step. Inside
        # the cell h_t is computed from c_t, so c_t's own .grad would also collect the
        # path through h_t; copies of the pair are exactly "the state the future sees".
        return h.clone(), c.clone()

    def read_out(state):
        return (state[0] @ sd["read_out.weight"].T + sd["read_out.bias"]).reshape(-1)

    return step, read_out


@pytest.mark.parametrize("kind", KINDS)
def test_hooks_give_the_true_gradient_wrt_every_state(kind: str) -> None:
    """The hook-recorded ||dL_T/ds_t|| matches PyTorch's gradients of the same network."""
    torch = pytest.importorskip("torch")
    vg, ap = load("vanishing_gradients"), load("adding_problem")
    model = vg.Probe(kind, 6, "cpu")
    model.to(dtype="float64")
    T, B = 7, 4
    x, y = ap.adding_batch(T, B, "cpu")
    x, y = x.to(dtype="float64"), y.to(dtype="float64")
    ours = vg.gradient_profile(model, x, y)

    step, read_out = _torch_twin(torch, model, kind)
    xt, yt = torch.tensor(x.numpy()), torch.tensor(y.numpy())
    state = tuple(torch.zeros(B, 6, dtype=torch.float64) for _ in range(2 if kind == "lstm" else 1))
    states = []
    for t in range(T):
        state = step(xt[t], state)
        for part in state:
            part.retain_grad()
        states.append(state)
    ((read_out(state) - yt) ** 2).sum().backward()
    theirs = []
    for st in reversed(states):
        sq = sum((p.grad**2).sum(dim=1) for p in st if p.grad is not None)
        theirs.append(float(sq.sqrt().mean()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)


def test_tanh_gradient_shrinks_at_initialisation_and_irnn_does_not() -> None:
    """Direct consequence of C.47 at initialisation (PyTorch's default draw, T = 30)."""
    vg, ap = load("vanishing_gradients"), load("adding_problem")
    tr.manual_seed(0)
    x, y = ap.adding_batch(30, 16, "cpu")
    tanh = vg.relative(vg.gradient_profile(vg.Probe("tanh", 16, "cpu"), x, y))
    irnn = vg.relative(vg.gradient_profile(vg.Probe("irnn", 16, "cpu"), x, y))
    assert tanh[-1] < 1e-3 < 0.1 < irnn[-1]
