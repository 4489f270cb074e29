"""The bucketed, weighted gradient average (tinygrad_rnn/distributed/reducer.py), with stand-in groups.

A stand-in group plays "the other rank": its all-reduce adds a flat array that another
process would have sent, so the weighting, the presence flags and the bucket order are
checked in one process. The real thing, under mpiexec, is in test_mpi.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.distributed.group import LocalGroup, Work
from tinygrad_rnn.distributed.reducer import Reducer, make_buckets

F = nn.functional


class OtherRank(LocalGroup):
    """Two ranks: the other one sends ``other(flat)`` (a function of our flat array)."""

    size = 2

    def __init__(self, other: Any) -> None:
        self.other, self.started = other, []

    def start_all_reduce(self, array: Any, op: str, device: Any) -> Work:
        self.started.append(array.size)
        total = array + self.other(array)
        return Work(lambda: total)

    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        return obj


def lstm_model(dtype: str = "float64") -> tuple[nn.Module, ...]:
    tr.manual_seed(0)
    return nn.Embedding(12, 4).to(dtype=dtype), nn.LSTM(4, 6).to(dtype=dtype), nn.Linear(6, 12).to(dtype=dtype)


def step(modules: tuple, ids: list[list[int]]) -> None:
    emb, lstm, head = modules
    x = Tensor(ids)
    F.cross_entropy(head(lstm(emb(x))[0]), x).backward()


def params(modules: tuple) -> list[Tensor]:
    return [p for m in modules for p in m.parameters()]


def test_buckets_split_at_the_cap_and_at_dtype_changes() -> None:
    a, b, c = Tensor.zeros(100, requires_grad=True), Tensor.zeros(100, requires_grad=True), Tensor.zeros(300, requires_grad=True)
    d = Tensor.zeros(10, requires_grad=True, dtype="float64")
    buckets = make_buckets([a, b, c, d], cap_bytes=1000)  # 400 + 400 bytes fit, 1200 alone, float64 apart
    assert [[id(p) for p in bk.params] for bk in buckets] == [[id(a), id(b)], [id(c)], [id(d)]]
    assert (buckets[0].offsets, buckets[0].length) == ([0, 100], 200)


def test_same_gradient_on_both_ranks_averages_to_itself() -> None:
    plain, wrapped = lstm_model(), lstm_model()
    reducer = Reducer(params(wrapped), OtherRank(lambda flat: flat.copy()), bucket_cap_bytes=500)
    ids = [[2, 3, 4], [5, 6, 7]]
    for modules in (plain, wrapped):
        step(modules, ids)
    for p, q in zip(params(plain), params(wrapped), strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert len(reducer.group.started) == len(reducer.buckets) > 3


def test_average_is_weighted_by_sample_count() -> None:
    """Ours: weight 3, gradient g. Theirs: weight 1, gradient 0 (a rank whose loss ignores us)."""
    plain, wrapped = lstm_model(), lstm_model()
    group = OtherRank(lambda flat: flat * 0.0)  # zeros everywhere: weight 0 and presence 0 too...
    reducer = Reducer(params(wrapped), group, bucket_cap_bytes=1e9)

    def other(flat: Any) -> Any:  # ...except the other rank's weight (1) and presence flags (1)
        sent = flat * 0.0
        sent[reducer.buckets[0].length:] = 1.0
        return sent
    group.other = other
    reducer.sample_count = 3
    ids = [[2, 3, 4], [5, 6, 7]]
    for modules in (plain, wrapped):
        step(modules, ids)
    for p, q in zip(params(plain), params(wrapped), strict=True):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy() * 3 / 4, rtol=1e-15, atol=0)


def test_a_parameter_no_rank_used_keeps_no_gradient() -> None:
    used, unused = Tensor([1.0, 2.0], requires_grad=True), Tensor([5.0], requires_grad=True)
    Reducer([used, unused], OtherRank(lambda flat: flat.copy()), bucket_cap_bytes=1e9)
    (used * used).sum().backward()
    assert unused.grad is None and used.grad.tolist() == [2.0, 4.0]


def test_buckets_are_rebuilt_in_the_order_gradients_became_ready() -> None:
    modules = lstm_model()
    reducer = Reducer(params(modules), LocalGroup(), bucket_cap_bytes=1)  # one parameter per bucket
    first = [bk.params[0] for bk in reducer.buckets]
    step(modules, [[2, 3, 4]])
    assert reducer.rebuilt
    emb, lstm, head = modules
    order = [bk.params[0] for bk in reducer.buckets]
    assert first[0] is head.bias and first[2] is lstm.bias_hh_l0  # registration order, reversed
    assert order[-1] is emb.weight
    assert {id(p) for p in order[:2]} == {id(head.weight), id(head.bias)}


def test_collectives_start_in_bucket_order_before_the_walk_ends() -> None:
    modules = lstm_model()
    reducer = Reducer(params(modules), LocalGroup(), bucket_cap_bytes=1)
    for _ in range(2):
        for p in params(modules):
            p.grad = None
        step(modules, [[2, 3, 4, 5, 6, 7, 8, 9]] * 4)
    starts = [(bucket, t) for what, bucket, t in reducer.timeline if what == "start"]
    walk_end = next(t for what, _, t in reducer.timeline if what == "walk_end")
    assert [b for b, _ in starts] == list(range(len(reducer.buckets)))
    assert starts[0][1] < starts[-1][1] <= walk_end


def test_no_sync_starts_nothing_and_accumulates() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    group = OtherRank(lambda flat: flat.copy())
    reducer = Reducer([w], group, bucket_cap_bytes=1e9)
    reducer.sync = False
    (w * w).sum().backward()
    assert group.started == [] and w.grad.tolist() == [2.0, 4.0]
    reducer.sync = True
    (w * 3.0).sum().backward()
    assert group.started == [4] and w.grad.tolist() == [5.0, 7.0]  # 2 values, the weight, 1 flag


def test_jit_replays_the_collectives() -> None:
    eager, jitted = lstm_model(), lstm_model()
    groups = [OtherRank(lambda flat: flat * 0.5), OtherRank(lambda flat: flat * 0.5)]
    reducers = [Reducer(params(m), g, bucket_cap_bytes=400) for m, g in zip((eager, jitted), groups, strict=True)]
    ids = Tensor([[2, 3, 4], [5, 6, 7]])

    @tr.jit
    def gradients(x: Tensor) -> Tensor:
        for m in jitted:
            m.zero_grad()
        loss = F.cross_entropy(jitted[2](jitted[1](jitted[0](x))[0]), x)
        loss.backward()
        return loss

    for _ in range(3):
        for p in params(eager):
            p.grad = None
        step(eager, ids.tolist())
        gradients(ids)
        for p, q in zip(params(eager), params(jitted), strict=True):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert gradients.replays == 2
    assert len(groups[1].started) == len(groups[0].started)
    assert reducers[1].stats["passes"] == 1  # the Python of the pass ran once; replays ran its recorded calls


def test_reducer_dropped_removes_its_hooks() -> None:
    from tinygrad_rnn import ready_hooks

    w = Tensor([1.0], requires_grad=True)
    reducer = Reducer([w], LocalGroup(), bucket_cap_bytes=1e9)
    assert id(w) in ready_hooks._HOOKS
    del reducer
    assert id(w) not in ready_hooks._HOOKS


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradients_keep_their_dtype(dtype: str) -> None:
    modules = lstm_model(dtype)
    Reducer(params(modules), OtherRank(lambda flat: flat.copy()), bucket_cap_bytes=1e9)
    step(modules, [[2, 3]])
    assert {str(p.grad.dtype) for p in params(modules)} == {dtype}
