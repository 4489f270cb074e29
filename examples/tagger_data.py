"""The sentences of examples/tagger.py, generated (no download), with their B/I/O tags.

Imported by tagger.py (not a program of its own). People (first name, maybe a surname),
places (one to three words), verbs, and ambiguous words ("salt", "new", "olive", ...)
that start a name half of the time: only the words AFTER them tell which.
"""

from __future__ import annotations

import random

from _common import held_out_split

TAGS = ("O", "B", "I")

FIRST_NAMES = ["john", "mary", "alice", "omar", "priya", "wei", "carlos", "fatima", "olga", "kenji", "anna", "david"]
SURNAMES = ["smith", "lee", "garcia", "khan", "parker", "jones", "novak", "tanaka", "brown", "silva"]
PLACES = ["boston", "paris", "chicago", "denver", "cairo", "lima", "kansas city", "san diego", "buenos aires"]
AMBIGUOUS = {  # word: (what follows when it starts a name, what follows when it is an ordinary word)
    "salt": (["lake city"], ["and pepper", "on fries", "water"]),
    "new": (["york", "orleans", "delhi"], ["shoes", "cars", "books"]),
    "little": (["rock"], ["dogs", "cakes", "houses"]),
    "long": (["beach"], ["walks", "books", "drives"]),
    "palm": (["springs"], ["trees", "oil"]),
    "green": (["bay"], ["tea", "apples"]),
    "grand": (["rapids"], ["pianos", "hotels"]),
    "olive": (SURNAMES, ["oil", "trees"]),
    "rose": (SURNAMES, ["gardens", "petals"]),
    "ginger": (SURNAMES, ["tea", "cookies"]),
    "pearl": (SURNAMES, ["earrings", "necklaces"]),
    "basil": (SURNAMES, ["pesto", "leaves"]),
}
OBJECT_VERBS = ["likes", "loves", "mentioned", "talked about", "remembers", "wrote about", "asked about"]
PLACE_VERBS = ["lives in", "moved to", "works in", "grew up in"]
ENDINGS = ["", "", "", "a lot", "last year", "with {person}"]


def _name(words: list[str]) -> tuple[list[str], list[str]]:
    return words, ["B"] + ["I"] * (len(words) - 1)


def _other(words: list[str]) -> tuple[list[str], list[str]]:
    return words, ["O"] * len(words)


def person(rng: random.Random) -> tuple[list[str], list[str]]:
    words = [rng.choice(FIRST_NAMES)] + ([rng.choice(SURNAMES)] if rng.random() < 0.5 else [])
    return _name(words)


def sentence(rng: random.Random) -> tuple[list[str], list[int], list[bool]]:
    """A generated sentence: words, tag ids, and which words are ambiguous from the left."""
    parts: list[tuple[list[str], list[str]]] = [person(rng)]
    ambiguous_at = -1  # index of the ambiguous word's part, if any
    if rng.random() < 0.3:  # "... lives in salt lake city": the verb already says a place follows
        parts.append(_other(rng.choice(PLACE_VERBS).split()))
        if rng.random() < 0.5:
            word = rng.choice([w for w, (names, _) in AMBIGUOUS.items() if names is not SURNAMES])
            parts.append(_name([word, *rng.choice(AMBIGUOUS[word][0]).split()]))
        else:
            parts.append(_name(rng.choice(PLACES).split()))
    else:  # "... likes ___": a person, a place or a thing may follow
        parts.append(_other(rng.choice(OBJECT_VERBS).split()))
        draw = rng.random()
        if draw < 0.25:
            parts.append(person(rng) if rng.random() < 0.5 else _name(rng.choice(PLACES).split()))
        else:
            word = rng.choice(list(AMBIGUOUS))
            names, things = AMBIGUOUS[word]
            ambiguous_at = len(parts)
            if draw < 0.625:
                parts.append(_name([word, *rng.choice(names).split()]))
            else:
                parts.append(_other([word, *rng.choice(things).split()]))
    ending = rng.choice(ENDINGS)
    if ending.startswith("with"):
        parts += [_other(["with"]), person(rng)]
    elif ending:
        parts.append(_other(ending.split()))
    words, tags, flags = [], [], []
    for k, (ws, ts) in enumerate(parts):
        words += ws
        tags += [TAGS.index(t) for t in ts]
        flags += [k == ambiguous_at and j == 0 for j in range(len(ws))]
    return words, tags, flags


def vocabulary() -> list[str]:
    """Every word the generator can produce; index 0 is padding."""
    words = set(FIRST_NAMES) | set(SURNAMES) | set(AMBIGUOUS) | {"with"}
    for phrase in PLACES + OBJECT_VERBS + PLACE_VERBS + [e for e in ENDINGS if e and "{" not in e]:
        words.update(phrase.split())
    for names, things in AMBIGUOUS.values():
        for phrase in names + things:
            words.update(phrase.split())
    return ["<pad>", *sorted(words)]


def make_datasets(n_train: int, n_test: int, seed: int) -> tuple[list, list]:
    """Training sentences, and held-out sentences none of which occurs in training."""
    return held_out_split(sentence, n_train, n_test, seed)
