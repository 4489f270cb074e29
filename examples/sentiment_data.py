"""The reviews of examples/sentiment.py, generated from small templates (no download).

Imported by sentiment.py (not a program of its own). Four kinds of review: plain,
negation ("not" flips the clause), contrast (two clauses of opposite feeling joined by
"but"; the clause after "but" decides) and agreement; a third open with a neutral
clause. Each review is (words, label, kind) with label 1 for positive.
"""

from __future__ import annotations

import random

from _common import held_out_split

# ------------------------------------------------------------------------------ data
NOUNS = {
    "food": ["food", "pasta", "pizza", "soup", "steak", "dessert", "coffee", "bread", "fish", "salad"],
    "people": ["waiter", "waitress", "staff", "service", "owner", "chef", "host"],
    "place": ["place", "room", "music", "atmosphere", "view", "terrace"],
}
ADJECTIVES = {  # (positive, negative) per kind of noun
    "food": (["delicious", "tasty", "fresh", "great", "good", "excellent", "amazing"],
             ["terrible", "bland", "awful", "bad", "cold", "stale", "disgusting"]),
    "people": (["friendly", "helpful", "lovely", "attentive", "great", "good", "polite"],
               ["rude", "annoying", "slow", "terrible", "awful", "bad", "careless"]),
    "place": (["lovely", "cozy", "beautiful", "nice", "great", "good", "charming"],
              ["noisy", "dirty", "annoying", "awful", "terrible", "bad", "gloomy"]),
}
GENERIC = (["great", "good", "lovely", "wonderful", "fantastic", "excellent"],
           ["terrible", "awful", "bad", "horrible", "disappointing", "annoying"])
TIME = (["good", "great", "lovely", "wonderful", "fantastic"], ["terrible", "awful", "bad", "horrible", "miserable"])
INTENSIFIERS = ["", "", "", "just", "really", "very", "so", "truly", "pretty"]
NOT_INTENSIFIERS = ["", "", "very", "really", "that"]  # what reads well after "not"
PLURAL = {"staff"}  # "the staff were ..."
NEUTRAL = [  # clauses that carry no feeling; they make reviews longer and the feeling harder to find
    "we went there on a friday", "we came for lunch", "we sat by the window", "my friend ordered the fish",
    "it was our first visit", "we had a table for two", "we came with the kids", "i went there last week",
]
NOTES_SENTENCES = ["the food was just terrible", "it was great", "i had a good time but the waiter was annoying"]
EXTRA_SENTENCES = ["the food was not bad", "the waiter was annoying but i had a good time",
                   "we came for lunch and the pasta was delicious but the staff were rude", "i would not come back"]
KINDS = ("plain", "negation", "contrast", "agreement")


def _pick(rng: random.Random, words: list[str]) -> list[str]:
    word = rng.choice(words)
    return [word] if word else []


def clause(rng: random.Random, polarity: int, negate: bool) -> list[str]:
    """One clause whose feeling is ``polarity`` (+1 / -1); ``negate`` says it so with "not"."""
    said = -polarity if negate else polarity  # the adjective's own feeling before "not"
    side = 0 if said > 0 else 1
    form = rng.random()
    if form < 0.55:  # "the food was just terrible"
        kind = rng.choice(list(NOUNS))
        noun = rng.choice(NOUNS[kind])
        verb = "were" if noun in PLURAL else "was"
        middle = ["not", *_pick(rng, NOT_INTENSIFIERS)] if negate else _pick(rng, INTENSIFIERS)
        return ["the", noun, verb, *middle, rng.choice(ADJECTIVES[kind][side])]
    if form < 0.75:  # "it was great"
        middle = ["not", *_pick(rng, NOT_INTENSIFIERS)] if negate else _pick(rng, INTENSIFIERS)
        return ["it", "was", *middle, rng.choice(GENERIC[side])]
    if form < 0.92:  # "i had a good time" / "i did not have a good time"
        adjective = rng.choice(TIME[side])
        return ["i", "did", "not", "have", "a", adjective, "time"] if negate else ["i", "had", "a", adjective, "time"]
    # "i would come back" / "i would not come back" (no adjective: the verb carries it)
    return ["i", "would", "not", "come", "back"] if polarity < 0 else ["i", "would", "come", "back"]


def review(rng: random.Random) -> tuple[list[str], int, str]:
    """A generated review: (words, label 1 = positive / 0 = negative, kind).

    A third of the reviews start with a neutral clause ("we came for lunch and ...").
    """
    words, label, kind = opinion(rng)
    if rng.random() < 0.33:
        words = [*rng.choice(NEUTRAL).split(), "and", *words]
    return words, label, kind


def opinion(rng: random.Random) -> tuple[list[str], int, str]:
    """The review without its neutral opening: one or two clauses, the label and the kind."""
    polarity = rng.choice((1, -1))
    form = rng.random()
    if form < 0.45:
        negate = rng.random() < 0.4
        words = clause(rng, polarity, negate)
        return words, int(polarity > 0), "negation" if "not" in words else "plain"
    if form < 0.8:  # the clause after "but" decides
        first = clause(rng, -polarity, rng.random() < 0.25)
        second = clause(rng, polarity, rng.random() < 0.25)
        return [*first, "but", *second], int(polarity > 0), "contrast"
    first = clause(rng, polarity, rng.random() < 0.2)
    second = clause(rng, polarity, rng.random() < 0.2)
    return [*first, "and", *second], int(polarity > 0), "agreement"


def vocabulary() -> list[str]:
    """Every word the generator can produce; index 0 is padding."""
    words = {"the", "was", "were", "not", "it", "i", "had", "did", "have", "a", "time", "would", "come", "back",
             "but", "and"}
    for group in (NOUNS.values(), *[pair for pair in ADJECTIVES.values()], GENERIC, TIME):
        for ws in group:
            words.update(ws)
    words.update(w for w in INTENSIFIERS + NOT_INTENSIFIERS if w)
    words.update(w for sentence in NEUTRAL for w in sentence.split())
    return ["<pad>", *sorted(words)]


def make_datasets(n_train: int, n_test: int, seed: int) -> tuple[list, list]:
    """Training reviews, and held-out reviews none of which occurs in the training set."""
    return held_out_split(review, n_train, n_test, seed)
