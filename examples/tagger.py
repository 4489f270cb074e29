"""Many-to-many: mark the names in a sentence, and see what a bidirectional RNN adds.

The lecture slides (002) tag "John lives in Salt Lake City" word by word: one output
per input (the many-to-many pattern). Each word gets a tag: B (the first word of a
name), I (a later word of the same name) or O (not part of a name):

    john  lives  in  salt  lake  city          mary  likes  salt  and  pepper
    B     O      O   B     I     I             B     O      O     O    O

Everything is lowercase, as in a speech transcript, so capital letters give nothing
away. Some words are names only sometimes, and only the words AFTER them tell which:
"salt" (salt lake city / salt and pepper), "new" (new york / new shoes), "long" (long
beach / long walks), "olive" (olive smith / olive oil), "rose" (rose parker / rose
gardens), ... In "mary likes olive ___" nothing to the left decides the tag of
"olive". A unidirectional RNN must tag a word from the words up to it, so it can only
guess there; a bidirectional RNN (002, "BiDirectional RNNs") runs a second RNN from the
end of the sentence backwards and gives the output layer both states, [s_t(forward);
s_t(backward)], so it sees what follows.

Both models get the same budget: the same embedding, the same updates on the same
batches, and the same state width at the output layer (unidirectional: H units;
bidirectional: H/2 per direction, so it even has fewer parameters). Sentences of
different lengths share a batch through `lengths=`; the backward direction of each
sentence starts at its own last word. Padding positions carry the tag -100, which
`cross_entropy(..., ignore_index=-100)` leaves out of the loss.

The data are generated here (no download): people (first name, maybe a surname), places
(one to three words), verbs, and the ambiguous words above, which start a name half of
the time. Held-out sentences never occur in training. Printed: word accuracy, accuracy
on the ambiguous words, whole-sentence accuracy, for both models, and their tags for a
few sentences. tagger.png shows the held-out accuracies during training.

Examples:
  python examples/tagger.py                       # LSTM, 400 updates each (well under a minute)
  python examples/tagger.py --model gru --hidden 64 --device cuda
  python examples/tagger.py --quick               # the test-suite's learning check
"""

from __future__ import annotations

import argparse
import random
from typing import Any

import _common
from tagger_data import TAGS, make_datasets, vocabulary

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.nn import functional as F

PAD_TAG = -100  # cross_entropy's ignore_index: padding contributes no loss
DEMO = ["john lives in salt lake city", "mary likes salt and pepper", "omar talked about olive oil",
        "omar talked about olive smith", "anna loves new shoes", "anna loves new york with wei"]
# --quick checks (150 updates, seeds 0-2: bidirectional 1.000 on ambiguous words,
# unidirectional 0.49-0.50, i.e. a coin flip; all words 1.000 vs 0.955-0.957):
QUICK_BI_AMBIGUOUS = 0.90  # bidirectional accuracy on the ambiguous words
QUICK_MARGIN = 0.25  # ... at least this much above the unidirectional model's
QUICK_BI_WORDS = 0.97  # bidirectional accuracy on all words


# ----------------------------------------------------------------------------- model
class Tagger(nn.Module):
    """Embedding -> (bi)directional recurrent layer -> a linear layer on every step's state."""

    def __init__(self, vocab_size: int, cell: str, embed: int, width: int, bidirectional: bool,
                 device: str) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed, device=device)
        layer = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        hidden = width // 2 if bidirectional else width  # same state width at the output layer
        self.rnn = layer(embed, hidden, bidirectional=bidirectional, device=device)
        self.read_out = nn.Linear(width, len(TAGS), device=device)

    def forward(self, ids: Tensor, lengths: list[int] | Tensor) -> Tensor:
        """ids (T, B) -> tag scores (T, B, 3); bidirectional: from [s_t(fwd); s_t(bwd)]."""
        output, _ = self.rnn(self.embed(ids), lengths=lengths)
        return self.read_out(output)


def encode(batch: list, index: dict[str, int], device: str) -> tuple[Tensor, list[int], Tensor]:
    """Sentences -> padded ids (T_max, B), lengths, padded tags (T_max, B) with PAD_TAG."""
    ids = nn.utils.pad_sequence([Tensor([index[w] for w in s[0]], device=device) for s in batch], padding_value=0)
    tags = nn.utils.pad_sequence([Tensor(s[1], device=device) for s in batch], padding_value=PAD_TAG)
    return ids, [len(s[0]) for s in batch], tags


def predict(model: Tagger, batch: list, index: dict[str, int], device: str) -> list[list[int]]:
    """Predicted tag ids for each sentence."""
    out: list[list[int]] = []
    with tr.no_grad():
        for start in range(0, len(batch), 512):
            chunk = batch[start : start + 512]
            ids, lengths, _ = encode(chunk, index, device)
            best = model(ids, lengths).argmax(axis=-1).tolist()  # (T, B)
            out += [[best[t][b] for t in range(n)] for b, n in enumerate(lengths)]
    return out


def evaluate(model: Tagger, test: list, index: dict[str, int], device: str) -> dict[str, float]:
    """Accuracy on all words, on the ambiguous words, and on whole sentences."""
    counts = {"words": [0, 0], "ambiguous": [0, 0], "sentences": [0, 0]}
    for (_, tags, flags), guess in zip(test, predict(model, test, index, device), strict=True):
        for tag, flag, g in zip(tags, flags, guess, strict=True):
            counts["words"][0] += g == tag
            counts["words"][1] += 1
            if flag:
                counts["ambiguous"][0] += g == tag
                counts["ambiguous"][1] += 1
        counts["sentences"][0] += guess == tags
        counts["sentences"][1] += 1
    return {k: right / max(n, 1) for k, (right, n) in counts.items()}


def train(name: str, bidirectional: bool, args: argparse.Namespace, data: tuple, device: str) -> dict[str, Any]:
    train_set, test_set, index = data
    tr.manual_seed(args.seed)  # same initial draws ...
    rng = random.Random(args.seed + 1)  # ... and the same batches for both models
    model = Tagger(len(index), args.model, args.embed, args.hidden, bidirectional, device)
    params = list(model.parameters())
    opt = optim.Adam(params, lr=args.lr)
    history = {"steps": [0], "eval": [evaluate(model, test_set, index, device)], "loss": []}
    eval_every = max(1, args.steps // 15)

    def gradients(ids: Tensor, lengths: Any, tags: Tensor) -> Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(ids, lengths), tags, ignore_index=PAD_TAG)
        loss.backward()
        return loss

    gradients = _common.maybe_jit(gradients, args)  # recorded once per padded length, then replayed
    with _common.progress(args.steps, desc=name) as bar:
        for step in range(1, args.steps + 1):
            ids, lengths, tags = encode(rng.sample(train_set, args.batch), index, device)
            if not args.no_jit:  # T up to a multiple of 8 (tags padded with PAD_TAG), lengths as a Tensor
                ids, tags = _common.pad_time(ids), _common.pad_time(tags, value=PAD_TAG)
                lengths = Tensor(lengths, device=device)
            loss = gradients(ids, lengths, tags)
            nn.utils.clip_grad_norm_(params, args.clip)  # returns a float: outside the jitted step
            opt.step()
            history["loss"].append(loss.item())
            bar.update()
            if step % eval_every == 0 or step == args.steps:
                history["steps"].append(step)
                history["eval"].append(evaluate(model, test_set, index, device))
                bar.set_postfix(loss=loss.item(), ambiguous=history["eval"][-1]["ambiguous"])
    n_params = sum(p.numel() for p in params)
    return {"model": model, "history": history, "final": history["eval"][-1], "parameters": n_params}


def show(sentences: list[str], models: dict[str, dict[str, Any]], index: dict[str, int], device: str) -> None:
    batch = [(s.split(), [0] * len(s.split()), []) for s in sentences]
    guesses = {name: predict(res["model"], batch, index, device) for name, res in models.items()}
    for k, words in enumerate(s[0] for s in batch):
        width = [max(len(w), 2) for w in words]
        print("  " + " " * 15 + "  ".join(w.ljust(n) for w, n in zip(words, width, strict=True)))
        for name in models:
            tags = [TAGS[t] for t in guesses[name][k]]
            print(f"  {name:<15}" + "  ".join(t.ljust(n) for t, n in zip(tags, width, strict=True)))


def plot(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str | None:
    plt = _common.pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.7), sharey=True)
    titles = {"words": "all words", "ambiguous": "ambiguous words (salt, new, olive, ...)",
              "sentences": "whole sentences right"}
    for ax, (key, title) in zip(axes, titles.items(), strict=True):
        for name, res in results.items():
            h = res["history"]
            ax.plot(h["steps"], [e[key] for e in h["eval"]], label=name, linewidth=1.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training updates")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("held-out accuracy")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Name tagging: unidirectional vs bidirectional {args.model.upper()} "
                 f"(same budget; state width {args.hidden} at the output)", fontsize=11)
    return _common.save_figure(fig, args.out_dir, "tagger.png")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = _common.make_parser(__doc__, "tagger")
    parser.add_argument("--model", choices=["rnn", "gru", "lstm"], default="lstm",
                        help="recurrent layer: rnn (tanh), gru or lstm (default lstm)")
    parser.add_argument("--steps", type=int, default=None, help="training updates per model (default 400; --quick: 150)")
    parser.add_argument("--batch", type=int, default=32, help="sentences per update (default 32)")
    parser.add_argument("--embed", type=int, default=32, help="word-embedding size (default 32)")
    parser.add_argument("--hidden", type=int, default=64,
                        help="state width at the output layer: H for the unidirectional model, H/2 per direction "
                             "for the bidirectional one (default 64)")
    parser.add_argument("--lr", type=float, default=5e-3, help="Adam step size (default 5e-3)")
    parser.add_argument("--clip", type=float, default=1.0, help="clip the gradient norm to this (default 1.0)")
    parser.add_argument("--train-size", type=int, default=3000, help="generated training sentences (default 3000)")
    parser.add_argument("--test-size", type=int, default=1000, help="held-out sentences (default 1000)")
    args = parser.parse_args(argv)
    args.steps = args.steps if args.steps is not None else (150 if args.quick else 400)
    if args.hidden < 2 or args.hidden % 2:
        parser.error(f"--hidden {args.hidden}: expected an even number >= 2 (it is split between two directions)")
    device = _common.setup(args)

    words = vocabulary()
    index = {w: i for i, w in enumerate(words)}
    train_set, test_set = make_datasets(args.train_size, args.test_size, args.seed)
    n_ambiguous = sum(sum(flags) for _, _, flags in test_set)
    print(f"{len(train_set)} training sentences, {len(test_set)} held-out ({n_ambiguous} ambiguous words), "
          f"vocabulary {len(words)} words")
    data = (train_set, test_set, index)
    results = {
        "unidirectional": train("unidirectional", False, args, data, device),
        "bidirectional": train("bidirectional", True, args, data, device),
    }

    print(f"\n{'held-out accuracy':<18} {'all words':>10} {'ambiguous':>10} {'sentences':>10} {'parameters':>11}")
    for name, res in results.items():
        f = res["final"]
        print(f"{name:<18} {f['words']:10.3f} {f['ambiguous']:10.3f} {f['sentences']:10.3f} {res['parameters']:11d}")
    print()
    show(DEMO, results, index, device)
    plot(results, args)

    if args.quick:
        uni, bi = results["unidirectional"]["final"], results["bidirectional"]["final"]
        _common.check(bi["ambiguous"] >= QUICK_BI_AMBIGUOUS,
                      f"bidirectional accuracy on ambiguous words {bi['ambiguous']:.3f} >= {QUICK_BI_AMBIGUOUS}")
        _common.check(bi["ambiguous"] - uni["ambiguous"] >= QUICK_MARGIN,
                      f"bidirectional beats unidirectional on ambiguous words by "
                      f"{bi['ambiguous'] - uni['ambiguous']:.3f} >= {QUICK_MARGIN} "
                      f"({bi['ambiguous']:.3f} vs {uni['ambiguous']:.3f})")
        _common.check(bi["words"] >= QUICK_BI_WORDS and bi["words"] > uni["words"],
                      f"bidirectional word accuracy {bi['words']:.3f} >= {QUICK_BI_WORDS} and above the "
                      f"unidirectional {uni['words']:.3f}")
    return {name: {k: v for k, v in res.items() if k != "model"} for name, res in results.items()}


if __name__ == "__main__":
    _common.cli(main)
