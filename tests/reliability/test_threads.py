"""Modes are per thread, as in PyTorch: one thread's no_grad or detect_anomaly leaves
every other thread as it was. The random generator is one per process (shared)."""

from __future__ import annotations

import threading

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim


def test_an_evaluator_thread_in_no_grad_does_not_stop_a_trainer_from_recording() -> None:
    tr.manual_seed(0)
    model = nn.LSTM(3, 4)
    opt = optim.SGD(model.parameters(), lr=0.01)
    x = Tensor.randn(5, 2, 3)
    stop, failures, steps = threading.Event(), [], [0]
    inside = threading.Event()

    def evaluator() -> None:
        while not stop.is_set():
            with tr.no_grad():
                inside.set()
                model(x)

    def trainer() -> None:
        inside.wait(5)
        for _ in range(60):
            try:
                opt.zero_grad()
                out, _ = model(x)
                (out * out).mean().backward()
                opt.step()
                steps[0] += 1
            except Exception as e:  # pragma: no cover - the failure being tested for
                failures.append(repr(e))

    threads = [threading.Thread(target=evaluator), threading.Thread(target=trainer)]
    for t in threads:
        t.start()
    threads[1].join(60)
    stop.set()
    threads[0].join(60)
    assert failures == [] and steps[0] == 60
    assert tr.is_grad_enabled()


def test_overlapping_no_grad_blocks_in_two_threads_restore_each_thread() -> None:
    entered = [threading.Event(), threading.Event()]
    leave_first = threading.Event()
    seen = {}

    def first() -> None:
        with tr.no_grad():
            entered[0].set()
            entered[1].wait(5)
            leave_first.wait(5)
        seen["first after"] = tr.is_grad_enabled()

    def second() -> None:
        entered[0].wait(5)
        with tr.no_grad():
            entered[1].set()
            seen["second inside"] = tr.is_grad_enabled()
        leave_first.set()  # the second block ends while the first is still open
        seen["second after"] = tr.is_grad_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"second inside": False, "second after": True, "first after": True}
    assert tr.is_grad_enabled()


def test_anomaly_mode_is_per_thread() -> None:
    result = {}

    def other() -> None:
        result["anomaly in other thread"] = tr.config.is_anomaly_enabled()

    with tr.detect_anomaly():
        t = threading.Thread(target=other)
        t.start()
        t.join(10)
        assert tr.config.is_anomaly_enabled()
    assert result == {"anomaly in other thread": False}
