"""DistributedSampler: disjoint, equal shares that together cover the dataset; PyTorch as oracle."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.distributed import DistributedSampler, sampler


def shares(n: int, replicas: int, **kwargs: object) -> list[list[int]]:
    return [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, **kwargs)) for r in range(replicas)]


@given(st.integers(0, 40), st.integers(1, 6), st.booleans(), st.booleans(), st.integers(0, 5))
def test_shares_are_equal_and_cover_the_dataset(n: int, replicas: int, shuffle: bool, drop_last: bool,
                                                epoch: int) -> None:
    samplers = [DistributedSampler(range(n), replicas, r, shuffle=shuffle, seed=3, drop_last=drop_last)
                for r in range(replicas)]
    for s in samplers:
        s.set_epoch(epoch)
    parts = [list(s) for s in samplers]
    lengths = {len(p) for p in parts} | {len(s) for s in samplers}
    assert len(lengths) == 1
    everything = [i for p in parts for i in p]
    if drop_last:
        assert len(everything) == n - n % replicas and len(set(everything)) == len(everything)
    else:
        assert set(everything) == set(range(n)) and len(everything) == -(-n // replicas) * replicas


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 4, False), (10, 4, True), (3, 5, False), (12, 3, False),
                                                    (7, 2, True), (1, 3, False)])
def test_unshuffled_shares_match_pytorch(n: int, replicas: int, drop_last: bool) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as Reference

    for r in range(replicas):
        expected = list(Reference(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last))
        assert list(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)) == expected
    assert torch is not None


def test_shuffle_depends_on_seed_and_epoch_only() -> None:
    a, b = shares(50, 2, seed=1), shares(50, 2, seed=1)
    assert a == b and a != shares(50, 2, seed=2)
    s = DistributedSampler(range(50), 2, 0, seed=1)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first
    s.set_epoch(0)
    assert list(s) == first
    assert list(DistributedSampler(range(5), 1, 0, shuffle=False)) == [0, 1, 2, 3, 4]


def test_epochs_reshuffle_the_same_way_on_every_rank() -> None:
    samplers = [DistributedSampler(range(20), 2, r, seed=0) for r in range(2)]
    for epoch in range(3):
        for s in samplers:
            s.set_epoch(epoch)
        assert sorted(list(samplers[0]) + list(samplers[1])) == list(range(20))


def test_defaults_come_from_the_process_group(single: None) -> None:
    s = DistributedSampler(range(6), shuffle=False)
    assert (s.num_replicas, s.rank, list(s)) == (1, 0, [0, 1, 2, 3, 4, 5])


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="int without len"):
        DistributedSampler(5, 2, 0)
    with pytest.raises(ValueError, match=r"rank=2; expected an int in \[0, 1\]"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="num_replicas=0"):
        DistributedSampler(range(4), 0, 0)
    with pytest.raises(TypeError, match="rank=1.0"):
        DistributedSampler(range(4), 2, 1.0)
    with pytest.raises(TypeError, match="epoch='1'"):
        DistributedSampler(range(4), 2, 0).set_epoch("1")
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
    assert tr.distributed.is_initialized() is False


def test_docstring_example_runs() -> None:
    assert doctest.testmod(sampler).failed == 0
