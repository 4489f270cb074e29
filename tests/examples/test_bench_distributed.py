"""examples/bench_distributed.py: runs end to end under mpiexec and reports consistent numbers.

No timing is asserted (the machine is shared); the efficiencies must follow from the
step times as the docstring defines them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from example_runner import ROOT, run_example


@pytest.mark.slow
def test_quick_run_reports_both_scalings(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "distributed"))
    from mpi_launch import mpiexec

    mpiexec()  # skips, saying why, without mpi4py or mpiexec
    out = tmp_path / "dist.json"
    result = run_example(["examples/bench_distributed.py", "--quick", "--out", str(out)], timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(out.read_text())
    one = summary["strong_1"]["step_ms"]
    assert summary["strong_2"]["efficiency"] == pytest.approx(one / (2 * summary["strong_2"]["step_ms"]))
    assert summary["weak_2"]["efficiency"] == pytest.approx(one / summary["weak_2"]["step_ms"])
    assert summary["strong_2"]["local_batch"] * 2 == summary["weak_2"]["local_batch"] == 8
    assert summary["machine"]["latency_s"] > 0 and summary["machine"]["bandwidth_bytes_per_s"] > 0
    assert "ring model" in result.stdout and "| strong | 2 | 4 |" in result.stdout
