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

Examples:
  python examples/char_lm.py                                  # ~3 min on 2 CPU cores
  python examples/char_lm.py --model lstm --hidden 256 --steps 3000 --device cuda
  python examples/char_lm.py --text ../shared/data/tinyshakespeare.txt --stream
  python examples/char_lm.py --save lm.npz --steps 500        # then: --resume lm.npz --steps 1000
  python examples/char_lm.py --quick                          # the test-suite's run (~15 s)
"""

from __future__ import annotations

import importlib
import inspect
import math
import random
import re
import textwrap
import time
import warnings
from typing import Any

import _common

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim

F = nn.functional

MODELS = ("elman", "gated", "rnn", "gru", "lstm")
START, END = 0, 1  # token ids of the notes' special tokens; characters follow from id 2
IGNORE = -100  # target value of padded positions: no loss, no gradient
QUICK_FRACTION = 0.40  # --quick: validation nats/char must end at least 40 % below log(V)

STDLIB_MODULES = (
    "abc argparse ast base64 bisect calendar cmd codecs collections colorsys configparser contextlib "
    "copy csv dataclasses datetime decimal difflib email.message enum filecmp fileinput fnmatch fractions "
    "ftplib functools getopt gettext glob gzip hashlib heapq hmac html.parser http.client http.cookiejar "
    "http.server imaplib inspect io ipaddress itertools json locale logging logging.handlers mailbox math "
    "mimetypes netrc numbers operator optparse os pathlib pickle platform plistlib poplib pprint queue "
    "quopri random re sched secrets selectors shelve shlex shutil smtplib socket socketserver sqlite3 "
    "statistics string struct subprocess tarfile tempfile textwrap threading timeit tokenize trace "
    "traceback typing unittest urllib.parse urllib.request uuid warnings wave weakref xml.dom.minidom "
    "zipfile zipimport"
).split()


# ----------------------------------------------------------------------------- corpus
def _docstrings(module: Any) -> list[str]:
    """The module's docstring and those of its public classes, functions and methods."""
    found, seen = [], set()

    def add(obj: Any) -> None:
        doc = getattr(obj, "__doc__", None)
        if isinstance(doc, str) and doc not in seen:
            seen.add(doc)
            found.append(doc)

    add(module)
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            add(obj)
        if inspect.isclass(obj):
            for attr, method in sorted(vars(obj).items()):
                if not attr.startswith("_") and inspect.isfunction(method):
                    add(method)
    return found


def stdlib_sentences() -> list[str]:
    """Plain-English sentences from standard-library docstrings (deduplicated, sorted)."""
    sentences = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in STDLIB_MODULES:
            try:
                module = importlib.import_module(name)
            except Exception:  # a module this Python lacks (or cannot import): skip it
                continue
            for doc in _docstrings(module):
                for paragraph in re.split(r"\n\s*\n", doc):
                    if ">>>" in paragraph or "::" in paragraph:  # code examples
                        continue
                    text = " ".join(paragraph.split())
                    for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text):
                        symbols = sum(c in "{}[]()=_<>|*`'\"\\/#@$%^~" for c in s)
                        if (25 <= len(s) <= 100 and s[0].isupper() and s[-1] in ".!?" and s.isascii()
                                and s.isprintable() and symbols <= 2):
                            sentences.add(s)
    return sorted(sentences)


def file_sentences(path: str, max_len: int) -> list[str]:
    """Non-empty lines of a text file, long ones wrapped to at most ``max_len`` characters."""
    with open(path, encoding="utf-8") as f:
        lines = [" ".join(line.split()) for line in f]
    return [piece for line in lines if line for piece in textwrap.wrap(line, max_len)]


class Vocab:
    """Characters <-> token ids; ids 0 and 1 are the notes' <start> and <end> tokens."""

    def __init__(self, chars: list[str]) -> None:
        self.chars = sorted(set(chars))
        self.index = {c: i + 2 for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars) + 2

    def encode(self, text: str) -> list[int]:
        return [self.index[c] for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.chars[i - 2] for i in ids if i >= 2)


# ------------------------------------------------------------------------------ model
class CharLM(nn.Module):
    """Embedding -> recurrent layer(s) -> logits z^2_t over the V tokens.

    ``forward(tokens, state=None, lengths=None) -> (logits, state)`` with tokens (T, B)
    int ids and logits (T, B, V). ``state`` is whatever the core carries: h (L, B, H)
    for rnn/gru, (h, c) for lstm, a list of s_T (B, H) per layer for elman/gated.
    """

    def __init__(self, vocab_size: int, model: str, hidden: int, layers: int, embed: int, device: str) -> None:
        super().__init__()
        self.model, self.layers = model, layers
        self.embedding = nn.Embedding(vocab_size, embed, device=device)
        if model in ("elman", "gated"):
            cls = nn.ElmanRNN if model == "elman" else nn.GatedRNN
            # The notes' machines have an output layer of their own: g_t = W^o s_t + W_0^o
            # gives the logits (f_o = softmax is in the loss). Stacked machines pass
            # tanh(W^o s_t + W_0^o) up to the next one.
            self.cores = nn.ModuleList([
                cls(embed if k == 0 else hidden, hidden, vocab_size if k == layers - 1 else hidden,
                    f_s="tanh", f_o="identity" if k == layers - 1 else "tanh", device=device)
                for k in range(layers)
            ])
        else:
            cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[model]
            self.core = cls(embed, hidden, num_layers=layers, device=device)
            self.head = nn.Linear(hidden, vocab_size, device=device)

    def forward(self, tokens: Tensor, state: Any = None, lengths: list[int] | None = None) -> tuple[Tensor, Any]:
        x = self.embedding(tokens)  # (T, B, embed): the x_t of the notes
        if self.model in ("elman", "gated"):
            states = state or [None] * self.layers
            new_state = []
            for core, s0 in zip(self.cores, states, strict=True):
                x, s = core(x, s0=s0, lengths=lengths)
                new_state.append(s[-1])  # s_T (with lengths, use it only when all end at T)
            return x, new_state
        out, new_state = self.core(x, hx=state, lengths=lengths)
        return self.head(out), new_state


def detach_state(state: Any) -> Any:
    """Cut the carried state from the tape (truncated BPTT): values stay, history goes."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return type(state)(detach_state(s) for s in state)


def sample(model: CharLM, vocab: Vocab, n: int, temperature: float, max_len: int, device: str,
           prime: int = START, stop_at_end: bool = True) -> list[str]:
    """Draw ``n`` texts: start from ``prime`` (<start>), feed each drawn character back.

    A draw from softmax(z / temperature) uses the Gumbel-max trick:
    argmax(z / temperature - log(-log U)), U uniform, is distributed as that softmax.
    Temperature 0 takes the argmax. <start> itself is never drawn.
    """
    V = len(vocab)
    never = Tensor([-1e9] + [0.0] * (V - 1), device=device)  # forbids drawing <start>
    tokens = Tensor([[prime] * n], device=device)  # (1, n)
    state, out, done = None, [[] for _ in range(n)], [False] * n
    with tr.no_grad():
        for _ in range(max_len):
            logits, state = model(tokens, state)
            z = logits[0] + never  # (n, V)
            if temperature > 0:
                u = Tensor.rand(n, V, device=device).clip(1e-12, 1.0)
                z = z / temperature - (-u.log()).log()
            ids = z.argmax(axis=-1).tolist()
            for i, c in enumerate(ids):
                if not done[i]:
                    if stop_at_end and c == END:
                        done[i] = True
                    else:
                        out[i].append(c)
            if all(done):
                break
            tokens = Tensor([ids], device=device)
    return [vocab.decode(ids) for ids in out]


# ------------------------------------------------------------------ sentence batches
def make_batch(encoded: list[list[int]], device: str) -> tuple[Tensor, Tensor, list[int]]:
    """x = (<start>, c_1..c_k), y = (c_1..c_k, <end>) for each sentence, padded to (T, q).

    Padded inputs are <end> (never read: the layer stops each sequence at its length),
    padded targets are IGNORE. Returns x, y and the lengths n^(i) = k_i + 1.
    """
    lengths = [len(c) + 1 for c in encoded]
    T = max(lengths)
    x_rows = [[START] + c + [END] * (T - len(c) - 1) for c in encoded]  # C.18
    y_rows = [c + [END] + [IGNORE] * (T - len(c) - 1) for c in encoded]  # C.19
    x = Tensor(x_rows, device=device).transpose(1, 0)  # (T, q) ids
    y = Tensor(y_rows, device=device).transpose(1, 0)
    return x, y, lengths


def sentence_loss(model: CharLM, batch: tuple[Tensor, Tensor, list[int]]) -> tuple[Tensor, int]:
    """J = (1/q) sum_i L_seq (C.16) for one batch, and the number of predicted characters."""
    x, y, lengths = batch
    logits, _ = model(x, lengths=lengths)
    q = len(lengths)
    J = F.cross_entropy(logits, y, reduction="sum", ignore_index=IGNORE) / q
    return J, sum(lengths)


def sentence_validation(model: CharLM, batches: list[tuple[Tensor, Tensor, list[int]]]) -> float:
    """Held-out loss in nats per predicted character (the <end> predictions included)."""
    total, count = 0.0, 0
    with tr.no_grad():
        for batch in batches:
            J, n_chars = sentence_loss(model, batch)
            total += J.item() * len(batch[2])
            count += n_chars
    return total / count


# --------------------------------------------------------------------------- training
def build_model(args: Any, V: int, device: str) -> tuple[CharLM, Any]:
    model = CharLM(V, args.model, args.hidden, args.layers, args.embed, device)
    return model, optim.Adam(list(model.parameters()), lr=args.lr)


def save_checkpoint(path: str, model: CharLM, opt: Any, step: int, vocab: Vocab, args: Any,
                    history: dict[str, list[float]], position: int = 0) -> None:
    """Model state dict, optimizer state, step, vocabulary, architecture and loss curve.

    In --stream mode also the read position in the streams; the carried state is not
    saved, so a resumed stream starts there from a blank state.
    """
    state: dict[str, Any] = {f"model.{k}": v for k, v in model.state_dict().items()}
    state["stream.position"] = position
    state.update({f"optim.{k}": v for k, v in opt.state_dict().items()})
    state["step"] = step
    state["vocab"] = Tensor([ord(c) for c in vocab.chars])
    for key in ("hidden", "layers", "embed"):
        state[f"config.{key}"] = getattr(args, key)
    state["config.model"] = MODELS.index(args.model)
    state["config.stream"] = int(args.stream)
    for key, values in history.items():
        state[f"history.{key}"] = Tensor([float(v) for v in values], dtype="float64")
    tr.save(state, path)


def load_checkpoint(path: str, args: Any) -> dict[str, Any]:
    """Read a checkpoint and set the architecture flags in ``args`` from it."""
    ckpt = tr.load(path)
    args.model = MODELS[int(ckpt["config.model"])]
    args.hidden, args.layers, args.embed = (int(ckpt[f"config.{k}"]) for k in ("hidden", "layers", "embed"))
    if bool(int(ckpt["config.stream"])) != args.stream:
        raise SystemExit(f"--resume {path}: the checkpoint was trained {'with' if args.stream else 'without'} "
                         "--stream; resume it the same way")
    print(f"resuming {path}: step {int(ckpt['step'])}, model {args.model}, hidden {args.hidden}, "
          f"layers {args.layers}, embed {args.embed} (architecture taken from the checkpoint)")
    return ckpt


def restore(ckpt: dict[str, Any], model: CharLM, opt: Any) -> tuple[int, dict[str, list[float]]]:
    model.load_state_dict({k[6:]: v for k, v in ckpt.items() if k.startswith("model.")})
    opt.load_state_dict({k[6:]: v for k, v in ckpt.items() if k.startswith("optim.")})
    history = {k[8:]: [float(v) for v in ckpt[k].tolist()] for k in ckpt if k.startswith("history.")}
    return int(ckpt["step"]), history


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


def load_corpus(args: Any, ckpt: dict[str, Any] | None) -> tuple[Vocab, Any, Any, str]:
    """The vocabulary and the training / validation data, as sentences or as two texts."""
    source = args.text or "standard-library docstrings"
    if args.stream and args.text:
        with open(args.text, encoding="utf-8") as f:
            pieces = [f.read()]  # the classic way: the file as it is
    else:
        pieces = file_sentences(args.text, args.max_len) if args.text else stdlib_sentences()
        random.Random(args.seed).shuffle(pieces)  # the same split on every run and resume
        if args.limit:
            pieces = pieces[: args.limit]
    if ckpt is not None:  # a resumed model keeps its vocabulary
        vocab = Vocab([chr(int(c)) for c in ckpt["vocab"].tolist()])
        known = set(vocab.index)
        unknown = set("".join(pieces)) - known
        if unknown:
            print(f"note: the checkpoint's vocabulary lacks {len(unknown)} characters of this text; they are left out")
            pieces = ["".join(c for c in p if c in known) for p in pieces]
    else:
        vocab = Vocab(list("".join(pieces)))
    if args.stream:
        text = pieces[0] if args.text else " ".join(pieces)
        n_val = max(2000, len(text) // 20)
        if len(text) < 4 * n_val:
            raise SystemExit(f"{source}: {len(text)} characters; expected at least {4 * n_val} for --stream")
        train_text, val_text = text[:-n_val], text[-n_val:]  # validation: the last 5 %
        print(f"corpus: {source}: one stream of {len(train_text)} training and {len(val_text)} validation "
              f"characters, V = {len(vocab)} symbols ({len(vocab) - 2} characters, <start> and <end> unused)")
        return vocab, train_text, val_text, source
    if len(pieces) < 20:
        raise SystemExit(f"{source}: found {len(pieces)} sentences; expected at least 20 to train on")
    n_val = min(500, max(10, len(pieces) // 20))
    val_sentences, train_sentences = pieces[:n_val], pieces[n_val:]
    n_chars = sum(len(p) for p in train_sentences)
    print(f"corpus: {source}: {len(train_sentences)} training and {n_val} validation sentences, "
          f"{n_chars} training characters, V = {len(vocab)} symbols (<start>, <end> and {len(vocab) - 2} characters)")
    return vocab, train_sentences, val_sentences, source


def train(args: Any, device: str) -> dict[str, Any]:
    """Sentence mode (default) or --stream; returns the metrics the quick check uses."""
    ckpt = load_checkpoint(args.resume, args) if args.resume else None
    vocab, train_data, val_data, source = load_corpus(args, ckpt)
    V, log_v = len(vocab), math.log(len(vocab))
    print(f"uniform baseline: log V = {log_v:.3f} nats/char")

    model, opt = build_model(args, V, device)
    step, history = restore(ckpt, model, opt) if ckpt is not None else (0, {"step": [], "train": [], "val": []})
    print(f"model: {args.model}, hidden {args.hidden}, layers {args.layers}, embed {args.embed}: "
          f"{sum(p.size for p in model.parameters())} parameters, Adam lr {args.lr}, clip {args.clip}, "
          f"device {device}")

    trainer = StreamTrainer if args.stream else SentenceTrainer
    run = trainer(args, model, opt, vocab, train_data, val_data, device)
    if ckpt is not None and args.stream:
        run.position = int(ckpt["stream.position"])
    first_val = run.validate()
    if not history["val"]:
        history["step"].append(step)
        history["train"].append(first_val)
        history["val"].append(first_val)
    print(f"step {step}: validation {first_val:.3f} nats/char")
    show_samples(run, args, step, print)

    eval_every = args.eval_every or max(1, args.steps // 8)
    bar = _common.progress(max(0, args.steps - step), desc="training", disable=args.no_bar)
    window_loss, window_chars, chars_seen, t0 = 0.0, 0, 0, time.perf_counter()
    while step < args.steps:
        loss_sum, chars = run.train_step(step)
        step += 1
        window_loss, window_chars, chars_seen = window_loss + loss_sum, window_chars + chars, chars_seen + chars
        bar.update(1)
        speed = chars_seen / max(time.perf_counter() - t0, 1e-9)
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

    final_val = history["val"][-1]
    print(f"\nheld-out validation loss: {final_val:.3f} nats/char ({final_val / math.log(2):.3f} bits/char); "
          f"uniform guess log V = {log_v:.3f}; at the start {history['val'][0]:.3f}")
    mode = "stream, truncated BPTT" if args.stream else "sentences with <start>/<end>"
    plot = plot_curves(history, log_v, f"char_lm: {args.model}, {mode}, {source}", args.out_dir,
                       "char_lm_stream_loss.png" if args.stream else "char_lm_loss.png")
    return {"val": final_val, "val_start": history["val"][0], "log_v": log_v, "steps": step,
            "history": history, "plot": plot, "samples": run.last_samples}


def show_samples(run: Any, args: Any, step: int, write: Any) -> None:
    texts = run.samples(args.sample, args.temperature)
    run.last_samples = texts
    write(f"  samples at step {step} (temperature {args.temperature}):")
    for text in texts:
        write("    | " + text.replace("\n", "\n    | "))


class SentenceTrainer:
    """The notes' setup: one (x, y) pair per sentence, q sentences per batch."""

    def __init__(self, args: Any, model: CharLM, opt: Any, vocab: Vocab, train_sentences: list[str],
                 val_sentences: list[str], device: str) -> None:
        self.args, self.model, self.opt, self.vocab, self.device = args, model, opt, vocab, device
        # Sorted by length, so a batch of neighbours needs little padding.
        self.train = sorted((vocab.encode(s) for s in train_sentences), key=len)
        val = sorted((vocab.encode(s) for s in val_sentences), key=len)
        self.val_batches = [make_batch(val[i:i + 64], device) for i in range(0, len(val), 64)]
        self.last_samples: list[str] = []

    def train_step(self, step: int) -> tuple[float, int]:
        q = min(self.args.batch, len(self.train))
        rng = random.Random(self.args.seed * 1_000_003 + step)  # batch = f(seed, step): resumable
        first = rng.randrange(len(self.train) - q + 1)
        J, n_chars = sentence_loss(self.model, make_batch(self.train[first:first + q], self.device))
        self.opt.zero_grad()
        J.backward()  # BPTT through every sentence of the batch
        if self.args.clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip)
        self.opt.step()
        return J.item() * q, n_chars

    def validate(self) -> float:
        return sentence_validation(self.model, self.val_batches)

    def samples(self, n: int, temperature: float) -> list[str]:
        return sample(self.model, self.vocab, n, temperature, self.args.sample_len, self.device)


class StreamTrainer:
    """The classic way: one long text, B parallel streams, chunks of --bptt characters."""

    def __init__(self, args: Any, model: CharLM, opt: Any, vocab: Vocab, train_text: str, val_text: str,
                 device: str) -> None:
        self.args, self.model, self.opt, self.vocab, self.device = args, model, opt, vocab, device
        self.train = self._streams(train_text, args.batch)
        self.val = self._streams(val_text, 8)
        self.state: Any = None
        self.position = 0
        self.last_samples: list[str] = []
        # Sampling starts from a character that usually begins a piece of text.
        self.prime = vocab.index.get("\n" if "\n" in vocab.index else " ", 2)

    def _streams(self, text: str, B: int) -> Tensor:
        """The text's ids as B equal columns, (L, B): column b is one contiguous stretch."""
        ids = self.vocab.encode(text)
        L = len(ids) // B
        if L < self.args.bptt + 1:
            raise SystemExit(f"--stream: {len(ids)} characters make streams of {L}; expected more than "
                             f"--bptt={self.args.bptt} per stream (lower --batch or --bptt)")
        return Tensor(ids[: L * B], device=self.device).reshape(B, L).transpose(1, 0)

    def train_step(self, step: int) -> tuple[float, int]:
        bptt, L = self.args.bptt, self.train.shape[0]
        if self.position + bptt + 1 > L:  # end of the streams: start again from a blank state
            self.position, self.state = 0, None
        x = self.train[self.position:self.position + bptt]
        y = self.train[self.position + 1:self.position + bptt + 1]
        self.position += bptt
        logits, state = self.model(x, self.state)
        # The state goes on to the next chunk, but cut from this chunk's tape: gradients
        # stop at the chunk boundary (truncated BPTT) while the memory carries on.
        self.state = detach_state(state)
        loss = F.cross_entropy(logits, y)  # mean NLL per character of this chunk
        self.opt.zero_grad()
        loss.backward()
        if self.args.clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip)
        self.opt.step()
        n = y.shape[0] * y.shape[1]
        return loss.item() * n, n

    def validate(self) -> float:
        total, count, state = 0.0, 0, None
        with tr.no_grad():
            for p in range(0, self.val.shape[0] - 1, self.args.bptt):
                x = self.val[p:p + self.args.bptt]
                y = self.val[p + 1:p + 1 + x.shape[0]]
                x = x[: y.shape[0]]
                logits, state = self.model(x, state)
                total += F.cross_entropy(logits, y, reduction="sum").item()
                count += y.shape[0] * y.shape[1]
        return total / count

    def samples(self, n: int, temperature: float) -> list[str]:
        return sample(self.model, self.vocab, n, temperature, self.args.sample_len, self.device,
                      prime=self.prime, stop_at_end=False)


# ------------------------------------------------------------------------------- main
def parse(argv: list[str] | None) -> Any:
    parser = _common.make_parser(__doc__)
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
    parser.add_argument("--sample", type=int, default=3, help="samples printed at each evaluation (default 3)")
    parser.add_argument("--sample-len", type=int, default=160, help="longest sample, in characters (default 160)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (0: greedy; default 0.8)")
    parser.add_argument("--eval-every", type=int, default=0, help="steps between evaluations (default steps/8)")
    parser.add_argument("--save", default=None, help="write a checkpoint (.npz) here at every evaluation")
    parser.add_argument("--resume", default=None, help="continue from a checkpoint written by --save")
    parser.add_argument("--no-bar", action="store_true", help="no progress bar")
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
    device = _common.setup(args)
    metrics = train(args, device)
    if args.quick:
        bar = (1 - QUICK_FRACTION) * metrics["log_v"]
        _common.check(metrics["val"] <= bar,
                      f"validation loss {metrics['val']:.3f} nats/char is at least {QUICK_FRACTION:.0%} below "
                      f"the uniform log V = {metrics['log_v']:.3f} (bar {bar:.3f})")
    return metrics


if __name__ == "__main__":
    _common.cli(main)
