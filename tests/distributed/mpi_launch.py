"""Shared by the distributed tests: find ``mpiexec`` and start ``worker.py`` under it (or alone)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parent / "worker.py"
INSTALL = "pip install -e '.[distributed]' (mpi4py and mpich)"


def mpiexec() -> str:
    """The ``mpiexec`` beside this Python (a venv's bin), else on PATH; skips the test, saying why, without it."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip(f"mpi4py is not installed, so no multi-process test runs here: {INSTALL}")
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip(f"mpi4py is installed but no mpiexec was found beside {sys.executable} or on PATH: {INSTALL}")
    return found


def environment() -> dict[str, str]:
    """One BLAS thread per process (2 processes share 2 cores), the package from this checkout,
    and no launcher variables inherited from an outer mpiexec."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "PMIX_", "OMPI_", "MPI_LOCAL"))}
    env.update(PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def run(args: list[str], processes: int | None, timeout: float = 120,
        timeout_s: float | None = None) -> subprocess.CompletedProcess:
    """``mpiexec -n processes python args`` (``python args`` alone when ``processes`` is None);
    ``timeout_s``: the collectives' timeout inside the job."""
    command = [sys.executable, *args]
    if processes is not None:
        command = [mpiexec(), "-n", str(processes), *command]
    env = environment()
    if timeout_s is not None:
        env["TINYGRAD_RNN_DIST_TIMEOUT"] = str(timeout_s)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def check(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
