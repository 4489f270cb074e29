"""``single``: a process group of one (what a script started without mpiexec gets)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.distributed.group import LAUNCHER_VARIABLES


@pytest.fixture
def single(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    tr.distributed.init_process_group("mpi")
    yield
    tr.distributed.destroy_process_group()
