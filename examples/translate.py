"""Many-to-many: machine translation, with and without attention (the slides' 003).

A sentence in, a sentence of a different length and word order out: the slides'
many-to-many example, machine translation. The language pair is generated here (no
download; translate_data.py): small English clauses into an invented language where
the verb comes last, adjectives follow their noun, articles vanish, case particles and
postpositions appear:

    the big dog sees a small cat near the old man   ->   waku gon ga miro tin o oman sapa pe mira

Both models read the source with a bidirectional GRU (`lengths=` for the ragged batch)
and write the translation with a GRUCell, one word at a time, from the previous word and
a context vector c_t (translate_model.py):

  * no attention: c_t is the encoder's final state at every step. The whole sentence
    must pass through one fixed-size vector: the slides' "encoding bottleneck".
  * attention: c_t = sum_j a_tj h_j, a weighted average of the encoder states of ALL
    source words, a_t = softmax over the source words of a score of the decoder state
    s_{t-1} and h_j: additive (Bahdanau) v^T tanh(W_q s_{t-1} + W_k h_j), or a scaled
    dot product. Padded source positions get exactly zero weight (a mask by lengths).
    The decoder looks up the words it needs now, wherever they are in the source.

Training uses teacher forcing: the decoder reads the TRUE previous word, and the loss is
the cross-entropy of every next word (and of the end token </s>). Translating uses
greedy decoding (the most likely word at each step) and beam search (--beam K: the K
most likely partial translations at each step, by total log-probability).

The test: exact match (every word right) on held-out sentences, of the training lengths
(up to --max-train-len words) and LONGER than any seen in training (up to
--max-test-len). Both models get the same budget: the same initial draws where their
parameters agree, the same batches, the same updates. Printed: the accuracies, a few
translations; translate.png shows the attention weights of one long held-out sentence
(source words x output words: the alignment, with the reordering visible) and exact
match against source length for both models.

Speed: training runs through tr.jit (--no-jit: the tape). Every batch has its own mix of
lengths, so source and target are padded to a multiple of 4 words and the source lengths
passed as a Tensor: each padded shape is recorded once and replayed after.

Examples:
  python examples/translate.py                          # both models (a few minutes on 2 CPU cores)
  python examples/translate.py --attention dot --beam 8
  python examples/translate.py --attention none --no-compare --hidden 128
  python examples/translate.py --quick                  # the test-suite's learning check
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

import _common
from translate_data import make_datasets, translate, vocabularies
from translate_model import BOS, EOS, PAD, Translator, beam_search, greedy

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.nn import functional as F

NAMES = {"additive": "additive attention", "dot": "dot attention", "none": "no attention"}
IGNORE = -100  # cross_entropy's ignore_index: padded target positions add no loss
DEMO = "the old king finds a small bird near the farmer and the tired child watches the fish"  # 17 words
# --quick checks (120 updates through tr.jit; seeds 0-2 reached, with additive attention, 0.99-1.00 exact match
# on held-out sentences of the training lengths and 0.45-0.61 on the longer ones; without attention 0.00 there):
QUICK_SHORT = 0.80  # attention: exact match on held-out sentences of the training lengths
QUICK_LONG = 0.30  # attention: exact match on held-out sentences longer than any in training
QUICK_MARGIN = 0.25  # ... at least this much above the no-attention model's
QUICK_LOSS_FALL = 0.5  # --attention none: the training loss at least halves


def pad(rows: list[list[int]], value: int, device: str, multiple: int = 1) -> Tensor:
    """Rows of different lengths -> one time-major tensor (T, B), padded with ``value``; T is
    the longest row rounded up to a multiple of ``multiple``."""
    T = -(-max(len(row) for row in rows) // multiple) * multiple
    return Tensor([[row[t] if t < len(row) else value for row in rows] for t in range(T)], device=device)


def encode(pairs: list, source_index: dict[str, int], target_index: dict[str, int],
           device: str, multiple: int = 1) -> tuple[Tensor, list[int], Tensor, Tensor]:
    """Pairs -> source ids (S, B), lengths, decoder inputs (<s>, y_1..) and targets (y_1.., </s>), (T, B);
    S and T rounded up to a multiple of ``multiple``."""
    source = [[source_index[w] for w in s] for s, _ in pairs]
    target = [[target_index[w] for w in t] for _, t in pairs]
    return (pad(source, PAD, device, multiple), [len(s) for s in source],
            pad([[BOS, *t] for t in target], PAD, device, multiple), pad([[*t, EOS] for t in target], IGNORE, device, multiple))


def translations(model: Translator, pairs: list, vocab: dict[str, Any], device: str, beam: int = 1) -> list:
    """Each pair's source translated by greedy decoding (beam 1) or beam search, as words."""
    out: list[list[str]] = []
    for start in range(0, len(pairs), 250):
        chunk = pairs[start : start + 250]
        source, lengths, _, _ = encode(chunk, vocab["source_index"], vocab["target_index"], device)
        max_len = 2 * max(lengths) + 2
        ids = greedy(model, source, lengths, max_len)[0] if beam == 1 else \
            beam_search(model, source, lengths, max_len, beam)
        out += [[vocab["target"][i] for i in sentence] for sentence in ids]
    return out


def exact_match(model: Translator, pairs: list, vocab: dict[str, Any], device: str, beam: int = 1) -> dict:
    """The fraction of pairs translated exactly right, overall and by source length."""
    by_length: dict[int, list[int]] = {}
    for (source, target), guess in zip(pairs, translations(model, pairs, vocab, device, beam), strict=True):
        by_length.setdefault(len(source), []).append(guess == target)
    right = sum(sum(v) for v in by_length.values())
    return {"all": right / len(pairs), "by_length": {n: sum(v) / len(v) for n, v in sorted(by_length.items())}}


def train(name: str, attention: str, args: argparse.Namespace, data: dict[str, Any], device: str) -> dict[str, Any]:
    vocab = data["vocab"]
    tr.manual_seed(args.seed)  # the same initial draws ...
    rng = random.Random(args.seed + 1)  # ... and the same batches for every model
    model = Translator(len(vocab["source"]), len(vocab["target"]), args.embed, args.hidden, attention, device)
    params = list(model.parameters())
    opt = optim.Adam(params, lr=args.lr)
    losses: list[float] = []

    def gradients(source: Tensor, lengths: Any, target_in: Tensor, target_out: Tensor) -> Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(source, lengths, target_in), target_out, ignore_index=IGNORE)
        loss.backward()
        return loss

    gradients = _common.maybe_jit(gradients, args, max_cache=32)  # one recording per padded (S, T)
    start = time.perf_counter()
    with _common.progress(args.steps, desc=name) as bar:
        for step in range(1, args.steps + 1):
            # With tr.jit, S and T are padded up to a multiple of 4 and the lengths go in as a Tensor: few shapes.
            source, lengths, target_in, target_out = encode(rng.sample(data["train"], args.batch), vocab["source_index"],
                                                            vocab["target_index"], device, 1 if args.no_jit else 4)
            loss = gradients(source, lengths if args.no_jit else Tensor(lengths, device=device), target_in, target_out)
            nn.utils.clip_grad_norm_(params, args.clip)  # returns a float: outside the jitted step
            opt.step()
            losses.append(loss.item())
            bar.update()
            if step % 20 == 0:
                bar.set_postfix(loss=sum(losses[-20:]) / 20)
    result: dict[str, Any] = {"model": model, "loss": losses, "parameters": sum(p.numel() for p in params),
                              "seconds": time.perf_counter() - start}
    for split in ("short", "long"):
        result[split] = exact_match(model, data[split], vocab, device)
        if args.beam > 1:
            result[f"{split}_beam"] = exact_match(model, data[split], vocab, device, args.beam)
    return result


def plot(results: dict[str, dict[str, Any]], data: dict[str, Any], args: argparse.Namespace,
         device: str) -> str | None:
    plt = _common.pyplot()
    if plt is None:
        return None
    attentive = [name for name in results if name != NAMES["none"]]
    fig, axes = plt.subplots(1, 2 if attentive else 1, figsize=(11.5, 5.0) if attentive else (6, 4),
                             gridspec_kw={"width_ratios": [1.45, 1]} if attentive else None, squeeze=False)
    if attentive:  # the attention weights of one long held-out sentence: the learned alignment
        ax, model = axes[0][0], results[attentive[0]]["model"]
        words = DEMO.split()
        source, lengths, _, _ = encode([(words, translate(words))], data["vocab"]["source_index"],
                                       data["vocab"]["target_index"], device)
        ids, weights = greedy(model, source, lengths, 2 * len(words) + 2)
        out = [data["vocab"]["target"][i] for i in ids[0]] + ["</s>"]
        ax.imshow(weights[0], cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(words)), words, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(out)), out, fontsize=8)
        ax.set_xlabel("source (English)")
        ax.set_ylabel("output, one row per word")
        ax.set_title(f"{attentive[0]}: attention weights a_tj ({len(words)} words, longer than any in training)",
                     fontsize=9)
    ax = axes[0][-1]
    for name, res in results.items():
        curve = {**res["short"]["by_length"], **res["long"]["by_length"]}
        ax.plot(list(curve), list(curve.values()), "o-", label=name, markersize=4)
    ax.axvspan(args.max_train_len + 0.5, args.max_test_len + 0.5, color="C1", alpha=0.08)
    ax.axvline(args.max_train_len + 0.5, color="gray", linestyle="--", linewidth=1)
    ax.text(args.max_train_len + 0.7, 0.03, "longer than\nany in training", fontsize=8, color="0.3")
    ax.set_xticks(range(4, args.max_test_len + 1, 2))
    ax.set_xlabel("source sentence length (words)")
    ax.set_ylabel("held-out exact match (greedy)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"GRU encoder-decoder, hidden {args.hidden}, {args.steps} updates", fontsize=9)
    return _common.save_figure(fig, args.out_dir, "translate.png")


def quick_checks(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    if args.attention == "none":  # the bottleneck model alone: it learns, if slowly
        loss = results[NAMES["none"]]["loss"]
        first, last = sum(loss[:10]) / 10, sum(loss[-10:]) / 10
        _common.check(last <= QUICK_LOSS_FALL * first, f"no attention: training loss fell from {first:.3f} to "
                      f"{last:.3f} (first and last 10 updates), at least by {1 - QUICK_LOSS_FALL:.0%}")
        return
    name = NAMES[args.attention]
    short, long = results[name]["short"]["all"], results[name]["long"]["all"]
    _common.check(short >= QUICK_SHORT, f"{name}: exact match on held-out sentences of the training lengths "
                  f"{short:.3f} >= {QUICK_SHORT}")
    _common.check(long >= QUICK_LONG, f"{name}: exact match on held-out sentences longer than any in training "
                  f"{long:.3f} >= {QUICK_LONG}")
    if args.compare:
        none = results[NAMES["none"]]["long"]["all"]
        _common.check(long - none >= QUICK_MARGIN, f"attention beats no attention on the longer sentences by "
                      f"{long - none:.3f} >= {QUICK_MARGIN} ({long:.3f} vs {none:.3f})")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = _common.make_parser(__doc__, "translate")
    parser.add_argument("--attention", choices=["additive", "dot", "none"], default="additive",
                        help="the decoder's attention: additive (Bahdanau), dot (scaled dot product) or none "
                             "(the encoding bottleneck) (default additive)")
    parser.add_argument("--compare", action=argparse.BooleanOptionalAction, default=True,
                        help="also train a no-attention model on the same batches (default: on)")
    parser.add_argument("--beam", type=int, default=4, help="beam width for beam search; 1: greedy only (default 4)")
    parser.add_argument("--steps", type=int, default=None, help="training updates per model (default 1500; --quick: 120)")
    parser.add_argument("--batch", type=int, default=64, help="sentence pairs per update (default 64)")
    parser.add_argument("--embed", type=int, default=32, help="word-embedding size (default 32)")
    parser.add_argument("--hidden", type=int, default=64, help="state size H of each GRU (default 64)")
    parser.add_argument("--lr", type=float, default=None, help="Adam step size (default 5e-3; --quick: 1e-2)")
    parser.add_argument("--clip", type=float, default=1.0, help="clip the gradient norm to this (default 1.0)")
    parser.add_argument("--train-size", type=int, default=20000, help="generated training pairs (default 20000)")
    parser.add_argument("--test-size", type=int, default=500, help="held-out pairs of each kind (default 500)")
    parser.add_argument("--max-train-len", type=int, default=14, help="longest training source, in words (default 14)")
    parser.add_argument("--max-test-len", type=int, default=20,
                        help="longest held-out source (default 20); the long test set is max-train-len+1 .. this")
    args = parser.parse_args(argv)
    if args.quick:  # fewer, larger steps; fewer sentences to generate and to translate
        args.steps, args.lr = args.steps or 120, args.lr or 1e-2
        args.train_size, args.test_size, args.beam = min(args.train_size, 8000), min(args.test_size, 150), min(args.beam, 3)
    args.steps, args.lr = args.steps or 1500, args.lr or 5e-3
    for flag in ("beam", "steps", "batch", "embed", "hidden", "train_size", "test_size"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} {getattr(args, flag)}: expected a positive integer")
    if not 3 <= args.max_train_len < args.max_test_len <= 35:
        parser.error(f"--max-train-len {args.max_train_len} and --max-test-len {args.max_test_len}: expected "
                     "3 <= max-train-len < max-test-len <= 35 (sentences have 3-35 words)")
    args.compare = args.compare and args.attention != "none"  # --attention none: that is the one model
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    device = _common.setup(args)
    source_words, target_words = vocabularies()
    vocab = {"source": source_words, "target": target_words,
             "source_index": {w: i for i, w in enumerate(source_words)},
             "target_index": {w: i for i, w in enumerate(target_words)}}
    train_set, short, long = make_datasets(args.train_size, args.test_size, args.max_train_len, args.max_test_len,
                                           args.seed)
    data = {"train": train_set, "short": short, "long": long, "vocab": vocab}
    print(f"{len(train_set)} training pairs of {min(len(s) for s, _ in train_set)}-{args.max_train_len} source words; held out: {len(short)} of the "
          f"same lengths, {len(long)} of {args.max_train_len + 1}-{args.max_test_len} words; vocabularies "
          f"{len(source_words)} and {len(target_words)} words")
    for s, t in train_set[:2]:
        print(f"  {' '.join(s)}  ->  {' '.join(t)}")

    kinds = [args.attention, "none"] if args.compare else [args.attention]
    results = {NAMES[kind]: train(NAMES[kind], kind, args, data, device) for kind in kinds}

    beam = f"   beam {args.beam}: short   long" if args.beam > 1 else ""
    print(f"\nheld-out exact match      greedy: short   long{beam}   parameters   training")
    for name, res in results.items():
        line = f"{name:<26}{res['short']['all']:14.3f}{res['long']['all']:7.3f}"
        if args.beam > 1:
            line += f"{res['short_beam']['all']:16.3f}{res['long_beam']['all']:7.3f}"
        print(f"{line}{res['parameters']:13d}{res['seconds']:9.0f} s")
    for name, res in results.items():
        by_length = "  ".join(f"{n}: {acc:.2f}" for n, acc in res["long"]["by_length"].items())
        print(f"{name:<26}long, by source length (greedy): {by_length}")
    print(f"(short: {args.max_train_len} source words or fewer, as in training; long: "
          f"{args.max_train_len + 1}-{args.max_test_len} words; {args.steps} updates of {args.batch} pairs each, "
          f"{'on the tape' if args.no_jit else 'through tr.jit'})")
    words = DEMO.split()
    print(f"\n  source     {DEMO}\n  reference  {' '.join(translate(words))}")
    for name, res in results.items():
        guess = translations(res["model"], [(words, [])], vocab, device)[0]
        print(f"  {name:<10} {' '.join(guess)}")
    plot(results, data, args, device)

    if args.quick:
        quick_checks(results, args)
    return {name: {k: v for k, v in res.items() if k != "model"} for name, res in results.items()}


if __name__ == "__main__":
    _common.cli(main)
