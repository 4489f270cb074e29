"""Can we eliminate recurrence? A causal self-attention character model against a GRU one.

The slides on the limits of recurrence (../shared/seeds/003, "Attention Is All You Need")
name three problems of an RNN: everything read so far must squeeze through one state
vector, the steps run one after another, and the memory of early characters fades. Their
answer is attention: every position looks at every earlier one directly,

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V        (M: -inf above the diagonal)

with several heads side by side and sinusoidal positions added to the embeddings, since
attention alone has no notion of order. This program answers the slides' question with a
measurement on a CPU. On the same corpus, it trains two character models with the same
windows, batch, optimizer and number of steps:

  rnn          Embedding -> GRU -> Linear       (char_lm.py's model, one window left to right)
  transformer  Embedding + positions -> N causal TransformerEncoderLayers (pre-norm, tanh GELU)
               -> LayerNorm -> Linear           (every position at once, no recurrence)

Each predicts every next character of a window of --context characters from the
characters before it in the window, so both see the same information. Held-out
nats/char is logged against steps and against training seconds, and both curves go into
one picture (runs/attention_lm/attention_vs_rnn.png). Both train through tr.jit unless
--no-jit: every window has the same shape, so each step is recorded once and replayed.

Examples:
  python examples/attention_lm.py                     # both models, a few minutes on 2 CPU cores
  python examples/attention_lm.py --out-dir docs/img  # redraw README's picture
  python examples/attention_lm.py --text ../shared/data/tinyshakespeare.txt --steps 3000
  python examples/attention_lm.py --quick             # the test-suite's run
"""

from __future__ import annotations

import argparse
import math
import random
import time
from typing import Any

import _common
from corpus import load_corpus

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim

F = nn.functional


class RNNLM(nn.Module):
    """Embedding -> GRU -> Linear, batch first: tokens (B, C) -> logits (B, C, V)."""

    def __init__(self, V: int, embed: int, hidden: int, device: str) -> None:
        super().__init__()
        self.embedding = nn.Embedding(V, embed, device=device)
        self.core = nn.GRU(embed, hidden, batch_first=True, device=device)
        self.head = nn.Linear(hidden, V, device=device)

    def forward(self, tokens: Tensor) -> Tensor:
        out, _ = self.core(self.embedding(tokens))
        return self.head(out)


def gelu_tanh(x: Tensor) -> Tensor:
    """GELU's tanh form (as in GPT-2): the exact erf form costs 4x more here (erf in NumPy)."""
    return F.gelu(x, approximate="tanh")


class AttentionLM(nn.Module):
    """Embedding + sinusoidal positions -> causal encoder layers -> LayerNorm -> Linear.

    Position t attends to positions 1..t only (the causal mask), so, like the RNN, its
    prediction of character t+1 reads nothing after character t.
    """

    def __init__(self, V: int, d_model: int, nhead: int, layers: int, context: int, device: str) -> None:
        super().__init__()
        self.embedding = nn.Embedding(V, d_model, device=device)
        self.positions = nn.PositionalEncoding(d_model, max_len=context, batch_first=True, device=device)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=0.0, activation=gelu_tanh,
                                       batch_first=True, norm_first=True, device=device)
            for _ in range(layers)
        ])
        self.norm = nn.LayerNorm(d_model, device=device)
        self.head = nn.Linear(d_model, V, device=device)
        self.scale = math.sqrt(d_model)  # embeddings scaled up so the positions do not drown them

    def forward(self, tokens: Tensor) -> Tensor:
        C = tokens.shape[1]
        i = Tensor.arange(C, device=self.head.weight.device)
        future = i.reshape(1, C) > i.reshape(C, 1)  # True above the diagonal: may NOT attend
        x = self.positions(self.embedding(tokens) * self.scale)
        for layer in self.layers:
            x = layer(x, src_mask=future, is_causal=True)
        return self.head(self.norm(x))


def windows(ids: list[int], starts: list[int], C: int, device: str) -> tuple[Tensor, Tensor]:
    """x = ids[s:s+C], y = ids[s+1:s+C+1] for each start s, as (B, C) int tensors."""
    x = Tensor([ids[s:s + C] for s in starts], device=device)
    y = Tensor([ids[s + 1:s + C + 1] for s in starts], device=device)
    return x, y


class Run:
    """One model, its optimizer, its jitted step and its learning curve."""

    def __init__(self, name: str, model: nn.Module, args: Any) -> None:
        self.name, self.model = name, model
        self.opt = optim.Adam(list(model.parameters()), lr=args.lr)
        self.step_fn = _common.maybe_jit(self._step, args)
        self.seconds = 0.0
        self.curve: dict[str, list[float]] = {"step": [], "seconds": [], "val": []}
        self.n_params = sum(p.numel() for p in model.parameters())

    def _step(self, x: Tensor, y: Tensor) -> Tensor:
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(x), y)  # mean nats per predicted character
        loss.backward()
        self.opt.step()
        return loss

    def train_step(self, x: Tensor, y: Tensor) -> float:
        t0 = time.perf_counter()
        loss = self.step_fn(x, y).item()
        self.seconds += time.perf_counter() - t0
        return loss

    def validate(self, batches: list[tuple[Tensor, Tensor]], step: int) -> float:
        total = 0.0
        with tr.no_grad():
            for x, y in batches:
                total += F.cross_entropy(self.model(x), y).item()
        val = total / len(batches)
        self.curve["step"].append(step)
        self.curve["seconds"].append(self.seconds)
        self.curve["val"].append(val)
        return val


def plot(runs: list[Run], log_v: float, out_dir: str, title: str) -> str | None:
    plt = _common.pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for run in runs:
        label = f"{run.name} ({run.n_params / 1000:.0f}k parameters)"
        axes[0].plot(run.curve["step"], run.curve["val"], marker=".", label=label)
        axes[1].plot(run.curve["seconds"], run.curve["val"], marker=".", label=label)
    for ax, xlabel in zip(axes, ("training step", "training seconds (this CPU)"), strict=True):
        ax.axhline(log_v, color="gray", linestyle=":", label="uniform guess, log V")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out nats/char")
    axes[0].legend()
    fig.suptitle(title)
    return _common.save_figure(fig, out_dir, "attention_vs_rnn.png")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = _common.make_parser(__doc__, "attention_lm")
    parser.add_argument("--models", default="rnn,transformer", help="comma-separated: rnn, transformer (default both)")
    parser.add_argument("--steps", type=int, default=1500, help="training steps per model (default 1500)")
    parser.add_argument("--batch", type=int, default=32, help="windows per step (default 32)")
    parser.add_argument("--context", type=int, default=64, help="window length C in characters (default 64)")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default 3e-3)")
    parser.add_argument("--hidden", type=int, default=128, help="rnn: GRU state size (default 128)")
    parser.add_argument("--embed", type=int, default=32, help="rnn: embedding size (default 32)")
    parser.add_argument("--d-model", type=int, default=64, help="transformer: width d_model (default 64)")
    parser.add_argument("--heads", type=int, default=4, help="transformer: attention heads (default 4)")
    parser.add_argument("--layers", type=int, default=2, help="transformer: encoder layers (default 2)")
    parser.add_argument("--text", default=None, help="train on this UTF-8 text file instead of the built-in corpus")
    parser.add_argument("--limit", type=int, default=0, help="use only this many docstring sentences (0: all)")
    parser.add_argument("--eval-every", type=int, default=0, help="steps between evaluations (default steps/10)")
    parser.add_argument("--no-bar", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.limit, args.eval_every = 150, args.limit or 1500, 30
        args.hidden, args.d_model, args.context, args.batch = 64, 32, 32, 16
    for name in ("steps", "batch", "context", "hidden", "embed", "d_model", "heads", "layers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {getattr(args, name)}")
    if args.d_model % args.heads:
        parser.error(f"--d-model {args.d_model} must be divisible by --heads {args.heads}")
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(args.models) - {"rnn", "transformer"})
    if unknown or not args.models:
        parser.error(f"--models: got {unknown or 'nothing'}; expected rnn and/or transformer")
    args.stream, args.max_len = True, 100  # load_corpus's flags: one long text
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    device = _common.setup(args)
    vocab, train_text, val_text, source = load_corpus(args)
    train_ids, val_ids, V, C = vocab.encode(train_text), vocab.encode(val_text), len(vocab), args.context
    rng = random.Random(args.seed)
    val_starts = list(range(0, len(val_ids) - C - 1, C))[:64]  # the same held-out windows for both
    val_batches = [windows(val_ids, val_starts[i:i + args.batch], C, device) for i in range(0, len(val_starts), args.batch)]
    builders = {
        "rnn": lambda: RNNLM(V, args.embed, args.hidden, device),
        "transformer": lambda: AttentionLM(V, args.d_model, args.heads, args.layers, C, device),
    }
    runs = []
    for name in args.models:
        tr.manual_seed(args.seed)
        runs.append(Run(name, builders[name](), args))
        print(f"{name}: {runs[-1].n_params} parameters")
    eval_every = args.eval_every or max(1, args.steps // 10)
    log_v = math.log(V)
    for run in runs:
        run.validate(val_batches, 0)
    bar = _common.progress(args.steps, desc="training", disable=args.no_bar)
    for step in range(1, args.steps + 1):
        starts = [rng.randrange(len(train_ids) - C - 1) for _ in range(args.batch)]
        x, y = windows(train_ids, starts, C, device)  # the same batch for both models
        losses = {run.name: run.train_step(x, y) for run in runs}  # one model at a time: no interleaving
        bar.update(1)
        bar.set_postfix(**{k: f"{v:.3f}" for k, v in losses.items()})
        if step % eval_every == 0 or step == args.steps:
            vals = ", ".join(f"{r.name} {r.validate(val_batches, step):.3f} ({r.seconds:.1f} s)" for r in runs)
            bar.write(f"step {step}: held-out nats/char {vals}")
    bar.close()
    print(f"\nafter {args.steps} steps of {args.batch} windows of {C} characters ({source}); uniform guess "
          f"log V = {log_v:.3f}")
    for run in runs:
        print(f"  {run.name:11s}: held-out {run.curve['val'][-1]:.3f} nats/char, {run.seconds:.1f} s of training, "
              f"{args.steps * args.batch * C / run.seconds:.0f} chars/s")
    path = plot(runs, log_v, args.out_dir, f"attention_lm: {source}, windows of {C}, batch {args.batch}")
    results = {run.name: {"val": run.curve["val"][-1], "seconds": run.seconds, "curve": run.curve} for run in runs}
    if args.quick:  # the test-suite's bar: each model learned well past the uniform guess
        for run in runs:
            _common.check(run.curve["val"][-1] < 0.75 * log_v,
                          f"{run.name} held-out {run.curve['val'][-1]:.3f} nats/char < 0.75 log V = {0.75 * log_v:.3f}")
    return {"runs": results, "log_v": log_v, "plot": path}


if __name__ == "__main__":
    _common.cli(main)
