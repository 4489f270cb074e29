"""tr.Generator: a seeded generator of one's own, with PyTorch's methods; the global
generator and tr.manual_seed."""

from __future__ import annotations

import doctest

import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import random
from tinygrad_rnn.random import DEFAULT_SEED, Generator, integers_list, permutation_list


def test_the_same_seed_gives_the_same_draws_and_another_seed_others() -> None:
    a, b, c = Generator().manual_seed(0), Generator().manual_seed(0), Generator().manual_seed(1)
    draws = [permutation_list(50, a), integers_list(10, 20, a)]
    assert draws == [permutation_list(50, b), integers_list(10, 20, b)]
    assert permutation_list(50, c) != draws[0]
    assert sorted(draws[0]) == list(range(50)) and all(0 <= i < 10 for i in draws[1])


def test_a_fresh_generator_starts_from_pytorchs_default_seed() -> None:
    torch = pytest.importorskip("torch")
    assert Generator().initial_seed() == torch.Generator().initial_seed() == DEFAULT_SEED
    assert permutation_list(10, Generator()) == permutation_list(10, Generator().manual_seed(DEFAULT_SEED))


def test_methods_return_what_pytorchs_return() -> None:
    g = Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    new_seed = g.seed()
    assert isinstance(new_seed, int) and g.initial_seed() == new_seed
    state = g.get_state()
    first = permutation_list(8, g)
    assert g.set_state(state) is g and permutation_list(8, g) == first
    assert g.device == "cpu" and Generator(device="cuda").device == "cuda"
    assert repr(Generator().manual_seed(3)) == "tr.Generator(device='cpu', initial_seed=3)"


def test_a_generator_draws_apart_from_the_global_one() -> None:
    tr.manual_seed(0)
    state = tr.get_rng_state()
    permutation_list(10, Generator())
    assert tr.get_rng_state() == state
    tr.manual_seed(0)
    expected = permutation_list(10)
    tr.manual_seed(0)
    assert permutation_list(10, None) == expected  # None: the global generator


def test_states_move_between_the_global_generator_and_a_generator() -> None:
    tr.manual_seed(9)
    g = Generator().set_state(tr.get_rng_state())
    assert permutation_list(12, g) == permutation_list(12)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: Generator().manual_seed(-1), ValueError, "Generator.manual_seed: expected a non-negative int, got -1"),
    (lambda: Generator().manual_seed("0"), ValueError, "expected a non-negative int, got '0'"),
    (lambda: Generator().manual_seed(True), ValueError, "got True"),
    (lambda: Generator(device="tpu"), ValueError, "Generator: device='tpu'; expected 'cpu' or 'cuda'"),
    (lambda: Generator().set_state({"bit_generator": "MT19937"}), ValueError, "expected a dict returned by"),
    (lambda: permutation_list(3, generator=0), TypeError, "generator is a builtins.int; expected a tr.Generator"),
])
def test_errors(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def test_a_refused_state_leaves_the_generator_as_it_was() -> None:
    g = Generator().manual_seed(5)
    state = g.get_state()
    with pytest.raises(ValueError):
        g.set_state("junk")
    assert g.get_state() == state


def test_docstring_examples_run() -> None:
    assert doctest.testmod(random).failed == 0
