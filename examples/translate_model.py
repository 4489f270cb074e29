"""The encoder-decoder of examples/translate.py, with and without attention, and its decoders.

Imported by translate.py (not a program of its own).

Encoder: a bidirectional GRU over the source words (``lengths`` for the ragged batch),
h_j = [h_j(forward); h_j(backward)], 2H wide, and a summary of the whole sentence,
[h_n(forward); h_n(backward)] (each direction's state after reading all of it).

Decoder: a GRUCell with state s_t, started at s_0 = tanh(W_b summary + b_b). At step t it
reads the previous target word y_{t-1} (embedded: e_t) and a context vector c_t:

    s_t = GRUCell([e_t; c_t], s_{t-1})        logits_t = W_o [s_t; c_t; e_t] + b_o

  * no attention (the slides' "encoding bottleneck"): c_t = summary at every step, so
    one 2H vector must carry the whole sentence;
  * attention (Bahdanau, Cho & Bengio 2015): c_t = sum_j a_tj h_j, a weighted average of
    all encoder states, with a_t = softmax_j(score(s_{t-1}, h_j)) over the source words
    only: padded positions get a score of -1e9, whose exp is exactly 0, so their weight
    is exactly 0 (and so is their gradient). The score is
        additive:  v^T tanh(W_q s_{t-1} + W_k h_j)          (Bahdanau)
        dot:       (W_q s_{t-1}) . h_j / sqrt(2H)            (scaled dot product)
    W_k h_j does not depend on t, so it is computed once per sentence.

No backward code: training is the tape through the encoder and the decoder loop.
"""

from __future__ import annotations

import heapq
import math

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

F = nn.functional

ATTENTION = ("additive", "dot", "none")
PAD, BOS, EOS = 0, 1, 2  # token ids shared by both vocabularies (translate_data.vocabularies)
MASKED = -1e9  # score of a padded source position: exp(MASKED - max) is exactly 0 in float32 and float64


class Memory:
    """What the decoder may read of an encoded batch: h_j (B, S, 2H), the keys W_k h_j,
    the source mask (B, S) (True at real words) and the summary (B, 2H)."""

    def __init__(self, states: Tensor, keys: Tensor | None, mask: Tensor, summary: Tensor) -> None:
        self.states, self.keys, self.mask, self.summary = states, keys, mask, summary

    def rows(self, index: list[int]) -> Memory:
        """The memory of the batch entries ``index`` (repeats allowed: beams of one sentence)."""
        keys = None if self.keys is None else self.keys[index]
        return Memory(self.states[index], keys, self.mask[index], self.summary[index])


class Translator(nn.Module):
    """Bidirectional GRU encoder, GRUCell decoder, attention ``"additive"``, ``"dot"`` or ``"none"``.

    Every model has the same parameters up to ``read_out``; the attention's own (W_q,
    W_k, v) come last, so a seed gives all models the same draws for the shared ones.
    Raises ValueError for another ``attention``.
    """

    def __init__(self, source_vocab: int, target_vocab: int, embed: int, hidden: int, attention: str,
                 device: str = "cpu") -> None:
        super().__init__()
        if attention not in ATTENTION:
            raise ValueError(f"Translator: attention={attention!r}; expected one of {ATTENTION}")
        self.attention, H = attention, hidden
        self.source_embed = nn.Embedding(source_vocab, embed, device=device)
        self.encoder = nn.GRU(embed, H, bidirectional=True, device=device)
        self.bridge = nn.Linear(2 * H, H, device=device)
        self.target_embed = nn.Embedding(target_vocab, embed, device=device)
        self.cell = nn.GRUCell(embed + 2 * H, H, device=device)
        self.read_out = nn.Linear(H + 2 * H + embed, target_vocab, device=device)
        if attention == "additive":
            self.W_q = nn.Linear(H, H, device=device)
            self.W_k = nn.Linear(2 * H, H, bias=False, device=device)
            self.v = nn.Linear(H, 1, bias=False, device=device)
        elif attention == "dot":
            self.W_q = nn.Linear(H, 2 * H, bias=False, device=device)

    # ------------------------------------------------------------------ the two halves
    def encode(self, source: Tensor, lengths: list[int] | Tensor) -> tuple[Memory, Tensor]:
        """source (S, B) word ids -> (memory, s_0 (B, H))."""
        states, h_n = self.encoder(self.source_embed(source), lengths=lengths)  # (S, B, 2H), (2, B, H)
        S = source.shape[0]
        summary = tr.cat([h_n[0], h_n[1]], axis=-1)
        states = states.transpose(1, 0, 2)  # (B, S, 2H): one row of keys per sentence
        keys = self.W_k(states) if self.attention == "additive" else None
        mask = F.lengths_to_padding_mask(lengths, S, device=source.device) == False  # noqa: E712 (True: a real word)
        return Memory(states, keys, mask, summary), self.bridge(summary).tanh()

    def attend(self, s_prev: Tensor, memory: Memory) -> tuple[Tensor, Tensor | None]:
        """The context c_t (B, 2H) for decoder state s_{t-1} (B, H), and the weights a_t (B, S)."""
        if self.attention == "none":
            return memory.summary, None
        B, S, width = memory.states.shape
        if self.attention == "additive":
            query = self.W_q(s_prev).reshape(B, 1, -1)  # broadcast over the S source positions
            scores = self.v((memory.keys + query).tanh()).reshape(B, S)
        else:
            query = self.W_q(s_prev).reshape(B, width, 1)
            scores = (memory.states @ query).reshape(B, S) * (1.0 / math.sqrt(width))
        weights = tr.where(memory.mask, scores, MASKED).softmax(axis=-1)
        context = (weights.reshape(B, 1, S) @ memory.states).reshape(B, width)
        return context, weights

    def step(self, y_prev: Tensor, s_prev: Tensor, memory: Memory) -> tuple[Tensor, Tensor, Tensor | None]:
        """One decoder step: previous words (B,) -> (logits (B, V), s_t, a_t)."""
        e_t = self.target_embed(y_prev)
        context, weights = self.attend(s_prev, memory)
        s_t = self.cell(tr.cat([e_t, context], axis=-1), s_prev)
        return self.read_out(tr.cat([s_t, context, e_t], axis=-1)), s_t, weights

    def forward(self, source: Tensor, lengths: list[int] | Tensor, target_in: Tensor) -> Tensor:
        """Teacher forcing: the decoder reads the TRUE previous words target_in (T, B) = (<s>, y_1, ...).

        Returns the logits (T, B, V) of (y_1, ..., </s>). The context, s_t and e_t of all
        steps are gathered first, so the read-out is one matrix product after the loop.
        """
        memory, s = self.encode(source, lengths)
        embedded = self.target_embed(target_in)  # (T, B, E), one lookup for all steps
        features = []
        for t in range(target_in.shape[0]):
            context, _ = self.attend(s, memory)
            s = self.cell(tr.cat([embedded[t], context], axis=-1), s)
            features.append(tr.cat([s, context, embedded[t]], axis=-1))
        return self.read_out(tr.stack(features))


# ------------------------------------------------------------------------- decoding
def greedy(model: Translator, source: Tensor, lengths: list[int], max_len: int) -> tuple[list[list[int]], list]:
    """The most likely next word at every step, until </s> (or ``max_len`` words).

    Returns the words of each sentence (without </s>) and, with attention, each
    sentence's weights: one list of S floats per output word (</s> included).
    """
    with tr.no_grad():
        memory, s = model.encode(source, lengths)
        B = source.shape[1]
        y = Tensor([BOS] * B, device=source.device)
        words: list[list[int]] = [[] for _ in range(B)]
        attention: list[list[list[float]]] = [[] for _ in range(B)]
        done = [False] * B
        for _ in range(max_len + 1):
            logits, s, weights = model.step(y, s, memory)
            best = [EOS + word for word in logits[:, EOS:].argmax(axis=-1).tolist()]  # never <pad> or <s>
            rows = weights.tolist() if weights is not None else None
            for b in range(B):
                if not done[b]:
                    done[b] = best[b] == EOS or len(words[b]) == max_len  # then </s> in its place
                    words[b] += [] if done[b] else [best[b]]
                    if rows is not None:
                        attention[b].append(rows[b][: lengths[b]])
            if all(done):
                break
            y = Tensor(best, device=source.device)
    return words, attention


def beam_search(model: Translator, source: Tensor, lengths: list[int], max_len: int, beam: int) -> list[list[int]]:
    """The ``beam`` most likely partial translations at every step, by total log-probability.

    All sentences and their beams run as one batch of B * beam rows (row b * beam + k is
    beam k of sentence b). At each step every live beam is extended by every word, and
    the ``beam`` best extensions of each sentence are kept; one ending in </s> is put
    aside as finished. A sentence is done once its best finished translation scores at
    least its best live beam (log-probabilities only fall as words are added); after
    ``max_len`` words only </s> may follow. Returns the best finished translation of each sentence.
    """
    K = beam
    with tr.no_grad():
        memory, s = model.encode(source, lengths)
        B = source.shape[1]
        rows = [b for b in range(B) for _ in range(K)]
        memory, s = memory.rows(rows), s[rows]
        # (score, words) of each live beam; at first only one beam per sentence
        live: list[list[tuple[float, list[int]]]] = [[(0.0, [])] for _ in range(B)]
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
        y = [BOS] * (B * K)
        for length in range(max_len + 1):
            logits, s, _ = model.step(Tensor(y, device=source.device), s, memory)
            log_p = logits.log_softmax(axis=-1).tolist()
            pick, y = list(range(B * K)), [EOS] * (B * K)
            for b in range(B):
                if not live[b]:
                    continue
                allowed = (EOS,) if length == max_len else range(EOS, len(log_p[0]))  # never <pad> or <s>
                options = ((score + log_p[b * K + k][word], k, word) for k, (score, _) in enumerate(live[b])
                           for word in allowed)
                kept = []
                for score, k, word in heapq.nlargest(2 * K, options):  # at most K of them end in </s>
                    if word == EOS:
                        finished[b].append((score, live[b][k][1]))
                    elif len(kept) < K:
                        kept.append((score, k, word))
                if finished[b] and (not kept or max(finished[b])[0] >= kept[0][0]):
                    kept = []  # nothing still live can beat the best finished translation
                for j, (_, k, word) in enumerate(kept):
                    pick[b * K + j], y[b * K + j] = b * K + k, word
                live[b] = [(score, live[b][k][1] + [word]) for score, k, word in kept]
            if not any(live):
                break
            s = s[pick]
    return [max(f)[1] for f in finished]
