"""Shared by the example tests: run an example as a user would, or import its module."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module (to test its pieces)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def run_example(args: list[str], timeout: float = 180, processes: int | None = None) -> subprocess.CompletedProcess:
    """``python <args>`` from the project root, one BLAS thread, output captured; with ``processes``,
    under ``mpiexec -n processes`` (the test is skipped, saying why, without mpi4py or mpiexec)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, *args]
    if processes is not None:
        sys.path.insert(0, str(ROOT / "tests" / "distributed"))
        from mpi_launch import environment, mpiexec

        command, env = [mpiexec(), "-n", str(processes), *command], environment()
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
