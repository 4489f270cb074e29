"""Shared fixtures: the ``device`` fixture runs a test on every backend it can.

* ``cpu``: NumPy.
* ``strict``: NumPy behind :class:`tests.strict_backend.StrictArray`, which refuses
  implicit conversion to NumPy as CuPy does; proves the package is backend-agnostic.
* ``cuda``: CuPy on a GPU; skipped, with the reason printed, where CuPy or a GPU is
  missing.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

import tinygrad_rnn as tr
from tinygrad_rnn.backend import register_backend

sys.path.insert(0, os.path.dirname(__file__))
from strict_backend import StrictBackend  # noqa: E402

register_backend(StrictBackend())

settings.register_profile(
    "default", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_CUDA_REASON = None


def _cuda_skip_reason() -> str | None:
    global _CUDA_REASON
    if _CUDA_REASON is None:
        try:
            tr.Tensor.zeros(1, device="cuda")
            _CUDA_REASON = ""
        except RuntimeError as e:
            _CUDA_REASON = f"CuPy backend not tested here: {e}"
    return _CUDA_REASON or None


@pytest.fixture(params=["cpu", "strict", "cuda"])
def device(request: pytest.FixtureRequest) -> str:
    if request.param == "cuda":
        reason = _cuda_skip_reason()
        if reason:
            pytest.skip(reason)
    return request.param


@pytest.fixture(autouse=True)
def _seed() -> None:
    tr.manual_seed(0)


def pytest_report_header(config: pytest.Config) -> list[str]:
    reason = _cuda_skip_reason()
    return ["cuda backend: " + (reason if reason else "CuPy and a GPU found; the cuda suite runs"),
            "distributed: " + _mpi_status()]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Shown with -q too: why the multi-process tests skipped, when they did."""
    status = _mpi_status()
    if "skip" in status:
        terminalreporter.write_line("distributed: " + status)


def _mpi_status() -> str:
    """Whether the multi-process tests (tests/distributed, mpiexec -n 2) can run, and if not why."""
    try:
        import mpi4py
    except ImportError:
        return "mpi4py is not installed, so the multi-process tests skip (pip install -e '.[distributed]')"
    import shutil

    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    if found is None:
        return f"mpi4py {mpi4py.__version__} but no mpiexec, so the multi-process tests skip"
    return f"mpi4py {mpi4py.__version__} and {found}; the multi-process tests run"
