"""examples/tagger.py: a bidirectional name tagger (002, "John lives in Salt Lake City").

The quick run must show what the backward direction adds: on words that only the
right context disambiguates, the bidirectional model reaches >= 0.90 accuracy and beats
the unidirectional one by >= 0.25, with >= 0.97 on all words. The pieces are checked
too: the generator's tags are valid B/I/O and its ambiguous words really are ambiguous
from the left; a unidirectional tagger cannot see the future and a bidirectional one
can; padding changes nothing.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from example_runner import load, run_example

import tinygrad_rnn as tr

data = load("tagger_data")  # the example's generated sentences


@pytest.mark.slow
def test_quick_mode_bidirectional_beats_unidirectional(tmp_path: Path) -> None:
    result = run_example(["examples/tagger.py", "--quick", "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed") == 3
    assert "john  lives  in  salt  lake  city" in result.stdout
    assert (tmp_path / "tagger.png").stat().st_size > 1000


def test_help_explains_the_example() -> None:
    result = run_example(["examples/tagger.py", "--help"], timeout=60)
    assert result.returncode == 0
    for words in ("John lives in Salt Lake City", "bidirectional", "many-to-many", "lengths=",
                  "ignore_index", "--quick", "--device", "--hidden"):
        assert words in result.stdout


def test_tags_are_valid_bio_and_the_notes_sentence_is_tagged_as_in_002() -> None:
    vocab = set(data.vocabulary())
    rng = random.Random(2)
    found_notes_pattern = False
    for _ in range(2000):
        words, tags, flags = data.sentence(rng)
        assert len(words) == len(tags) == len(flags) and set(words) <= vocab
        names = [data.TAGS[t] for t in tags]
        assert names[0] == "B"  # every sentence starts with a person
        for prev, tag in zip(names, names[1:], strict=False):
            assert not (tag == "I" and prev == "O")
        for w, flag in zip(words, flags, strict=True):
            assert not flag or w in data.AMBIGUOUS
        if words[1:] == ["lives", "in", "salt", "lake", "city"]:
            found_notes_pattern = True
            assert names == ["B", "O", "O", "B", "I", "I"]
    assert found_notes_pattern


def test_ambiguous_words_need_the_right_context() -> None:
    """Every ambiguous word occurs after the same left context both as a name and not."""
    train, _ = data.make_datasets(3000, 10, seed=0)
    readings: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for words, tags, flags in train:
        for k, flag in enumerate(flags):
            if flag:
                readings[tuple(words[: k + 1])].add(tags[k])
    both = [left for left, seen in readings.items() if seen == {0, 1}]
    assert len(both) > 50  # many left contexts are followed by both readings
    assert {left[-1] for left in both} == set(data.AMBIGUOUS)


def test_unidirectional_tagger_cannot_see_the_future_and_bidirectional_can(device: str) -> None:
    tg = load("tagger")
    words = data.vocabulary()
    index = {w: i for i, w in enumerate(words)}
    sentences = ["mary likes olive oil", "mary likes olive smith"]
    for bidirectional in (False, True):
        tr.manual_seed(0)
        model = tg.Tagger(len(words), "lstm", 8, 12, bidirectional, device)
        ids, lengths, _ = tg.encode([(s.split(), [0] * 4, []) for s in sentences], index, device)
        with tr.no_grad():
            scores = model(ids, lengths).numpy()  # (T, B, 3)
        same_prefix = np.allclose(scores[:3, 0], scores[:3, 1], atol=1e-6)
        assert same_prefix == (not bidirectional)  # only the last word differs
        assert not np.allclose(scores[3, 0], scores[3, 1], atol=1e-6)


def test_padding_changes_nothing_for_either_direction(device: str) -> None:
    tg = load("tagger")
    words = data.vocabulary()
    index = {w: i for i, w in enumerate(words)}
    tr.manual_seed(1)
    model = tg.Tagger(len(words), "gru", 8, 12, True, device)
    batch = [(s.split(), [0] * len(s.split()), []) for s in tg.DEMO]
    ids, lengths, tags = tg.encode(batch, index, device)
    assert tags.numpy()[lengths[0]:, 0].tolist() == [tg.PAD_TAG] * (ids.shape[0] - lengths[0])
    with tr.no_grad():
        together = model(ids, lengths).numpy()
        for b, n in enumerate(lengths):
            alone_ids, _, _ = tg.encode([batch[b]], index, device)
            alone = model(alone_ids, [n]).numpy()
            np.testing.assert_allclose(together[:n, b], alone[:, 0], rtol=1e-5, atol=1e-6)


def test_both_models_get_the_same_output_width_and_the_bidirectional_fewer_parameters() -> None:
    tg = load("tagger")
    uni = tg.Tagger(50, "lstm", 8, 16, False, "cpu")
    bi = tg.Tagger(50, "lstm", 8, 16, True, "cpu")
    assert uni.read_out.weight.shape == bi.read_out.weight.shape == (3, 16)
    assert sum(p.numel() for p in bi.parameters()) < sum(p.numel() for p in uni.parameters())


def test_odd_hidden_is_refused() -> None:
    result = run_example(["examples/tagger.py", "--hidden", "7"], timeout=60)
    assert result.returncode == 2 and "even" in result.stderr
