"""Two processes under ``mpiexec`` against one process on whole batches (tests/distributed/worker.py).

Each launch costs a few seconds, so one launch runs every training scenario, and the
files it writes are read by several tests: equivalence (eager, tr.jit, no_sync
accumulation, an uneven last batch), checkpoints (saved by rank 0 under 2 processes,
resumed under 2 and under 1), the overlap of communication with the backward pass, and
a failing rank. Skipped, with the reason, where mpi4py or mpiexec is missing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from mpi_launch import WORKER, check, mpiexec, run

import tinygrad_rnn as tr

pytestmark = pytest.mark.slow
SCENARIOS = ("eager", "jit", "accumulate", "uneven")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The worker's files: ``one`` (alone: the reference), ``two`` (mpiexec -n 2), and both resumes."""
    mpiexec()
    out = {name: tmp_path_factory.mktemp(name) for name in ("one", "two", "resume_one")}
    check(run([str(WORKER), "train", str(out["one"])], None))
    check(run([str(WORKER), "train", str(out["two"])], 2))
    check(run([str(WORKER), "resume", str(out["two"])], 2))
    (out["resume_one"] / "step10.npz").write_bytes((out["two"] / "step10.npz").read_bytes())
    check(run([str(WORKER), "resume", str(out["resume_one"])], None))
    return out


def load(folder: Path, name: str, rank: int = 0, optimizer: bool = False) -> dict:
    """The parameters (and, with ``optimizer``, Adam's state) a rank ended a scenario with."""
    state = tr.load(folder / f"{name}_rank{rank}.npz")
    return {k: v for k, v in state.items() if optimizer or k.startswith("model/")}


def largest_difference(a: dict, b: dict) -> float:
    assert sorted(a) == sorted(b)
    return max(float(abs(a[k] - b[k]).max()) for k in a)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_two_processes_on_half_batches_match_one_on_whole_batches(runs: dict[str, Path], scenario: str) -> None:
    """20 steps of LSTM + Adam + clipping, float64: the same parameters to 1e-12 (ranks: bit for bit)."""
    one, two = load(runs["one"], scenario), load(runs["two"], scenario)
    assert largest_difference(load(runs["two"], scenario, 0), load(runs["two"], scenario, 1)) == 0.0
    assert largest_difference(one, two) < 1e-12
    assert largest_difference(load(runs["two"], "at10"), load(runs["two"], "eager")) > 1e-3  # it trained


def test_jit_replays_the_collectives_bit_for_bit(runs: dict[str, Path]) -> None:
    info = json.loads((runs["two"] / "jit.json").read_text())
    assert info == {"records": 1, "replays": 19}
    assert largest_difference(load(runs["two"], "jit"), load(runs["two"], "eager")) == 0.0


def test_uneven_last_batch_ran_twenty_steps(runs: dict[str, Path]) -> None:
    assert json.loads((runs["two"] / "uneven.json").read_text()) == {"steps": 20}


def test_checkpoint_of_two_processes_resumes_under_two_bit_for_bit(runs: dict[str, Path]) -> None:
    for rank in (0, 1):
        assert largest_difference(load(runs["two"], "resumed", rank, True), load(runs["two"], "eager", 0, True)) == 0.0


def test_checkpoint_of_two_processes_resumes_under_one(runs: dict[str, Path]) -> None:
    """The state loads bit for bit; one process then continues as the two did (to 1e-12)."""
    assert largest_difference(load(runs["resume_one"], "loaded", 0, True), load(runs["two"], "at10", 0, True)) == 0.0
    assert largest_difference(load(runs["resume_one"], "resumed"), load(runs["two"], "eager")) < 1e-12


def test_all_reduce_starts_while_the_backward_pass_runs(runs: dict[str, Path]) -> None:
    """After the first pass (buckets rebuilt in ready order), the first bucket's all-reduce
    starts in the first half of the backward walk, and several start before it ends."""
    steps = json.loads((runs["two"] / "overlap.json").read_text())[1:]
    assert steps and all(step["buckets"] >= 4 for step in steps)
    fractions = []
    for step in steps:
        begin = step["backward_begin"]
        starts = [t for what, _, t in step["events"] if what == "start"]
        walk_end = next(t for what, _, t in step["events"] if what == "walk_end")
        assert len(starts) == step["buckets"]
        assert sum(t < walk_end for t in starts) == len(starts)
        fractions.append((starts[0] - begin) / (walk_end - begin))
    assert sorted(fractions)[len(fractions) // 2] < 0.5, fractions


@pytest.mark.parametrize("how, says", [
    ("raise", "rank 1 of 2 (pid {}) raised ValueError: deliberate failure at step 5"),
    ("exit", "rank 1 exited without calling destroy_process_group()"),
    ("hang", "it waited 3 s for the other processes"),
    ("early", "Timeout (0:00:03)!{}in _start_mpi_waiting_for_every_process"),
])
def test_a_failing_rank_ends_the_job_with_a_message(tmp_path: Path, how: str, says: str) -> None:
    """Raise: the rank aborts the job. sys.exit: the rank waiting for it aborts after a short
    grace. Hang: the collective's timeout (3 s here) aborts. A rank that fails before
    init_process_group: the others' start-up timer ends them. Each within 60 s, non-zero."""
    start = time.monotonic()
    result = run([str(WORKER), how, str(tmp_path)], 2, timeout=90, timeout_s=3)
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    assert elapsed < 60
    before, _, after = says.partition("{}")
    assert before in result.stderr and after in result.stderr, result.stderr[-2000:]
