"""The language pair of examples/translate.py, generated (no download).

Imported by translate.py (not a program of its own). The source is a small piece of
English: clauses of a subject, a verb, an object unless the verb is intransitive, and
maybe a prepositional phrase; adjectives here and there; one to three clauses joined by
"and" or "but". The target is an invented language with its own grammar, so
translating needs alignment AND reordering, not just a dictionary:

    English                                       target
    the big dog sees a small cat                  waku gon ga miro tin o mira
    the child feeds the fish near the old man     kiki ga nalu o oman sapa pe papa
    a bird sleeps but the king sings              tipi ga nemu ma kono ga uta

  * word order subject-object-verb: the verb moves to the end of its clause, past the
    object and the prepositional phrase;
  * adjectives follow their noun ("big dog" -> "waku gon");
  * no articles ("the", "a", "an" vanish), case particles instead: "ga" after the subject,
    "o" after the object;
  * postpositions instead of prepositions ("near the old man" -> "oman sapa pe");
  * clauses keep their order, joined by "i" (and) or "ma" (but).

Every word has one translation (the dictionaries below), so a sentence has exactly one
correct translation and exact match is a fair score. Sentences have 3 ("the dog
sleeps") to 35 words; the held-out "long" set is longer than every training sentence
but built from the same parts: the same one to three clauses, with more adjectives and
prepositional phrases.
"""

from __future__ import annotations

import random

NOUNS = {"dog": "waku", "cat": "miro", "bird": "tipi", "man": "oman", "woman": "sela", "child": "kiki",
         "teacher": "rema", "farmer": "pomo", "fish": "nalu", "horse": "hasu", "king": "kono", "baker": "fubi"}
ADJECTIVES = {"big": "gon", "small": "tin", "old": "sapa", "young": "nua", "red": "ura", "green": "liva",
              "happy": "jolo", "tired": "fasa"}
VERBS = {"sees": "mira", "follows": "sedo", "helps": "ayu", "finds": "tova", "likes": "ama", "calls": "voka",
         "feeds": "papa", "watches": "gardi"}
INTRANSITIVE = {"sleeps": "nemu", "runs": "kasa", "sings": "uta", "waits": "mato"}
PREPOSITIONS = {"with": "ko", "near": "pe", "behind": "dor"}
CONJUNCTIONS = {"and": "i", "but": "ma"}
ARTICLES = ("the", "a", "an")
SUBJECT, OBJECT = "ga", "o"  # the target's case particles

P_ADJECTIVE = 0.4  # each noun phrase has an adjective with this probability
P_PREPOSITION = 0.3  # each clause has a prepositional phrase with this probability
P_INTRANSITIVE = 0.3  # a clause has no object with this probability
MAX_CLAUSES = 3
_NOUNS, _ADJECTIVES, _VERBS, _INTRANSITIVE, _PREPOSITIONS = (list(d) for d in (NOUNS, ADJECTIVES, VERBS, INTRANSITIVE,
                                                                              PREPOSITIONS))

Sentence = tuple[list[str], list[str]]  # (source words, target words)


def article_before(word: str) -> str:
    """The indefinite article: "an" before a vowel ("an old man"), else "a"."""
    return "an" if word[0] in "aeiou" else "a"


def noun_phrase(rng: random.Random) -> tuple[list[str], list[str]]:
    """"the big dog" -> "waku gon": the article vanishes, the adjective follows the noun."""
    noun = rng.choice(_NOUNS)
    adjective = [rng.choice(_ADJECTIVES)] if rng.random() < P_ADJECTIVE else []
    article = rng.choice(("the", "a"))
    source = [article_before((*adjective, noun)[0]) if article == "a" else article, *adjective, noun]
    return source, [NOUNS[noun], *(ADJECTIVES[a] for a in adjective)]


def clause(rng: random.Random) -> tuple[list[str], list[str]]:
    """S V [O] [P NP] -> S ga [O o] [NP p] V: the verb goes last, the preposition after its noun."""
    subject = noun_phrase(rng)
    source, target = list(subject[0]), [*subject[1], SUBJECT]
    if rng.random() < P_INTRANSITIVE:
        verb = rng.choice(_INTRANSITIVE)
        source.append(verb)
        verb = INTRANSITIVE[verb]
    else:
        verb, object_ = rng.choice(_VERBS), noun_phrase(rng)
        source += [verb, *object_[0]]
        target += [*object_[1], OBJECT]
        verb = VERBS[verb]
    if rng.random() < P_PREPOSITION:
        preposition, place = rng.choice(_PREPOSITIONS), noun_phrase(rng)
        source += [preposition, *place[0]]
        target += [*place[1], PREPOSITIONS[preposition]]
    return source, [*target, verb]


def sentence(rng: random.Random, clauses: int | list[tuple[list[str], list[str]]]) -> Sentence:
    """A sentence of ``clauses`` clauses (a number, or the clauses themselves) joined by
    "and"/"but", and its translation."""
    if isinstance(clauses, int):
        if clauses < 1:
            raise ValueError(f"sentence: clauses={clauses}; expected at least 1")
        clauses = [clause(rng) for _ in range(clauses)]
    source, target = clauses[0]
    for more in clauses[1:]:
        conjunction = rng.choice(list(CONJUNCTIONS))
        source, target = [*source, conjunction, *more[0]], [*target, CONJUNCTIONS[conjunction], *more[1]]
    return source, target


def translate(source: list[str]) -> list[str]:
    """The reference translation of a source sentence, parsed by the grammar's rules.

    An independent implementation of the rules above (a parser instead of a generator):
    the tests check that it agrees with the generator. Raises ValueError on a word or
    word order the grammar does not produce.
    """
    words, k, out = list(source), 0, []

    def expect(table: dict[str, str] | tuple[str, ...], what: str) -> str:
        nonlocal k
        if k >= len(words) or words[k] not in table:
            raise ValueError(f"translate: expected {what} at word {k} of {' '.join(source)!r}")
        k += 1
        return table[words[k - 1]] if isinstance(table, dict) else ""

    def noun_phrase_() -> list[str]:
        if k + 1 < len(words) and words[k] in ("a", "an") and words[k] != article_before(words[k + 1]):
            raise ValueError(f"translate: expected {article_before(words[k + 1])!r} before {words[k + 1]!r} at "
                             f"word {k} of {' '.join(source)!r}")
        expect(ARTICLES, "an article")
        adjectives = []
        while k < len(words) and words[k] in ADJECTIVES:
            adjectives.append(expect(ADJECTIVES, "an adjective"))
        return [expect(NOUNS, "a noun"), *adjectives]

    while True:
        out += [*noun_phrase_(), SUBJECT]
        if k < len(words) and words[k] in INTRANSITIVE:
            verb = expect(INTRANSITIVE, "a verb")
        else:
            verb = expect(VERBS, "a verb")
            out += [*noun_phrase_(), OBJECT]
        if k < len(words) and words[k] in PREPOSITIONS:
            preposition = expect(PREPOSITIONS, "a preposition")
            out += [*noun_phrase_(), preposition]
        out.append(verb)
        if k == len(words):
            return out
        out.append(expect(CONJUNCTIONS, "'and', 'but' or the end"))


def vocabularies() -> tuple[list[str], list[str]]:
    """Source and target words; the first entries are the special tokens <pad>, <s>, </s>."""
    special = ["<pad>", "<s>", "</s>"]
    source = [*ARTICLES, *NOUNS, *ADJECTIVES, *VERBS, *INTRANSITIVE, *PREPOSITIONS, *CONJUNCTIONS]
    target = [SUBJECT, OBJECT, *NOUNS.values(), *ADJECTIVES.values(), *VERBS.values(), *INTRANSITIVE.values(),
              *PREPOSITIONS.values(), *CONJUNCTIONS.values()]
    return special + source, special + target


def length_range(clauses: int) -> tuple[int, int]:
    """The fewest and most source words of a sentence of ``clauses`` clauses."""
    shortest, longest = 3, 11  # "the dog sleeps", "the big dog sees the small cat near the old man"
    return clauses * (shortest + 1) - 1, clauses * (longest + 1) - 1


def make_datasets(n_train: int, n_test: int, max_train_len: int, max_test_len: int,
                  seed: int) -> tuple[list[Sentence], list[Sentence], list[Sentence]]:
    """Training pairs, held-out pairs of the training lengths, and longer held-out pairs.

    Training sentences have up to ``max_train_len`` source words; the "short" held-out
    set has the same lengths, and the "long" held-out set ``max_train_len`` + 1 ..
    ``max_test_len`` words: longer than any sentence seen in training. Each sentence
    first draws its number of clauses (evenly among the numbers that fit the lengths),
    then clauses until the length fits, so sentences of every number of clauses are
    common in every set. No held-out sentence occurs in training.

    Raises:
        ValueError: the lengths leave no room for a longer test set.
    """
    fewest, most = length_range(1)[0], length_range(MAX_CLAUSES)[1]
    if not fewest <= max_train_len < max_test_len <= most:
        raise ValueError(f"make_datasets: max_train_len={max_train_len}, max_test_len={max_test_len}; expected "
                         f"{fewest} <= max_train_len < max_test_len <= {most}")
    rng = random.Random(seed)

    def draw(lo: int, hi: int, exclude: set[str]) -> Sentence:
        fits = [c for c in range(1, MAX_CLAUSES + 1) if length_range(c)[0] <= hi and length_range(c)[1] >= lo]
        n = rng.choice(fits)
        while True:  # each clause drawn again until the rest still fit: fast even for 3 short clauses
            clauses, room = [], hi - (n - 1)  # source words left for the clauses, conjunctions aside
            for k in range(n):
                part = clause(rng)
                while len(part[0]) > room - length_range(1)[0] * (n - 1 - k):
                    part = clause(rng)
                clauses.append(part)
                room -= len(part[0])
            rng.shuffle(clauses)  # so that no position in the sentence holds only the short clauses
            pair = sentence(rng, clauses)
            if len(pair[0]) >= lo and " ".join(pair[0]) not in exclude:
                return pair

    train = [draw(1, max_train_len, set()) for _ in range(n_train)]
    seen = {" ".join(s) for s, _ in train}
    short = [draw(1, max_train_len, seen) for _ in range(n_test)]
    long = [draw(max_train_len + 1, max_test_len, seen) for _ in range(n_test)]
    return train, short, long
