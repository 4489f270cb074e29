"""A character-level language model: the notes' RNN language model, trained end to end.

Every sentence c = (c_1 .. c_k) becomes one training pair (6.390 notes C.4, RNN as a
language model, C.18-C.19):

    x = (<start>, c_1, ..., c_k)        y = (c_1, ..., c_k, <end>)

so at step t the RNN has read c_1..c_{t-1} and must predict c_t, and at the last step
it must predict that the sentence is over. Sentences of different lengths share a
batch: they are padded, the recurrent layer gets their `lengths` (outputs past each end
are 0), and padded targets are set to ignore_index so they add nothing to the loss.

The objective is the notes' J = (1/q) sum_i L_seq(g^(i), y^(i)) (C.16) over a batch of
q sentences, with L_seq = sum_t L_elt (C.15) and L_elt the softmax-NLL of the true next
character. In code that is one line:

    J = cross_entropy(logits, y, reduction="sum", ignore_index=IGNORE) / q

(f_o = softmax lives inside cross_entropy; the network outputs the logits z^2_t.)
Progress and validation are reported per character, nats/char = sum of L_elt /
number of predicted characters; guessing uniformly over V symbols scores log(V).

Sampling (one-to-many use of the RNN) starts from <start>, draws a character from
softmax(z^2_t / temperature), feeds it back as the next input, and stops at <end>.
Samples are printed before training and at every evaluation, so you can watch them
turn from noise into words.

Default corpus, no download: sentences gathered at run time from the docstrings of
about ninety modules of Python's own standard library (string, json, argparse, ...),
the ones this Python has (the exact text varies a little between Python versions).
--text FILE trains on any UTF-8 text file instead, one line per "sentence" (long lines
are wrapped), e.g. --text ../shared/data/tinyshakespeare.txt.

--stream trains the classic way instead: the whole text is one long stream, cut into
B parallel streams read in chunks of --bptt characters; the state at the end of one
chunk is carried, DETACHED, into the next (truncated back-propagation through time),
and the loss is the mean NLL per character of a chunk.

Models (--model): elman and gated are the notes' ElmanRNN and GatedRNN (C.5-C.6,
C.48-C.49) whose output layer W^o s_t + W_0^o gives the logits; rnn, gru and lstm are
the PyTorch-style layers followed by a Linear layer. Every model reads characters
through an Embedding (row c of the table = the table times the one-hot vector of c).

Speed: training runs through tr.jit (each step's shape recorded once, then replayed;
--no-jit runs the tape). Sentence batches are padded to a multiple of 8 characters and
their lengths passed as a Tensor, so each padded length records once. The final line
"training speed" gives characters per second of the training steps.

--distributed trains as one of N processes started by `mpiexec -n N python
examples/char_lm.py --distributed ...`: each process takes its share of every batch
(sentences or streams), nn.parallel.DistributedDataParallel averages the gradients,
weighted by the shares' sizes, so the N processes take the steps one process would;
progress is printed by rank 0 only (the train loss and speed over all processes).

Files: corpus.py gathers the text, char_model.py is the network and its sampler,
sentence_trainer.py the notes' (x, y) pairs and J, stream_trainer.py the --stream loop; --save writes a tr.save_checkpoint file (model,
Adam, RNG, step; vocabulary and architecture as extras) that --resume continues.
The loss curve goes to runs/char_lm/ (git-ignored) unless --out-dir says otherwise.

Examples:
  python examples/char_lm.py                                  # ~3 min on 2 CPU cores
  python examples/char_lm.py --out-dir docs/img               # redraw README's picture
  python examples/char_lm.py --model lstm --hidden 256 --steps 3000 --device cuda
  python examples/char_lm.py --text ../shared/data/tinyshakespeare.txt --stream
  python examples/char_lm.py --save lm.npz --steps 500        # then: --resume lm.npz --steps 1000
  python examples/char_lm.py --quick                          # the test-suite's run (~15 s)
  mpiexec -n 2 python examples/char_lm.py --distributed --quick   # the same run on 2 processes
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import _common
from char_model import MODELS, CharLM
from corpus import Vocab, load_corpus
from sentence_trainer import SentenceTrainer
from stream_trainer import StreamTrainer

import tinygrad_rnn as tr
from tinygrad_rnn import optim

QUICK_FRACTION = 0.40  # --quick: validation nats/char must end at least 40 % below log(V)


# --------------------------------------------------------------------------- training
def build_model(args: Any, V: int, device: str) -> tuple[CharLM, Any]:
    model = CharLM(V, args.model, args.hidden, args.layers, args.embed, device)
    if args.distributed:  # rank 0's weights everywhere; backward() averages the gradients
        model = tr.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=args.bucket_mb)
    return model, optim.Adam(list(model.parameters()), lr=args.lr)


def start_distributed(args: Any) -> None:
    """Join the mpiexec job; ranks other than 0 print nothing (their stdout goes nowhere)."""
    tr.distributed.init_process_group("mpi")
    args.rank, args.world = tr.distributed.get_rank(), tr.distributed.get_world_size()
    if args.batch < args.world:
        raise SystemExit(f"--batch {args.batch} with {args.world} processes: expected at least one sentence "
                         "(or stream) per process")
    if args.rank != 0:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
    print(f"distributed: {args.world} process(es) over MPI, each on its share of every batch of {args.batch}")


def total(*values: float) -> list[float]:
    """The sums over all processes (the loss and characters of the whole step, for the log)."""
    t = tr.Tensor(list(values), dtype="float64")
    tr.distributed.all_reduce(t)
    return t.tolist()



def save_checkpoint(path: str, model: CharLM, opt: Any, step: int, vocab: Vocab, args: Any,
                    history: dict[str, list[float]], position: int = 0) -> None:
    """tr.save_checkpoint of the model, the optimizer, the RNG and the step; the
    vocabulary, the architecture, the loss curve and (--stream) the read position in the
    streams go in ``extra``. The carried --stream state is not saved: a resumed stream
    starts at its position from a blank state."""
    config = {key: getattr(args, key) for key in ("model", "hidden", "layers", "embed", "stream")}
    extra = {"vocab": "".join(vocab.chars), "config": config, "history": history, "stream_position": position}
    (tr.distributed.save_checkpoint if args.distributed else tr.save_checkpoint)(path, model, opt, step=step,
                                                                               extra=extra)


def read_checkpoint(path: str, args: Any) -> dict[str, Any]:
    """The step and extras of a checkpoint; sets the architecture flags in ``args`` from them."""
    info = tr.load_checkpoint(path, restore_rng=False)  # no model yet: it is built from these extras
    config = info["extra"]["config"]
    if config["stream"] != args.stream:
        raise SystemExit(f"--resume {path}: the checkpoint was trained {'with' if config['stream'] else 'without'} "
                         "--stream; resume it the same way")
    args.model, args.hidden, args.layers, args.embed = (config[k] for k in ("model", "hidden", "layers", "embed"))
    print(f"resuming {path}: step {info['step']}, model {args.model}, hidden {args.hidden}, "
          f"layers {args.layers}, embed {args.embed} (architecture taken from the checkpoint)")
    return info


def plot_curves(history: dict[str, list[float]], log_v: float, title: str, out_dir: str, name: str) -> str | None:
    plt = _common.pyplot()
    if plt is None or not history.get("step"):
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(history["step"], history["train"], label="train (mean since last point)")
    ax.plot(history["step"], history["val"], "o-", label="validation (held out)")
    ax.axhline(log_v, color="gray", ls="--", lw=1, label=f"uniform guess, log V = {log_v:.2f}")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title(title, fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    return _common.save_figure(fig, out_dir, name)


def train(args: Any, device: str) -> dict[str, Any]:
    """Sentence mode (default) or --stream; returns the metrics the quick check uses."""
    saved = read_checkpoint(args.resume, args) if args.resume else None
    vocab, train_data, val_data, source = load_corpus(args, saved["extra"]["vocab"] if saved else None)
    V, log_v = len(vocab), math.log(len(vocab))
    print(f"uniform baseline: log V = {log_v:.3f} nats/char")

    model, opt = build_model(args, V, device)
    step, history = 0, {"step": [], "train": [], "val": []}
    if saved is not None:  # parameters, Adam's moments and the RNG as they were; then the loss curve
        step = tr.load_checkpoint(args.resume, model, opt)["step"]
        history = saved["extra"]["history"]
    print(f"model: {args.model}, hidden {args.hidden}, layers {args.layers}, embed {args.embed}: "
          f"{sum(p.numel() for p in model.parameters())} parameters, Adam lr {args.lr}, clip {args.clip}, "
          f"device {device}")

    trainer = StreamTrainer if args.stream else SentenceTrainer
    run = trainer(args, model, opt, vocab, train_data, val_data, device)
    if saved is not None and args.stream:
        run.position = saved["extra"]["stream_position"]
    first_val = run.validate()
    if not history["val"]:
        history["step"].append(step)
        history["train"].append(first_val)
        history["val"].append(first_val)
    print(f"step {step}: validation {first_val:.3f} nats/char")
    show_samples(run, args, step, print)

    eval_every = args.eval_every or max(1, args.steps // 8)
    bar = _common.progress(max(0, args.steps - step), desc="training", disable=args.no_bar)
    window_loss, window_chars, chars_seen, seconds, speed = 0.0, 0, 0, 0.0, 0.0
    while step < args.steps:
        t0 = time.perf_counter()
        loss_sum, chars = run.train_step(step)
        if args.distributed:
            loss_sum, chars = total(loss_sum, chars)
        seconds += time.perf_counter() - t0  # training steps only: not validation or sampling
        step += 1
        window_loss, window_chars, chars_seen = window_loss + loss_sum, window_chars + chars, chars_seen + chars
        bar.update(1)
        speed = chars_seen / max(seconds, 1e-9)
        bar.set_postfix(loss=f"{loss_sum / chars:.3f}", chars_per_s=f"{speed:.0f}")
        if step % eval_every == 0 or step == args.steps:
            val = run.validate()
            history["step"].append(step)
            history["train"].append(window_loss / window_chars)
            history["val"].append(val)
            window_loss, window_chars = 0.0, 0
            bar.write(f"step {step}: train {history['train'][-1]:.3f}, validation {val:.3f} nats/char, "
                      f"{speed:.0f} chars/s")
            show_samples(run, args, step, bar.write)
            if args.save:
                save_checkpoint(args.save, model, opt, step, vocab, args, history, getattr(run, "position", 0))
    bar.close()
    if args.save and step == history["step"][-1]:
        print(f"checkpoint: {args.save} (step {step})")

    jit = getattr(run.gradients, "records", None)
    how = "the tape" if jit is None else f"tr.jit, {jit} recordings and {run.gradients.replays} replays"
    print(f"training speed: {speed:.0f} chars/s through {how}")
    final_val = history["val"][-1]
    print(f"\nheld-out validation loss: {final_val:.3f} nats/char ({final_val / math.log(2):.3f} bits/char); "
          f"uniform guess log V = {log_v:.3f}; at the start {history['val'][0]:.3f}")
    mode = "stream, truncated BPTT" if args.stream else "sentences with <start>/<end>"
    plot = None if getattr(args, "rank", 0) else plot_curves(history, log_v, f"char_lm: {args.model}, {mode}, {source}", args.out_dir,
                       "char_lm_stream_loss.png" if args.stream else "char_lm_loss.png")
    return {"val": final_val, "val_start": history["val"][0], "log_v": log_v, "steps": step,
            "history": history, "plot": plot, "samples": run.last_samples}


def show_samples(run: Any, args: Any, step: int, write: Any) -> None:
    if args.sample <= 0:  # --sample 0: no samples
        return
    texts = run.samples(args.sample, args.temperature)
    run.last_samples = texts
    write(f"  samples at step {step} (temperature {args.temperature}):")
    for text in texts:
        write("    | " + text.replace("\n", "\n    | "))


# ------------------------------------------------------------------------------- main
def parse(argv: list[str] | None) -> Any:
    parser = _common.make_parser(__doc__, "char_lm")
    parser.add_argument("--model", choices=MODELS, default="gru", help="recurrent core (default gru)")
    parser.add_argument("--hidden", type=int, default=128, help="state size m (default 128)")
    parser.add_argument("--layers", type=int, default=1, help="stacked recurrent layers (default 1)")
    parser.add_argument("--embed", type=int, default=32, help="embedding size of each character (default 32)")
    parser.add_argument("--steps", type=int, default=1200, help="total training steps (default 1200)")
    parser.add_argument("--batch", type=int, default=32, help="sentences (or streams) per step, q (default 32)")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default 3e-3)")
    parser.add_argument("--clip", type=float, default=5.0,
                        help="clip the gradient norm of J to this (0: off; default 5)")
    parser.add_argument("--text", default=None, help="train on this UTF-8 text file instead of the built-in corpus")
    parser.add_argument("--max-len", type=int, default=100, help="--text: wrap lines longer than this (default 100)")
    parser.add_argument("--limit", type=int, default=0, help="use only this many sentences (0: all)")
    parser.add_argument("--stream", action="store_true",
                        help="train on one long stream with truncated BPTT (detached state between chunks)")
    parser.add_argument("--bptt", type=int, default=64, help="--stream: chunk length in characters (default 64)")
    parser.add_argument("--sample", type=int, default=3, help="samples printed at each evaluation (0: none; default 3)")
    parser.add_argument("--sample-len", type=int, default=160, help="longest sample, in characters (default 160)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (0: greedy; default 0.8)")
    parser.add_argument("--eval-every", type=int, default=0, help="steps between evaluations (default steps/8)")
    parser.add_argument("--save", default=None, help="write a checkpoint (.npz) here at every evaluation")
    parser.add_argument("--resume", default=None, help="continue from a checkpoint written by --save")
    parser.add_argument("--no-bar", action="store_true", help="no progress bar")
    parser.add_argument("--distributed", action="store_true",
                        help="one of the processes of `mpiexec -n N`: each takes its share of every batch")
    parser.add_argument("--bucket-mb", type=float, default=0.1,
                        help="--distributed: megabytes of gradients per all-reduce (default 0.1)")
    args = parser.parse_args(argv)
    if args.quick:  # small and short, for the test-suite
        args.hidden, args.embed, args.steps, args.batch = 64, 16, 100, 16
        args.limit, args.sample, args.eval_every = args.limit or 1200, 2, 50
        args.lr = 1e-2
    for name in ("hidden", "layers", "embed", "batch", "bptt", "max_len", "sample_len"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    if args.distributed:
        start_distributed(args)
    device = _common.setup(args)
    metrics = train(args, device)
    if args.distributed:
        tr.distributed.destroy_process_group()
    if args.quick:
        bar = (1 - QUICK_FRACTION) * metrics["log_v"]
        _common.check(metrics["val"] <= bar,
                      f"validation loss {metrics['val']:.3f} nats/char is at least {QUICK_FRACTION:.0%} below "
                      f"the uniform log V = {metrics['log_v']:.3f} (bar {bar:.3f})")
    return metrics


if __name__ == "__main__":
    _common.cli(main)
