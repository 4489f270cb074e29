"""Truncated back-propagation through time: the --stream trainer of examples/char_lm.py.

Imported by char_lm.py (not a program of its own). The classic way to train a language
model on one long text: the text is cut into B parallel streams (column b of a (L, B)
table is one contiguous stretch), read in chunks of --bptt characters. The state at the
end of one chunk is carried into the next, DETACHED: the memory carries on, but the
gradients stop at the chunk boundary, so one backward pass costs --bptt steps however
long the text is. The loss is the mean NLL per character of a chunk.
"""

from __future__ import annotations

from typing import Any

import _common
from char_model import CharLM, sample
from corpus import Vocab

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

F = nn.functional


class StreamTrainer:
    """The classic way: one long text, B parallel streams, chunks of --bptt characters."""

    def __init__(self, args: Any, model: CharLM, opt: Any, vocab: Vocab, train_text: str, val_text: str,
                 device: str) -> None:
        self.args, self.model, self.opt, self.vocab, self.device = args, model, opt, vocab, device
        self.train = self._streams(train_text, args.batch)
        if args.distributed:  # this process reads its share of the B streams (the loss: its mean per character)
            self.train = self.train[:, _common.shard(args)]
            model.sample_count = self.train.shape[1]  # the average over processes, weighted by streams
        self.val = self._streams(val_text, 8)
        self.state: Any = None
        self.position = 0
        self.last_samples: list[str] = []
        # Sampling starts from a character that usually begins a piece of text.
        self.prime = vocab.index.get("\n" if "\n" in vocab.index else " ", 2)
        # Every chunk has the same shape: tr.jit records the step once (and once more for
        # the blank state of the first chunk) and replays it; --no-jit runs the tape.
        self.gradients = _common.maybe_jit(self._gradients, args)

    def _gradients(self, x: Tensor, y: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Forward, loss and backward of one chunk; returns the loss and the state it ends in."""
        self.opt.zero_grad()
        logits, state = self.model(x, state)
        loss = F.cross_entropy(logits, y)  # mean NLL per character of this chunk
        loss.backward()
        return loss, state

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
        loss, state = self.gradients(x, y, self.state)
        # The state goes on to the next chunk, but cut from this chunk's tape: gradients
        # stop at the chunk boundary (truncated BPTT) while the memory carries on.
        self.state = detach_state(state)
        if self.args.clip > 0:  # clip_grad_norm_ returns a Python float: outside the jitted step
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




def detach_state(state: Any) -> Any:
    """Cut the carried state from the tape (truncated BPTT): values stay, history goes."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return type(state)(detach_state(s) for s in state)
