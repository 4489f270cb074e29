"""The text of examples/char_lm.py: where it comes from, and characters <-> token ids.

Imported by char_lm.py (not a program of its own). The default corpus needs no download:
sentences gathered at run time from the docstrings of about ninety modules of Python's
own standard library (string, json, argparse, ...), the ones this Python has (the exact
text varies a little between Python versions). ``--text FILE`` trains on any UTF-8 text
file instead, one line per "sentence" (long lines are wrapped).

Token ids 0 and 1 are the notes' <start> and <end> (6.390 notes C.4, C.18-C.19); the
characters follow from id 2.
"""

from __future__ import annotations

import importlib
import inspect
import random
import re
import textwrap
import warnings
from typing import Any

START, END = 0, 1  # token ids of the notes' special tokens; characters follow from id 2
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


def load_corpus(args: Any, vocab_chars: str | None = None) -> tuple[Vocab, Any, Any, str]:
    """The vocabulary and the training / validation data, as sentences or as two texts.

    ``args`` holds char_lm's flags (text, stream, max_len, seed, limit);
    ``vocab_chars`` is the vocabulary of a resumed model, which it keeps.
    """
    source = args.text or "standard-library docstrings"
    if args.stream and args.text:
        with open(args.text, encoding="utf-8") as f:
            pieces = [f.read()]  # the classic way: the file as it is
    else:
        pieces = file_sentences(args.text, args.max_len) if args.text else stdlib_sentences()
        random.Random(args.seed).shuffle(pieces)  # the same split on every run and resume
        if args.limit:
            pieces = pieces[: args.limit]
    if vocab_chars is not None:  # a resumed model keeps its vocabulary
        vocab = Vocab(list(vocab_chars))
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

