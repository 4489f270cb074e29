"""Modes: the switches that change what ops do, in one small state object.

``config`` holds grad mode (do ops record themselves on the tape?), anomaly mode (do
ops check their results for NaN and Inf?), the labels recurrent layers put on the ops
they record (``"LSTM layer 0, time step 17"``), and a cache of the 0-d constants that
Python numbers become in arithmetic. It is one object per thread (``threading.local``),
as in PyTorch: ``no_grad`` in an evaluation thread leaves a training thread recording.

Every switch is set through one helper, :func:`using`, which restores the previous
value on exit; the public context managers below are one line each.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

RECORD, ANOMALY = 1, 2  # the bits of ``config.mode``


class _Config(threading.local):
    """The modes of the current thread. Each new thread starts with the defaults.

    ``grad_enabled`` (ops record themselves on the tape) and ``anomaly`` (ops check their
    results for NaN and Inf) are also kept together as the bits of ``mode``, so the hot
    path of every op reads one attribute.
    """

    def __init__(self) -> None:
        self.mode = RECORD
        self.labels: list[str] = []  # what recurrent layers say they are running
        self.in_backward: Any = None  # anomaly mode: the op whose backward is running
        self.scalars: dict[tuple, Any] = {}  # cached 0-d constants for Python numbers
        self.callbacks: list | None = None  # inside a backward pass: what runs when its walk ends

    @property
    def grad_enabled(self) -> bool:
        return bool(self.mode & RECORD)

    @grad_enabled.setter
    def grad_enabled(self, on: bool) -> None:
        self.mode = self.mode | RECORD if on else self.mode & ~RECORD

    @property
    def anomaly(self) -> bool:
        return bool(self.mode & ANOMALY)

    @anomaly.setter
    def anomaly(self, on: bool) -> None:
        self.mode = self.mode | ANOMALY if on else self.mode & ~ANOMALY


config = _Config()

# The version clock, one for the whole process (not per thread): every in-place change
# of any tensor takes the next tick (see ops/inplace.py).
VERSION_CLOCK = [0]


@contextlib.contextmanager
def using(**settings: Any) -> Iterator[None]:
    """Set attributes of ``config`` inside a ``with`` block, restore them afterwards.

    A ``@contextlib.contextmanager`` object is also a decorator, so every mode below works
    as ``with tr.no_grad():`` and as ``@tr.no_grad()``.
    """
    previous = {name: getattr(config, name) for name in settings}
    for name, value in settings.items():
        setattr(config, name, value)
    try:
        yield
    finally:
        for name, value in previous.items():
            setattr(config, name, value)


def no_grad() -> contextlib.AbstractContextManager:
    """``with tr.no_grad():`` (or ``@tr.no_grad()``): nothing inside is recorded."""
    return using(grad_enabled=False)


def enable_grad() -> contextlib.AbstractContextManager:
    """Turn recording back on inside a ``no_grad`` block."""
    return using(grad_enabled=True)


def set_grad_enabled(mode: bool) -> contextlib.AbstractContextManager:
    """Context manager: ops inside record on the tape iff ``mode``."""
    return using(grad_enabled=bool(mode))


def is_grad_enabled() -> bool:
    """True when ops record themselves on the tape (in this thread)."""
    return config.grad_enabled


def detect_anomaly() -> contextlib.AbstractContextManager:
    """``with tr.detect_anomaly():`` the first op whose forward or backward makes a NaN or
    Inf raises a ``FloatingPointError`` naming the op (and the layer's time step when a
    recurrent layer is running)."""
    return using(anomaly=True)


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread)."""
    return config.anomaly


@contextlib.contextmanager
def anomaly_context(label: str) -> Iterator[None]:
    """Label the ops recorded inside (e.g. ``"LSTM layer 0, time step 17"``); only
    anomaly mode reads the labels, so outside it this costs nothing."""
    if not config.anomaly:
        yield
        return
    config.labels.append(label)
    try:
        yield
    finally:
        config.labels.pop()
