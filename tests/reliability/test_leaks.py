"""No leaks: a training step's tape is freed when backward is done and the last reference
to it goes, so 2,000 LSTM training steps keep memory flat; and reference cycles (a hook
whose closure holds its tensor) never keep a graph alive past a garbage collection."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.autograd import Function


@contextmanager
def gc_disabled() -> Iterator[None]:
    """Only reference counting frees memory inside: a cycle would survive."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def tape_objects() -> int:
    """How many Tensors and recorded ops exist in the process right now."""
    return sum(issubclass(type(o), (Tensor, Function)) for o in gc.get_objects())  # type(): no proxies asked


def peak_rss_bytes() -> int:
    """The process's peak resident memory (0 where the OS does not say: Windows)."""
    try:
        import resource
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def lstm_trainer() -> tuple[Callable[[], float], list[Tensor]]:
    """One step of a tiny LSTM tagger (I=4, H=8, T=5, B=2): random batch, backward,
    clipping, Adam. Returns the step function and the parameters."""
    tr.manual_seed(0)
    lstm, head = nn.LSTM(4, 8), nn.Linear(8, 3)
    params = [*lstm.parameters(), *head.parameters()]
    opt = optim.Adam(params, lr=1e-3)

    def step() -> float:
        x = Tensor.randn(5, 2, 4)
        target = (Tensor.rand(5, 2) * 3).long()
        output, _ = lstm(x)
        loss = nn.functional.cross_entropy(head(output), target)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    return step, params


def test_2000_lstm_training_steps_keep_memory_flat() -> None:
    step, _ = lstm_trainer()
    with gc_disabled():  # a cycle per step would pile up here and be caught below
        for _ in range(200):  # warm-up: NumPy's and Python's allocator caches fill
            step()
        objects_before, peak_before = tape_objects(), peak_rss_bytes()
        for _ in range(1500):
            step()
        # The last 300 steps under tracemalloc (Python objects only: NumPy keeps a bounded
        # cache of small array buffers, which is not a leak).
        python_objects = [tracemalloc.DomainFilter(True, 0)]
        tracemalloc.start()
        try:
            for _ in range(20):
                step()
            start = tracemalloc.take_snapshot().filter_traces(python_objects)
            for _ in range(280):
                step()
            end = tracemalloc.take_snapshot().filter_traces(python_objects)
        finally:
            tracemalloc.stop()
        objects_after, peak_after = tape_objects(), peak_rss_bytes()
    growth = sum(stat.size_diff for stat in end.compare_to(start, "filename"))
    # One step records a few hundred tensors and ops (tens of kB): kept alive, that would be
    # thousands of extra objects, megabytes of traced Python memory and ~100 MB of RSS.
    # A few cached constants may appear; a leaked graph per step would be thousands over 1,800 steps.
    assert objects_after - objects_before <= 50, f"{objects_after - objects_before} tensors/ops outlived their step"
    assert growth < 256 * 1024, f"traced Python memory grew by {growth} bytes over 300 steps"
    assert peak_after - peak_before < 16 * 2**20, f"peak RSS grew by {(peak_after - peak_before) / 2**20:.1f} MiB"


def test_a_steps_graph_is_freed_by_reference_counting_alone(device: str) -> None:
    lstm = nn.LSTM(3, 4, device=device)
    with gc_disabled():
        x = Tensor.randn(6, 2, 3, device=device)
        output, (h, c) = lstm(x)
        loss = (output * output).mean() + c.sum()
        first_op, intermediate = weakref.ref(output._ctx), weakref.ref(output)
        loss.backward()
        del output, h, c
        assert intermediate() is not None  # still reachable from the loss: the tape is kept...
        del loss
        assert intermediate() is None and first_op() is None  # ...and gone with it, no gc needed
        assert all(p.grad is not None and p.grad._ctx is None for p in lstm.parameters())


def test_anomaly_mode_and_retain_grad_make_no_cycles() -> None:
    lstm = nn.LSTM(3, 4)
    with gc_disabled(), tr.detect_anomaly():
        output, _ = lstm(Tensor.randn(4, 1, 3))
        output.retain_grad()
        loss = output.sum()
        loss.backward()
        assert output.grad is not None
        probe = weakref.ref(loss._ctx)
        del output, loss
        assert probe() is None


def shape_logger(t: Tensor, seen: list) -> Callable[[Tensor], None]:
    """A hook whose closure holds the tensor it is registered on."""
    return lambda grad: seen.append((t.shape, grad.shape))


def test_a_hook_closure_holding_its_tensor_does_not_keep_the_graph_after_gc() -> None:
    seen = []
    w = Tensor.randn(3, 3, requires_grad=True)
    with gc_disabled():
        s = Tensor.zeros(3)
        states = []
        for _ in range(4):
            s = (w @ s + 1.0).tanh()
            states.append(s)
        s.register_hook(shape_logger(s, seen))  # s -> its hooks -> the closure -> s: a cycle
        first = weakref.ref(states[0])
        loss = s.sum()
        loss.backward()
        assert seen == [((3,), (3,))]
        del s, states, loss
        assert first() is not None  # the cycle holds the whole graph while gc is off...
    gc.collect()
    assert first() is None  # ...and a collection frees all of it
    assert w.grad is not None and w.grad._ctx is None


def test_zero_grad_releases_a_create_graph_tape() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w * w).sum().backward(create_graph=True)  # w.grad is on the tape, which holds w
    node = weakref.ref(w.grad._ctx)
    assert node() is not None
    w.grad = None  # what zero_grad does
    gc.collect()
    assert node() is None


@pytest.mark.parametrize("layer", ["RNN", "GRU", "ElmanRNN", "GatedRNN"])
def test_every_recurrent_layer_frees_its_tape(layer: str) -> None:
    model = getattr(nn, layer)(3, 4) if layer in ("RNN", "GRU") else getattr(nn, layer)(3, 4, 2)
    with gc_disabled():
        output = model(Tensor.randn(5, 2, 3), lengths=[5, 3])[0]
        probe = weakref.ref(output._ctx)
        output.sum().backward()
        del output
        assert probe() is None
