"""Samplers: the deterministic ones give PyTorch's indices; the random ones give a fresh,
seeded permutation every pass."""

from __future__ import annotations

import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.utils.data import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler


@pytest.mark.parametrize("n", [0, 1, 7, 12])
@pytest.mark.parametrize("batch_size", [1, 3, 5, 20])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_pytorch(n: int, batch_size: int, drop_last: bool) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import BatchSampler as TorchBatch
    from torch.utils.data import SequentialSampler as TorchSequential

    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = TorchBatch(TorchSequential(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(SequentialSampler(range(n))) == list(range(n)) and len(SequentialSampler(range(n))) == n
    del torch


def test_batch_sampler_takes_any_iterable_of_indices() -> None:
    assert list(BatchSampler([5, 3, 1, 2, 7], 2, False)) == [[5, 3], [1, 2], [7]]


@pytest.mark.parametrize(("args", "error", "message"), [
    ((0, False), ValueError, "BatchSampler: batch_size=0; expected a positive int"),
    ((True, False), ValueError, "batch_size=True; expected a positive int"),
    ((2.0, False), ValueError, "batch_size=2.0; expected a positive int"),
    ((2, 1), TypeError, "BatchSampler: drop_last=1 is a int; expected True or False"),
])
def test_batch_sampler_errors(args, error, message) -> None:
    with pytest.raises(error, match=message):
        BatchSampler(range(4), *args)


def test_random_sampler_draws_a_fresh_permutation_every_pass() -> None:
    sampler = RandomSampler(range(20), generator=tr.Generator().manual_seed(0))
    epochs = [list(sampler) for _ in range(3)]
    assert all(sorted(e) == list(range(20)) for e in epochs) and len(sampler) == 20
    assert epochs[0] != epochs[1] != epochs[2]
    again = RandomSampler(range(20), generator=tr.Generator().manual_seed(0))
    assert [list(again) for _ in range(3)] == epochs  # the same seed repeats the epochs


def test_random_sampler_without_generator_follows_manual_seed_and_not_the_other_way() -> None:
    tr.manual_seed(5)
    first = list(RandomSampler(range(30)))
    tr.manual_seed(5)
    assert list(RandomSampler(range(30))) == first
    state = tr.get_rng_state()
    list(RandomSampler(range(30), generator=tr.Generator()))
    assert tr.get_rng_state() == state  # a generator of its own leaves the global one alone


def test_random_sampler_more_samples_than_data_chains_permutations() -> None:
    sampler = RandomSampler(range(4), num_samples=10, generator=tr.Generator().manual_seed(1))
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 10
    assert sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3] and len(set(drawn[8:])) == 2
    fewer = list(RandomSampler(range(10), num_samples=3))
    assert len(fewer) == 3 and len(set(fewer)) == 3


def test_random_sampler_with_replacement() -> None:
    sampler = RandomSampler(range(3), replacement=True, num_samples=100, generator=tr.Generator().manual_seed(2))
    drawn = list(sampler)
    assert len(drawn) == 100 and set(drawn) == {0, 1, 2}  # repeats, every value in range
    assert list(RandomSampler(range(3), replacement=True, num_samples=100,
                              generator=tr.Generator().manual_seed(2))) == drawn


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"replacement": 1}, TypeError, "replacement=1 is a int; expected True or False"),
    ({"num_samples": 0}, ValueError, "num_samples=0; expected a positive int"),
    ({"generator": 3}, TypeError, "RandomSampler: generator is a builtins.int; expected a tr.Generator"),
])
def test_random_sampler_errors(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        RandomSampler(range(4), **kwargs)


def test_random_sampler_refuses_an_empty_dataset_as_pytorch_does() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.utils.data.RandomSampler([])
    with pytest.raises(ValueError, match="data_source is empty"):
        RandomSampler([])


def test_subset_random_sampler_permutes_the_given_indices() -> None:
    sampler = SubsetRandomSampler([10, 20, 30, 40], generator=tr.Generator().manual_seed(0))
    epochs = [list(sampler) for _ in range(4)]
    assert all(sorted(e) == [10, 20, 30, 40] for e in epochs) and len(sampler) == 4
    assert len({tuple(e) for e in epochs}) > 1


def test_a_sampler_without_iter_says_so() -> None:
    with pytest.raises(NotImplementedError, match="Sampler without __iter__"):
        iter(Sampler())
