"""The notes' setup for examples/char_lm.py: one (x, y) pair per sentence, q sentences
per batch, and the objective J (6.390 notes C.4, C.15-C.19).

Imported by char_lm.py (not a program of its own). Sentence c = (c_1 .. c_k) becomes

    x = (<start>, c_1, ..., c_k)        y = (c_1, ..., c_k, <end>)

Sentences of different lengths share a batch: they are padded, the recurrent layer
gets their ``lengths``, and padded targets are IGNORE, so they add nothing to the loss.
"""

from __future__ import annotations

import random
from typing import Any

import _common
from char_model import CharLM, sample
from corpus import END, START, Vocab

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

F = nn.functional
IGNORE = -100  # target value of padded positions: no loss, no gradient
PAD_TO = 8  # with tr.jit, T is padded up to a multiple of this: few shapes, one recording each
JIT_CACHE = 32  # recorded programs kept: more than the padded lengths a run meets, so none records twice


def make_batch(encoded: list[list[int]], device: str, multiple: int = 1) -> tuple[Tensor, Tensor, list[int]]:
    """x = (<start>, c_1..c_k), y = (c_1..c_k, <end>) for each sentence, padded to (T, q).

    Padded inputs are <end> (never read: the layer stops each sequence at its length),
    padded targets are IGNORE. T is the longest n^(i), rounded up to a multiple of
    ``multiple``. Returns x, y and the lengths n^(i) = k_i + 1.
    """
    lengths = [len(c) + 1 for c in encoded]
    T = -(-max(lengths) // multiple) * multiple
    x_rows = [[START] + c + [END] * (T - len(c) - 1) for c in encoded]  # C.18
    y_rows = [c + [END] + [IGNORE] * (T - len(c) - 1) for c in encoded]  # C.19
    x = Tensor(x_rows, device=device).transpose(1, 0)  # (T, q) ids
    y = Tensor(y_rows, device=device).transpose(1, 0)
    return x, y, lengths


def objective(model: CharLM, x: Tensor, y: Tensor, lengths: Any, q: int) -> Tensor:
    """J = (1/q) sum_i L_seq (C.16): the summed cross-entropy of the q sentences, over q."""
    logits, _ = model(x, lengths=lengths)
    return F.cross_entropy(logits, y, reduction="sum", ignore_index=IGNORE) / q


def sentence_loss(model: CharLM, batch: tuple[Tensor, Tensor, list[int]]) -> tuple[Tensor, int]:
    """J for one batch, and the number of predicted characters."""
    x, y, lengths = batch
    return objective(model, x, y, lengths, len(lengths)), sum(lengths)


def sentence_validation(model: CharLM, batches: list[tuple[Tensor, Tensor, list[int]]]) -> float:
    """Held-out loss in nats per predicted character (the <end> predictions included)."""
    total, count = 0.0, 0
    with tr.no_grad():
        for batch in batches:
            J, n_chars = sentence_loss(model, batch)
            total += J.item() * len(batch[2])
            count += n_chars
    return total / count


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
        # Through tr.jit unless --no-jit: T is padded up to a multiple of PAD_TO and the lengths
        # go in as a Tensor (its values steer no Python), so each padded T records once.
        self.gradients = _common.maybe_jit(self._gradients, args, max_cache=JIT_CACHE)

    def _gradients(self, x: Tensor, y: Tensor, lengths: Any, q: int) -> Tensor:
        """J and its gradients (BPTT through every sentence of the batch)."""
        self.opt.zero_grad()
        J = objective(self.model, x, y, lengths, q)
        J.backward()
        return J

    def train_step(self, step: int) -> tuple[float, int]:
        q = min(self.args.batch, len(self.train))
        rng = random.Random(self.args.seed * 1_000_003 + step)  # batch = f(seed, step): resumable
        first = rng.randrange(len(self.train) - q + 1)
        sentences = self.train[first:first + q]
        if self.args.distributed:  # this process's share; the average is weighted by the shares' sizes
            sentences = sentences[_common.shard(self.args)]
            q = self.model.sample_count = len(sentences)
        jitted = not self.args.no_jit
        x, y, lengths = make_batch(sentences, self.device, PAD_TO if jitted else 1)
        # The tape takes the lengths as a list (the layer skips the steps where every sentence
        # has ended); tr.jit as a Tensor, so that one recording serves every batch of one T.
        J = self.gradients(x, y, Tensor(lengths, device=self.device) if jitted else lengths, q)
        n_chars = sum(lengths)
        if self.args.clip > 0:  # clip_grad_norm_ returns a Python float: outside the jitted step
            nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip)
        self.opt.step()
        return J.item() * q, n_chars

    def validate(self) -> float:
        return sentence_validation(self.model, self.val_batches)

    def samples(self, n: int, temperature: float) -> list[str]:
        return sample(self.model, self.vocab, n, temperature, self.args.sample_len, self.device)

