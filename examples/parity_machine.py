"""The parity machine of the notes (6.390 notes 001, C.1), learned: part 3 of
examples/state_machines.py, which imports it (not a program of its own).

Read a binary string and say,
after every symbol, whether it has held an even number of zeros so far. A GatedRNN
(C.48-C.49) and a plain ElmanRNN, both with m = 8 tanh state units, a one-hot input
x_t = (1 - bit, bit) and a sigmoid readout (inside the logistic loss), learn it from
strings of length 1-20, batched with `lengths`, and are then tested on strings of
length 50 and 200, far longer than any they saw. Parity is a classic hard case for
gradient descent: the ElmanRNN gets there from most initialisations but stalls on a
plateau from some (try --seed 1); the gate, which lets a state unit hold its value
until the input says to change it, makes the GatedRNN reliable.
"""

from __future__ import annotations

import random
from typing import Any

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim

F = nn.functional
PARITY_BAR = 0.97  # --quick: accuracy on strings of length 200 (training strings are 1-20 long)


def parity_batch(rng: random.Random, B: int, lo: int, hi: int, device: str,
                 pad: bool = False) -> tuple[Tensor, Tensor, list[int]]:
    """Random bit strings and targets y_t = 1 when x_1..x_t holds an even number of zeros.

    Each bit is fed as a one-hot x_t = (1 - bit, bit), so a 0 drives the state as
    much as a 1 does. Returns x (T, B, 2), y (T, B, 1) and the lengths; T is the
    longest length, or ``hi`` with ``pad`` (one shape for every batch: one tr.jit
    recording; the padding is zeros past the strings, which draws nothing from ``rng``).
    """
    lengths = [rng.randint(lo, hi) for _ in range(B)]
    T = max(lengths)
    bits = [[rng.randint(0, 1) for _ in range(T)] + [0] * ((hi - T) if pad else 0) for _ in range(B)]
    T = len(bits[0])
    targets = []
    for row in bits:
        zeros, y = 0, []
        for b in row:
            zeros += b == 0
            y.append(1.0 if zeros % 2 == 0 else 0.0)  # state S_1 of the notes' machine: even
        targets.append(y)
    bit = Tensor(bits, device=device, dtype="float32").transpose(1, 0).reshape(T, B, 1)
    y = Tensor(targets, device=device, dtype="float32").transpose(1, 0).reshape(T, B, 1)
    return tr.cat([1 - bit, bit], axis=2), y, lengths


def learn_parity(model: str, device: str, steps: int, seed: int, jit: bool = True) -> dict[str, Any]:
    """Train ``model`` ("gated" or "elman") on parity; through tr.jit unless ``jit`` is False
    (then the tape, with the lengths as a list and T = the longest string of each batch)."""
    cls = nn.GatedRNN if model == "gated" else nn.ElmanRNN
    print(f"\n{cls.__name__}, m = 8, trained on {steps} batches of 32 strings of length 1-20:")
    rng = random.Random(seed)
    rnn = cls(2, 8, 1, f_s="tanh", f_o="identity", device=device)  # g_t: the logit of "even"
    opt = optim.Adam(list(rnn.parameters()), lr=0.02)

    def gradients(x: Tensor, y: Tensor, lengths: Any) -> Tensor:
        g, _ = rnn(x, lengths=lengths)
        T = x.shape[0]
        ends = lengths if isinstance(lengths, Tensor) else Tensor(lengths, device=device)
        inside = (Tensor.arange(T, device=device).reshape(T, 1, 1) < ends.reshape(1, -1, 1)).astype("float32")
        per_step = F.binary_cross_entropy_with_logits(g, y, reduction="none")
        loss = (per_step * inside).sum() / inside.sum()  # mean over the real (unpadded) steps
        opt.zero_grad()
        loss.backward()
        return loss

    step = tr.jit(gradients) if jit else gradients  # jit: every batch padded to 20 steps, lengths a Tensor
    losses = []
    for _ in range(steps):
        x, y, lengths = parity_batch(rng, 32, 1, 20, device, pad=jit)
        loss = step(x, y, Tensor(lengths, device=device) if jit else lengths)
        nn.utils.clip_grad_norm_(rnn.parameters(), 1.0)  # returns a float: outside the jitted step
        opt.step()
        losses.append(loss.item())
    print(f"  final training loss {losses[-1]:.4f}")
    accuracy = {}
    for L in (20, 50, 200):
        x, y, _ = parity_batch(rng, 200, L, L, device)
        with tr.no_grad():
            g, _ = rnn(x)
        right = ((g > 0).astype("float32") == y).astype("float32")
        accuracy[L] = (right.mean().item(), right[-1].mean().item())
        print(f"  200 strings of length {L:>3}: {accuracy[L][0]:.1%} of all steps right, "
              f"{accuracy[L][1]:.1%} right at the end")
    return {"losses": losses, "accuracy": accuracy, "rnn": rnn, "rng": rng}


def run_parity(device: str, steps: int, seed: int, models: list[str], jit: bool = True) -> dict[str, Any]:
    print("=" * 78 + "\nPart 3: the parity machine (an even number of zeros so far?), learned")
    results = {model: learn_parity(model, device, steps, seed, jit) for model in models}
    best = results.get("gated") or results[models[0]]
    x, _, _ = parity_batch(best["rng"], 1, 12, 12, device)
    with tr.no_grad():
        g, s = best["rnn"](x)
    print(f"\none string through the {type(best['rnn']).__name__}, step by step "
          "(the state settles into one region per parity):")
    for t in range(x.shape[0]):
        bit, state = int(x[t, 0, 1].item()), " ".join(f"{v:.2f}" for v in s[t, 0].tolist())
        print(f"  x_{t + 1:<2} = {bit}  s_t = [{state}]{'':<{max(0, 42 - len(state))}}  P(even) = {g[t].sigmoid().item():.3f}")
    return results

