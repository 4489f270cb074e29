"""The network of examples/char_lm.py, and sampling from it (one-to-many use of an RNN).

Imported by char_lm.py and stream_trainer.py (not a program of its own).

Models: elman and gated are the notes' ElmanRNN and GatedRNN (6.390 notes C.5-C.6,
C.48-C.49) whose output layer W^o s_t + W_0^o gives the logits; rnn, gru and lstm are
the PyTorch-style layers followed by a Linear layer. Every model reads characters
through an Embedding (row c of the table = the table times the one-hot vector of c).

Sampling starts from <start>, draws a character from softmax(z^2_t / temperature),
feeds it back as the next input, and stops at <end> (C.4).
"""

from __future__ import annotations

from typing import Any

from corpus import END, START, Vocab

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

MODELS = ("elman", "gated", "rnn", "gru", "lstm")


class CharLM(nn.Module):
    """Embedding -> recurrent layer(s) -> logits z^2_t over the V tokens.

    ``forward(tokens, state=None, lengths=None) -> (logits, state)`` with tokens (T, B)
    int ids and logits (T, B, V). ``state`` is whatever the core carries: h (L, B, H)
    for rnn/gru, (h, c) for lstm, a list per layer of each sequence's last state (B, H) for
    elman/gated (with ``lengths``, the state at its own last step, as h_n holds for rnn/gru/lstm).
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
                new_state.append(nn.utils.last_step(s, lengths))  # s at each sequence's own last step
            return x, new_state
        out, new_state = self.core(x, hx=state, lengths=lengths)
        return self.head(out), new_state


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

