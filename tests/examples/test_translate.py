"""examples/translate.py: many-to-many translation with and without attention (slides 003).

The quick run must learn: with attention, exact match >= 0.50 on held-out sentences
longer than any in training, at least 0.30 above the no-attention model, and the
heat map is drawn. The pieces are checked too: the generator and an independent parser
of the grammar agree; the held-out sets are new and the long one is longer; attention
matches its formula written out in NumPy, its gradients match finite differences, and
padded source positions get exactly zero weight and zero gradient; padding changes no
translation; beam search with a beam wider than the search space finds the most likely
translation, which is checked by enumerating every candidate.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest
from example_runner import load, run_example
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

data = load("translate_data")  # the example's generated language pair
tm = load("translate_model")


@pytest.mark.slow
def test_quick_mode_attention_beats_the_bottleneck_on_longer_sentences(tmp_path: Path) -> None:
    result = run_example(["examples/translate.py", "--quick", "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed") == 3
    assert "additive attention" in result.stdout and "no attention" in result.stdout
    assert (tmp_path / "translate.png").stat().st_size > 1000


def test_help_explains_the_example() -> None:
    result = run_example(["examples/translate.py", "--help"], timeout=60)
    assert result.returncode == 0
    for words in ("many-to-many", "encoding bottleneck", "Bahdanau", "teacher forcing", "beam search", "lengths=",
                  "LONGER", "--quick", "--device", "--beam", "--attention", "tape"):
        assert words in result.stdout


@pytest.mark.parametrize("argv", [["--beam", "0"], ["--max-train-len", "20", "--max-test-len", "20"],
                                  ["--max-test-len", "99"]])
def test_bad_flags_are_refused(argv: list[str]) -> None:
    result = run_example(["examples/translate.py", *argv], timeout=60)
    assert result.returncode == 2 and "expected" in result.stderr


# ------------------------------------------------------------------------------ data
def test_generator_and_parser_agree_and_the_grammar_reorders() -> None:
    source_vocab, target_vocab = (set(v) for v in data.vocabularies())
    rng = random.Random(3)
    moved = 0
    for _ in range(2000):
        source, target = data.sentence(rng, rng.randint(1, data.MAX_CLAUSES))
        assert data.translate(source) == target
        assert set(source) <= source_vocab and set(target) <= target_vocab
        clauses = " ".join(target).replace(" ma ", " i ").split(" i ")
        for words in clauses:  # subject-(object-)verb: every clause ends in its verb
            assert words.split()[-1] in {*data.VERBS.values(), *data.INTRANSITIVE.values()}
        moved += source[2] in data.VERBS and target[2] != data.VERBS[source[2]]
    assert moved > 100


@pytest.mark.parametrize("bad", ["the dog", "dog sees the cat", "the dog sees", "the dog sees the cat the",
                                 "the dog sleeps and", "the dog sleeps with cat", "a old dog sleeps",
                                 "an dog sleeps"])
def test_parser_refuses_what_the_grammar_cannot_say(bad: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        data.translate(bad.split())


def test_held_out_sets_are_new_and_the_long_one_is_longer() -> None:
    train, short, long = data.make_datasets(500, 100, 12, 18, seed=4)
    seen = {" ".join(s) for s, _ in train}
    assert max(len(s) for s, _ in train + short) <= 12 < min(len(s) for s, _ in long)
    assert max(len(s) for s, _ in long) <= 18
    assert not seen & {" ".join(s) for s, _ in short + long}
    clause_counts = {t.count("i") + t.count("ma") + 1 for _, t in train}
    assert clause_counts == {1, 2, 3}  # every structure of the long set is seen in training, only shorter
    assert data.make_datasets(500, 100, 12, 18, seed=4) == (train, short, long)
    with pytest.raises(ValueError, match="max_train_len"):
        data.make_datasets(10, 10, 14, 14, seed=0)


# ----------------------------------------------------------------------------- model
def small_model(attention: str, device: str = "cpu", target_vocab: int = 9) -> tm.Translator:
    tr.manual_seed(5)
    return tm.Translator(11, target_vocab, 4, 5, attention, device).to(dtype="float64")


def batch(device: str, lengths: list[int] = (4, 2, 3)) -> tuple[Tensor, list[int]]:
    rng = np.random.default_rng(0)
    ids = rng.integers(3, 11, size=(max(lengths), len(lengths)))
    return Tensor(ids, device=device), list(lengths)


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_is_its_formula_and_ignores_padding(attention: str, device: str) -> None:
    """a_t = softmax over real words of score(s_{t-1}, h_j), c_t = sum_j a_tj h_j, in NumPy."""
    model = small_model(attention, device)
    source, lengths = batch(device)
    memory, s0 = model.encode(source, lengths)
    context, weights = model.attend(s0, memory)
    h, s = memory.states.numpy(), s0.numpy()
    Wq = model.W_q.weight.numpy()
    for b, n in enumerate(lengths):
        if attention == "additive":
            query = Wq @ s[b] + model.W_q.bias.numpy()
            scores = np.array([model.v.weight.numpy() @ np.tanh(query + model.W_k.weight.numpy() @ h[b, j])
                               for j in range(n)]).ravel()
        else:
            scores = h[b, :n] @ (Wq @ s[b]) / np.sqrt(h.shape[-1])
        a = np.exp(scores - scores.max())
        a /= a.sum()
        np.testing.assert_allclose(weights.numpy()[b, :n], a, rtol=1e-10, atol=1e-12)
        assert (weights.numpy()[b, n:] == 0.0).all()  # exactly zero, not just small
        np.testing.assert_allclose(context.numpy()[b], a @ h[b, :n], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_gradients_match_finite_differences(attention: str) -> None:
    model = small_model(attention)
    source, lengths = batch("cpu")
    memory, s0 = model.encode(source, lengths)
    states = Tensor(memory.states.numpy(), requires_grad=True, dtype="float64")
    s_prev = Tensor(s0.numpy(), requires_grad=True, dtype="float64")

    def attend(states: Tensor, s_prev: Tensor) -> Tensor:
        keys = model.W_k(states) if attention == "additive" else None
        return model.attend(s_prev, tm.Memory(states, keys, memory.mask, memory.summary))[0]

    assert tr.gradcheck(attend, states, s_prev)
    attend(states, s_prev).sum().backward()
    for b, n in enumerate(lengths):  # padded source positions get no gradient at all
        assert (states.grad.numpy()[b, n:] == 0.0).all() and (states.grad.numpy()[b, :n] != 0.0).any()


@pytest.mark.parametrize("attention", ["additive", "none"])
@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=4), junk=st.integers(3, 10))
def test_padding_changes_no_translation(attention: str, lengths: list[int], junk: int) -> None:
    """Whatever the padding holds, each sentence of a batch gets what it gets alone."""
    model = small_model(attention)
    source, lengths = batch("cpu", lengths)
    ids = source.numpy().copy()
    for b, n in enumerate(lengths):
        ids[n:, b] = junk
    target_in = Tensor(np.full((3, len(lengths)), 4))
    together = model(Tensor(ids), lengths, target_in).numpy()
    for b, n in enumerate(lengths):
        alone = model(Tensor(ids[:n, b : b + 1]), [n], target_in[:, b : b + 1]).numpy()
        np.testing.assert_allclose(together[:, b], alone[:, 0], rtol=1e-10, atol=1e-12)


def sequence_log_prob(model: tm.Translator, source: Tensor, n: int, words: tuple[int, ...]) -> float:
    """log p(words, </s> | source) by teacher forcing."""
    target_in = Tensor([[tm.BOS, *words]]).transpose(1, 0)
    log_p = model(source, [n], target_in).log_softmax(axis=-1).numpy()[:, 0]
    return float(sum(log_p[t, w] for t, w in enumerate([*words, tm.EOS])))


@pytest.mark.parametrize("attention", ["additive", "none"])
def test_beam_search_finds_the_most_likely_translation(attention: str) -> None:
    """With a beam wider than the search space, beam search is exhaustive: its answer is the
    argmax over every sequence of at most max_len words, each scored by teacher forcing;
    and a beam of 1 never scores below greedy decoding."""
    model = small_model(attention, target_vocab=5)  # two real words: 3 and 4
    source, lengths = batch("cpu", [4, 2])
    max_len = 3
    with tr.no_grad():
        found = tm.beam_search(model, source, lengths, max_len, beam=16)
        narrow = tm.beam_search(model, source, lengths, max_len, beam=1)
        greedy = tm.greedy(model, source, lengths, max_len)[0]
        for b, n in enumerate(lengths):
            alone = source[:n, b : b + 1]
            candidates = [w for k in range(max_len + 1) for w in itertools.product((3, 4), repeat=k)]
            scores = {w: sequence_log_prob(model, alone, n, w) for w in candidates}
            assert tuple(found[b]) == max(scores, key=scores.get)
            assert scores[tuple(narrow[b])] >= scores[tuple(greedy[b])] - 1e-12
