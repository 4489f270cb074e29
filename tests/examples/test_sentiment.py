"""examples/sentiment.py: many-to-one review classification with variable-length batches.

The quick run must learn: held-out accuracy >= 0.90 overall and >= 0.80 on "but"
reviews, and the training loss falls by 70 % or more. The pieces are checked too: the
generator's labels follow its rules, the notes' three sentences are in its language,
held-out reviews are new, and a padded batch gives each review the prediction it gets
alone (``lengths`` and the final state per sequence).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from example_runner import load, run_example

import tinygrad_rnn as tr

data = load("sentiment_data")  # the example's generated sentences


@pytest.mark.slow
def test_quick_mode_learns(tmp_path: Path) -> None:
    result = run_example(["examples/sentiment.py", "--quick", "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed") == 3
    assert "'the food was just terrible'" in result.stdout
    assert (tmp_path / "sentiment.png").stat().st_size > 1000


def test_help_explains_the_example() -> None:
    result = run_example(["examples/sentiment.py", "--help"], timeout=60)
    assert result.returncode == 0
    for words in ("many-to-one", "lengths=", "The food was just terrible", "but", "negation", "--quick",
                  "--device", "--model"):
        assert words in result.stdout


def test_the_notes_sentences_are_in_the_generators_language() -> None:
    vocab = set(data.vocabulary())
    for sentence in data.NOTES_SENTENCES + data.EXTRA_SENTENCES:
        assert set(sentence.split()) <= vocab, sentence


def test_labels_follow_the_rules() -> None:
    """Plain clauses carry their adjective's feeling, "not" flips it, the clause after "but" decides."""
    lists = [*data.ADJECTIVES.values(), data.GENERIC, data.TIME]
    positive = {w for pos, _ in lists for w in pos}
    negative = {w for _, neg in lists for w in neg}
    assert not positive & negative

    def feeling(clause: list[str]) -> int:
        if clause[:2] == ["i", "would"]:
            return -1 if "not" in clause else 1
        adjective = clause[-2] if clause[-1] == "time" else clause[-1]
        sign = 1 if adjective in positive else -1
        assert adjective in positive | negative
        return -sign if "not" in clause else sign

    rng = random.Random(5)
    kinds = set()
    for _ in range(500):
        words, label, kind = data.opinion(rng)
        kinds.add(kind)
        if kind == "contrast":
            cut = words.index("but")
            assert feeling(words[:cut]) == -feeling(words[cut + 1 :])
            assert label == (feeling(words[cut + 1 :]) > 0)
        elif kind == "agreement":
            cut = words.index("and")
            assert feeling(words[:cut]) == feeling(words[cut + 1 :]) == (1 if label else -1)
        else:
            assert label == (feeling(words) > 0)
            assert (kind == "negation") == ("not" in words)
    assert kinds == set(data.KINDS)


def test_reviews_may_open_with_a_neutral_clause() -> None:
    rng = random.Random(6)
    openings = 0
    for _ in range(300):
        words, _, _ = data.review(rng)
        text = " ".join(words)
        for neutral in data.NEUTRAL:
            if text.startswith(neutral + " and "):
                openings += 1
                break
    assert 50 < openings < 150  # about a third


def test_held_out_reviews_are_new() -> None:
    train, test = data.make_datasets(800, 200, seed=1)
    seen = {" ".join(w) for w, _, _ in train}
    assert len(test) == 200 and not any(" ".join(w) in seen for w, _, _ in test)


def test_padded_batch_gives_each_review_its_own_final_state(device: str) -> None:
    sa = load("sentiment")
    words = data.vocabulary()
    index = {w: i for i, w in enumerate(words)}
    for cell in ("rnn", "gru", "lstm"):
        tr.manual_seed(0)
        model = sa.SentimentRNN(len(words), cell, 8, 10, device)
        reviews = [(s.split(), 0, "") for s in data.NOTES_SENTENCES]
        ids, lengths, labels = sa.encode(reviews, index, device)
        assert ids.shape == (max(lengths), 3) and lengths == [5, 3, 10] and labels.shape == (3,)
        together = sa.predict(model, reviews, index, device)
        alone = [sa.predict(model, [r], index, device)[0] for r in reviews]
        np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-7)
